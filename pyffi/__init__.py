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

import importlib
from typing import TYPE_CHECKING, Any

from ._core._version import __version__
from ._core.errors import (
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
from ._core.paths import get_include

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers
    from . import csv, embed
    from ._chapters.array import Vector, create_array, process_dict, sort_array
    from ._chapters.backend import backend
    from ._chapters.callback import calc, map_f64, sort_by
    from ._chapters.compute import compute_heavy
    from ._chapters.record import Person, Point, create_struct, point_distance
    from ._chapters.scalar import (
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
    from ._chapters.text import to_lowercase, to_uppercase, unicode_version
    from ._loader import Callback, Library, Record, load
    from .csv import parse_csv_fast

# Loaded on first use: the chapters' backend (and its C library) only when a
# chapter name is used, the loader and the embedding library when theirs are.
_WHERE: dict[str, tuple[str, ...]] = {
    "._chapters.array": ("Vector", "create_array", "process_dict", "sort_array"),
    "._chapters.backend": ("backend",),
    "._chapters.callback": ("calc", "map_f64", "sort_by"),
    "._chapters.compute": ("compute_heavy",),
    "._chapters.record": ("Person", "Point", "create_struct", "point_distance"),
    "._chapters.scalar": (
        "add",
        "add_f32",
        "add_f64",
        "add_isize",
        "add_one",
        "add_u32",
        "divide",
        "get_char",
        "get_square_root",
        "get_unicode",
        "reverse_bool",
        "sum_as_string",
    ),
    "._chapters.text": ("to_lowercase", "to_uppercase", "unicode_version"),
    "._loader": ("Callback", "Library", "Record", "load"),
    ".csv": ("parse_csv_fast",),
}
# name -> (module, attribute); attribute None: the module itself
_LAZY: dict[str, tuple[str, str | None]] = {
    "csv": (".csv", None),
    "embed": (".embed", None),
    **{name: (module, name) for module, names in _WHERE.items() for name in names},
}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'pyffi' has no attribute {name!r}")
    module = importlib.import_module(where[0], __name__)
    value = module if where[1] is None else getattr(module, where[1])
    globals()[name] = value  # the next lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "unicode_version",
]
