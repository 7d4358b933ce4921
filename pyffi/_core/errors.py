"""The exception hierarchy: one class per C status, importable with no C library loaded.

Every failure the C core reports is a ``pyffi_status`` plus a per-thread
message. The status values come from ``_header``, generated at build time
from the header's ``PYFFI_STATUS_MAP``; each backend (the chapters', the
embedding library) turns a failed call into :func:`error_class` of its status
with its own thread's message. Each class also inherits the builtin exception
a Python user would reach for, so ``except OverflowError`` catches
:class:`OutOfRangeError`.
"""

from __future__ import annotations

from ._header import STATUS_NAMES

__all__ = [
    "CallbackError",
    "CompileError",
    "CsvError",
    "DeclarationError",
    "DivisionByZeroError",
    "DomainError",
    "Error",
    "InvalidArgumentError",
    "NoMemoryError",
    "OutOfRangeError",
    "PythonError",
    "Utf8Error",
    "error_class",
    "status_name",
]


def status_name(status: int) -> str:
    """The C enumerator of a status value (``"PYFFI_UNKNOWN"`` for one not in the table).

    >>> from pyffi._core.errors import status_name
    >>> status_name(3)
    'PYFFI_OVERFLOW'
    """
    return STATUS_NAMES.get(status, "PYFFI_UNKNOWN")


class Error(Exception):
    """Base class of every error raised for a failed pyffi call.

    ``status`` is the C status value and ``name`` its enumerator name.

    >>> try: pyffi.divide(1, 0)
    ... except pyffi.Error as e: print(e.name, e.status)
    PYFFI_DIVISION_BY_ZERO 4
    """

    #: The C enumerator this class stands for ("" for the base class).
    name: str = ""
    #: The C status value (set for the registered subclasses at import).
    status: int = -1

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
            self.name = status_name(status)


class NoMemoryError(Error, MemoryError):
    """The C core could not allocate memory (``PYFFI_NOMEM``)."""

    name = "PYFFI_NOMEM"


class InvalidArgumentError(Error, ValueError):
    """An argument has the right type but a value C cannot take (``PYFFI_INVALID_ARGUMENT``).

    >>> pyffi.get_unicode("\\ud800")
    Traceback (most recent call last):
    pyffi.InvalidArgumentError: get_unicode: U+D800 is a surrogate, not a character
    """

    name = "PYFFI_INVALID_ARGUMENT"


class OutOfRangeError(Error, OverflowError):
    """A value, argument or result, does not fit its C type (``PYFFI_OVERFLOW``).

    >>> pyffi.add(2**31 - 1, 1)
    Traceback (most recent call last):
    pyffi.OutOfRangeError: add: 2147483647 + 1 does not fit int32_t
    """

    name = "PYFFI_OVERFLOW"


class DivisionByZeroError(Error, ValueError, ZeroDivisionError):
    """Division by zero (``PYFFI_DIVISION_BY_ZERO``).

    >>> pyffi.divide(1, 0)
    Traceback (most recent call last):
    pyffi.DivisionByZeroError: Division by zero
    """

    name = "PYFFI_DIVISION_BY_ZERO"


class DomainError(Error, ValueError):
    """An argument outside the mathematical domain, e.g. sqrt(-1) (``PYFFI_DOMAIN``)."""

    name = "PYFFI_DOMAIN"


class Utf8Error(Error, ValueError):
    """Bytes that are not valid UTF-8; the message names the byte offset (``PYFFI_UTF8``).

    >>> pyffi.to_uppercase(b"ab\\xff")
    Traceback (most recent call last):
    pyffi.Utf8Error: to_uppercase: invalid UTF-8 at byte offset 2
    """

    name = "PYFFI_UTF8"


class CallbackError(Error, RuntimeError):
    """A C callback reported failure without a Python exception (``PYFFI_CALLBACK``).

    An exception raised by a Python callback is re-raised itself, never
    wrapped in this class; it is seen only when a callback written in C fails.
    """

    name = "PYFFI_CALLBACK"


class CsvError(Error, ValueError):
    """Malformed CSV in strict mode; the message gives the 1-based line and column (``PYFFI_CSV``).

    >>> pyffi.csv.read(b'a,"b"c\\n')
    Traceback (most recent call last):
    pyffi.CsvError: csv: line 1, column 6: 'c' after a closing quote (a delimiter or a line break was expected)
    """  # noqa: E501 - a doctest's output line

    name = "PYFFI_CSV"


class PythonError(Error, RuntimeError):
    """A Python exception inside pyffi's embedding library (``PYFFI_PYTHON``).

    The C side of :mod:`pyffi.embed` reports it; its message is
    ``"<function>: <type>: <message>"`` of the exception Python raised.
    """

    name = "PYFFI_PYTHON"


class DeclarationError(Error, ValueError):
    """pyffi.load could not read the declarations: the message names the file, the line
    and the text cffi refused (no C status: raised by the Python layer only)."""


class CompileError(Error, RuntimeError):
    """``pyffi.load(..., mode="api")`` could not build the library's extension: no C
    compiler, no Python headers, or the compiler's errors (quoted in the message)."""


_CLASSES: tuple[type[Error], ...] = (
    NoMemoryError,
    InvalidArgumentError,
    OutOfRangeError,
    DivisionByZeroError,
    DomainError,
    Utf8Error,
    CallbackError,
    CsvError,
    PythonError,
)

_VALUES = {name: value for value, name in STATUS_NAMES.items()}
for _cls in _CLASSES:
    _cls.status = _VALUES[_cls.name]

_BY_STATUS: dict[int, type[Error]] = {cls.status: cls for cls in _CLASSES}

# Shown (and pickled) as pyffi.X, where users find them.
for _shown in (Error, DeclarationError, CompileError, *_CLASSES):
    _shown.__module__ = "pyffi"


def error_class(status: int) -> type[Error]:
    """The exception class for a C status (the base :class:`Error` if none is registered)."""
    return _BY_STATUS.get(status, Error)
