"""pyffi: native code from Python done right, with cffi over a C core.

The C core (``include/pyffi.h``) is reached through one of two backends,
chosen at import by ``PYFFI_BACKEND``: the compiled cffi API-mode extension
(``"api"``, the default) or cffi ABI mode over the bundled ``libpyffi.so``
(``"abi"``, no compiler needed). ``pyffi.backend`` says which one is in use.

>>> import pyffi
>>> pyffi.add(11, 22)
33
"""

from __future__ import annotations

import os

from . import csv, embed
from ._array import Vector, create_array, process_dict, sort_array
from ._callback import calc, map_f64, sort_by
from ._compute import compute_heavy
from ._errors import (
    CallbackError,
    CompileError,
    CsvError,
    DeclarationError,
    DivisionByZeroError,
    DomainError,
    Error,
    InvalidArgumentError,
    NoMemoryError,
    OutOfRangeError,
    PythonError,
    Utf8Error,
)
from ._ffi import backend
from ._loader import Callback, Library, Record, load
from ._record import Person, Point, create_struct, point_distance
from ._scalar import (
    add,
    add_f32,
    add_f64,
    add_isize,
    add_one,
    add_u32,
    divide,
    get_char,
    get_square_root,
    get_unicode,
    reverse_bool,
    sum_as_string,
)
from ._text import to_lowercase, to_uppercase
from ._version import __version__
from .csv import parse_csv_fast

# Public classes are shown (and pickled) as pyffi.X, where users find them.
for _cls in (
    CallbackError,
    CompileError,
    CsvError,
    DeclarationError,
    Library,
    Record,
    DivisionByZeroError,
    DomainError,
    Error,
    InvalidArgumentError,
    NoMemoryError,
    OutOfRangeError,
    Person,
    Point,
    PythonError,
    Utf8Error,
    Vector,
):
    _cls.__module__ = __name__
del _cls


def get_include() -> str:
    """The directory holding the installed ``pyffi.h``, for ``-I`` or ``include_dirs``.

    >>> os.path.isfile(os.path.join(pyffi.get_include(), "pyffi.h"))
    True
    """
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


__all__ = [
    "Callback",
    "CallbackError",
    "CompileError",
    "CsvError",
    "DeclarationError",
    "DivisionByZeroError",
    "DomainError",
    "Error",
    "InvalidArgumentError",
    "Library",
    "NoMemoryError",
    "OutOfRangeError",
    "Person",
    "Point",
    "PythonError",
    "Record",
    "Utf8Error",
    "Vector",
    "__version__",
    "add",
    "add_f32",
    "add_f64",
    "add_isize",
    "add_one",
    "add_u32",
    "backend",
    "calc",
    "compute_heavy",
    "create_array",
    "create_struct",
    "csv",
    "divide",
    "embed",
    "get_char",
    "get_include",
    "get_square_root",
    "get_unicode",
    "load",
    "map_f64",
    "parse_csv_fast",
    "point_distance",
    "process_dict",
    "reverse_bool",
    "sort_array",
    "sort_by",
    "sum_as_string",
    "to_lowercase",
    "to_uppercase",
]
