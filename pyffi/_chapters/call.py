"""Calling the C core: the fast path for `result f(args...)` and clear argument errors.

cffi already converts and range-checks arguments (TypeError / OverflowError),
so the happy path does no Python-side checking at all: exceptions cost
nothing until raised. Only when cffi rejects an argument does
:func:`argument_error` work out which parameter it was and say so.
"""

from __future__ import annotations

import functools
import inspect
import operator
from typing import Any, Callable, TypeVar

from .._core.errors import OutOfRangeError
from .backend import ffi, lib, raise_status

__all__ = [
    "argument_error",
    "encode_utf8",
    "exact_ints",
    "index_argument",
    "is_integer",
    "param_ctypes",
    "result_call",
    "take_string",
]

F = TypeVar("F", bound=Callable[..., Any])


def param_ctypes(cfunc: Any, skip: int = 0) -> tuple[Any, ...]:
    """The C types of ``cfunc``'s parameters, after the first ``skip`` (out) ones."""
    return tuple(ffi.typeof(cfunc).args[skip:])


def _describe(ctype: Any) -> tuple[str, str]:
    """(what Python type is expected, the C type's range) for an argument's C type."""
    if ctype.kind == "primitive" and ctype.cname in ("float", "double"):
        return "float", f"a {ctype.cname}"
    if ctype.kind == "primitive" and ctype.cname == "_Bool":
        return "bool", "bool"
    if ctype.kind == "primitive" and ctype.cname == "char":
        return "bytes of length 1", "char"
    bits = 8 * ffi.sizeof(ctype)
    signed = int(ffi.cast(ctype, -1)) < 0
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    return "int", f"{ctype.cname} [{lo}, {hi}]"


def is_integer(ctype: Any) -> bool:
    """Whether an argument of C type ``ctype`` is an integer (not a float, bool or char)."""
    if ctype.kind == "enum":
        return True
    return ctype.kind == "primitive" and ctype.cname not in (
        "float",
        "double",
        "long double",
        "_Bool",
        "char",
        "wchar_t",
        "char16_t",
        "char32_t",
    )


def index_argument(func: str, param: str, value: object) -> int:
    """``value`` as an int the way CPython's C API takes one: through ``__index__``.

    cffi would also take ``__int__`` and truncate (``Decimal('2.7')`` -> 2); an exact
    int goes straight to cffi without coming here.
    """
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"{func}() argument '{param}' must be int, not {type(value).__name__}"
        ) from None


def exact_ints(func: str, what: str, items: list[Any]) -> list[Any]:
    """``items``, or a copy with each item through ``__index__`` if any is not an exact
    int (``what``: how an item is named, e.g. "list item"). One pass in C when all are."""
    if set(map(type, items)) <= {int}:
        return items
    out = []
    for i, x in enumerate(items):
        try:
            out.append(x if type(x) is int else operator.index(x))
        except TypeError:
            raise TypeError(f"{func}() {what} {i} must be int, not {type(x).__name__}") from None
    return out


def argument_error(
    func: str,
    names: tuple[str, ...],
    ctypes: tuple[Any, ...],
    args: tuple[Any, ...],
    exc: Exception,
) -> Exception:
    """The exception to raise when cffi rejected one of ``args``.

    Converts each argument on its own to find the culprit, and names it:
    ``add() argument 'a' = 2147483648 does not fit int32_t [-2147483648, 2147483647]``.
    A range error becomes :class:`pyffi.OutOfRangeError` (an OverflowError).
    """
    for name, ctype, value in zip(names, ctypes, args):
        expected, range_text = _describe(ctype)
        try:
            if value is None:  # ffi.new(T *, None) would zero-fill, not reject
                raise TypeError
            ffi.new(ffi.getctype(ctype, "*"), value)
        except TypeError:
            return TypeError(
                f"{func}() argument '{name}' must be {expected}, not {type(value).__name__}"
            )
        except OverflowError:
            return OutOfRangeError(
                f"{func}() argument '{name}' = {value!r} does not fit {range_text}",
                int(lib.PYFFI_OVERFLOW),
            )
    return exc


# One template serves every arity (the way dataclasses builds __init__): a
# closure with fixed parameters is ~100 ns faster per call than *args.
# The C function returns {status, value} by value: a fresh cdata per call, so
# nothing is shared between threads (cffi releases the GIL during the call)
# or with a signal handler re-entering the same function on this thread.
_TEMPLATE = """
def make(cfunc, fail, func, names, ctypes, index, int_):
    def call({params}):
{checks}        try:
            result = cfunc({params})
        except (TypeError, OverflowError) as exc:
            raise fail(func, names, ctypes, ({params},), exc) from None
        if result.status:
            raise_status(result.status)
        return result.value
    return call
"""


def _index_checks(names: tuple[str, ...], ctypes: tuple[Any, ...]) -> str:
    """The template's lines taking integer parameters through ``__index__`` only: an
    exact int passes a class test (10-15 ns; ``type(a) is int`` measured slower)."""
    return "".join(
        f"        if {p}.__class__ is not int_: {p} = index(func, names[{i}], {p})\n"
        for i, (p, ct) in enumerate(zip(names, ctypes))
        if is_integer(ct)
    )


def result_call(cfunc: Any) -> Callable[[F], F]:
    """Decorator: make a typed stub call ``pyffi_<T>_result cfunc(*args)``.

    The stub supplies the name, parameters, type hints and docstring; its body
    is never run. The call returns ``result.value``, or raises the exception
    for ``result.status``.
    """

    def decorate(stub: F) -> F:
        names = tuple(inspect.signature(stub).parameters)
        ctypes = param_ctypes(cfunc)
        namespace: dict[str, Any] = {"raise_status": raise_status}
        checks = _index_checks(names, ctypes)
        exec(_TEMPLATE.format(params=", ".join(names), checks=checks), namespace)
        call = namespace["make"](
            cfunc, argument_error, stub.__name__, names, ctypes, index_argument, int
        )
        return functools.update_wrapper(call, stub)  # type: ignore[return-value]

    return decorate


def take_string(ptr: Any, length: int) -> bytes:
    """Copy ``length`` bytes out of a string the library allocated, then free it.

    Short-lived results are copied and released at once (cheaper than
    ``ffi.gc``); the C pointer never escapes.
    """
    try:
        text: bytes = ffi.unpack(ptr, length)
        return text
    finally:
        lib.pyffi_string_free(ptr)


def encode_utf8(value: object, func: str, param: str) -> bytes:
    """The one str -> UTF-8 step: TypeError for a non-str, ValueError for a lone surrogate."""
    if not isinstance(value, str):
        raise TypeError(f"{func}() argument '{param}' must be str, not {type(value).__name__}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"{func}() argument '{param}' cannot be encoded as UTF-8: "
            f"{exc.reason} at index {exc.start}"
        ) from None
