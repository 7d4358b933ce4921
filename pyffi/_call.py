"""Calling the C core: the fast path for `status f(out, args...)` and clear argument errors.

cffi already converts and range-checks arguments (TypeError / OverflowError),
so the happy path does no Python-side checking at all: exceptions cost
nothing until raised. Only when cffi rejects an argument does
:func:`argument_error` work out which parameter it was and say so.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

from ._errors import OutOfRangeError, raise_status
from ._ffi import ffi, lib

__all__ = ["argument_error", "out_call", "param_ctypes", "take_string"]

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


def argument_error(func: str, names: tuple[str, ...], ctypes: tuple[Any, ...],
                   args: tuple[Any, ...], exc: Exception) -> Exception:
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
            return TypeError(f"{func}() argument '{name}' must be {expected}, "
                             f"not {type(value).__name__}")
        except OverflowError:
            return OutOfRangeError(f"{func}() argument '{name}' = {value!r} does not fit "
                                   f"{range_text}", int(lib.PYFFI_OVERFLOW))
    return exc


# One template serves every arity (the way dataclasses builds __init__): a
# closure with fixed parameters is ~100 ns faster per call than *args.
# Each wrapped function keeps a pool of out buffers: list.pop/append are
# atomic under the GIL, so a buffer is never shared by two threads (cffi
# releases the GIL during the call) nor by a signal handler or callback that
# re-enters the same function on this thread between the call and the read.
_TEMPLATE = """
def make(cfunc, out_ctype, new, fail, func, names, ctypes):
    pool = []
    pop = pool.pop
    push = pool.append
    def call({params}):
        try:
            out = pop()
        except IndexError:
            out = new(out_ctype)
        try:
            status = cfunc(out, {params})
        except (TypeError, OverflowError) as exc:
            push(out)
            raise fail(func, names, ctypes, ({params},), exc) from None
        value = out[0]
        push(out)
        if status:
            raise_status(status)
        return value
    return call
"""


def out_call(cfunc: Any, out_ctype: str) -> Callable[[F], F]:
    """Decorator: make a typed stub call ``status cfunc(out_ctype out, *args)``.

    The stub supplies the name, parameters, type hints and docstring; its body
    is never run. The result is ``out[0]``, or the status's exception.
    """
    def decorate(stub: F) -> F:
        names = tuple(inspect.signature(stub).parameters)
        namespace: dict[str, Any] = {"raise_status": raise_status}
        exec(_TEMPLATE.format(params=", ".join(names)), namespace)  # noqa: S102
        call = namespace["make"](cfunc, out_ctype, ffi.new, argument_error, stub.__name__,
                                 names, param_ctypes(cfunc, skip=1))
        return functools.update_wrapper(call, stub)  # type: ignore[return-value]
    return decorate


def take_string(ptr: Any, length: int) -> bytes:
    """Copy ``length`` bytes out of a string the library allocated, then free it.

    Short-lived results are copied and released at once (cheaper than
    ``ffi.gc``); the C pointer never escapes.
    """
    try:
        return ffi.unpack(ptr, length)
    finally:
        lib.pyffi_string_free(ptr)
