"""C calling Python: calc, sort_by, map_f64, and the callback machinery.

How an exception raised inside a callback gets out (pygit2's pattern):

1. each call makes its state (the Python callable, and a slot for an
   exception: :func:`pending`) and passes it to C as ``void *user`` through
   ``ffi.new_handle``: nothing is module-global, so concurrent calls never
   see each other's callable;
2. C calls a fixed entry point (API mode: an ``extern "Python"`` function
   generated from the header's callback typedef; ABI mode: one
   ``ffi.callback`` made at import), which runs the callable;
3. any exception, ``KeyboardInterrupt`` included, is stored in the slot and
   the entry point returns ``PYFFI_CALLBACK``: C stops at once;
4. after the C call returns, :func:`fail` raises the stored exception
   object itself, traceback included. cffi never sees it, so nothing is
   printed to stderr.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from .._core.errors import OutOfRangeError
from .._core.sequences import real_len
from .backend import backend, ffi, lib, raise_status
from .call import argument_error, exact_ints, index_argument, param_ctypes

__all__ = [
    "calc",
    "check_progress",
    "entry_point",
    "f64_input",
    "fail",
    "map_f64",
    "pending",
    "progress_entry",
    "sort_by",
]

_CALLBACK = int(lib.PYFFI_CALLBACK)
_OVERFLOW = int(lib.PYFFI_OVERFLOW)
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1
# Buffer formats of a native-order double.
_F64_FORMATS = ("d", "@d", "=d", "<d" if sys.byteorder == "little" else ">d")


# One call's state, the ``void *user`` of its callbacks: a plain list (the
# cheapest object to make per call) of [callable, first exception, caller's name].
FN, ERROR, FUNC = 0, 1, 2


def pending(fn: Callable[..., Any], func: str) -> list[Any]:
    """A fresh per-call state for callable ``fn`` of the function named ``func``."""
    return [fn, None, func]


def fail(status: int, state: list[Any] | None) -> NoReturn:
    """Raise what made the C call fail: the callback's own exception if it raised one."""
    error = state[ERROR] if state is not None else None
    if state is None or error is None:
        raise_status(status)
    state[ERROR] = None  # no cycle through the traceback's frames
    raise error


def _on_error(
    exc_type: type[BaseException], exc: BaseException | None, tb: types.TracebackType | None
) -> None:
    """cffi's ``onerror``: an exception escaped an entry point (a signal at the wrong moment).

    Store it like any other, instead of letting cffi print it; C gets
    ``PYFFI_CALLBACK`` either way. Must not raise: cffi would print that.
    """
    try:
        user = tb.tb_frame.f_locals.get("user") if tb is not None else None
        if user is not None and user != ffi.NULL:
            state = ffi.from_handle(user)
            if state[ERROR] is None:
                state[ERROR] = exc
    except BaseException:
        pass


def entry_point(typedef: str) -> Callable[[Callable[..., int]], Any]:
    """Decorator: make a Python function the C entry point for callback type ``typedef``.

    Returns the C function pointer to pass to C: in API mode the
    ``extern "Python"`` function ``pyffi_py_<name>`` generated from the
    typedef, in ABI mode an ``ffi.callback`` of the typedef. Either way an
    exception that escapes the function returns ``PYFFI_CALLBACK`` silently.
    """

    def register(function: Callable[..., int]) -> Any:
        if backend == "api":
            name = "pyffi_py_" + typedef[len("pyffi_") :]
            ffi.def_extern(name=name, error=_CALLBACK, onerror=_on_error)(function)
            return getattr(lib, name)
        return ffi.callback(typedef, function, error=_CALLBACK, onerror=_on_error)

    return register


@entry_point("pyffi_progress")
def progress_entry(user: Any, done: int, total: int) -> int:
    """The entry point of every ``progress(done, total)`` callback (compute, csv)."""
    # May be called from C worker threads; cffi takes the GIL for it.
    state = ffi.from_handle(user)
    try:
        state[FN](done, total)
    except BaseException as exc:
        state[ERROR] = exc
        return _CALLBACK
    return 0


def check_progress(func: str, progress: object) -> None:
    """TypeError unless ``progress`` is None or callable."""
    if progress is not None and not callable(progress):
        raise TypeError(
            f"{func}() argument 'progress' must be callable or None, not {type(progress).__name__}"
        )


@entry_point("pyffi_i32_binop")
def _binop(user: Any, a: int, b: int, out: Any) -> int:
    state = _from_handle(user)
    try:
        value = state[FN](a, b)
    except BaseException as exc:
        state[ERROR] = exc
        return _CALLBACK
    try:
        out[0] = value  # cffi checks the type and the int32 range
    except (TypeError, OverflowError):
        state[ERROR] = _bad_result(state[FUNC], f"op({a}, {b})", value, int, "int32_t")
        return _CALLBACK
    return 0


@entry_point("pyffi_i64_compare")
def _compare(user: Any, a: int, b: int, out: Any) -> int:
    state = _from_handle(user)
    try:
        order = state[FN](a, b)
    except BaseException as exc:
        state[ERROR] = exc
        return _CALLBACK
    if not isinstance(order, int):
        state[ERROR] = _bad_result(state[FUNC], f"compare({a}, {b})", order, int, "int")
        return _CALLBACK
    out[0] = (order > 0) - (order < 0)
    return 0


@entry_point("pyffi_f64_unary")
def _unary(user: Any, x: float, out: Any) -> int:
    state = _from_handle(user)
    try:
        value = state[FN](x)
    except BaseException as exc:
        state[ERROR] = exc
        return _CALLBACK
    try:
        out[0] = value
    except (TypeError, OverflowError):
        state[ERROR] = _bad_result(state[FUNC], f"fn({x!r})", value, float, "a double")
        return _CALLBACK
    return 0


def _bad_result(func: str, call: str, value: object, expected: type, ctype: str) -> Exception:
    """The exception for a callback result C cannot take."""
    if isinstance(value, expected) or (expected is float and isinstance(value, int)):
        bounds = f" [{_I32_MIN}, {_I32_MAX}]" if ctype == "int32_t" else ""
        return OutOfRangeError(
            f"{func}(): {call} returned {value}, which does not fit {ctype}{bounds}", _OVERFLOW
        )
    return TypeError(
        f"{func}(): {call} returned {type(value).__name__}, expected {expected.__name__}"
    )


def _callable(func: str, param: str, fn: object) -> None:
    if not callable(fn):
        raise TypeError(f"{func}() argument '{param}' must be callable, not {type(fn).__name__}")


_CALC_TYPES = param_ctypes(lib.pyffi_calc)[:2]


_from_handle = ffi.from_handle
_new_handle = ffi.new_handle
_calc = lib.pyffi_calc


def calc(a: int, b: int, op: Callable[[int, int], int]) -> int:
    """``op(a, b)``, called from C through a function pointer; an int32 result.

    An exception raised by ``op`` comes out of ``calc`` itself (the same
    object). A result that is not an int raises TypeError; one outside int32,
    :class:`pyffi.OutOfRangeError` (an OverflowError).

    >>> pyffi.calc(10, 2, lambda a, b: a * b)
    20
    """
    if not callable(op):
        _callable("calc", "op", op)
    if a.__class__ is not int:
        a = index_argument("calc", "a", a)
    if b.__class__ is not int:
        b = index_argument("calc", "b", b)
    state = [op, None, "calc"]
    try:
        result = _calc(a, b, _binop, _new_handle(state))
    except (TypeError, OverflowError) as exc:
        raise argument_error("calc", ("a", "b"), _CALC_TYPES, (a, b), exc) from None
    if result.status:
        fail(result.status, state)
    value: int = result.value
    return value


def _int64_items(func: str, xs: list[Any]) -> Any:
    xs = exact_ints(func, "list item", xs)
    try:
        return ffi.new("int64_t[]", xs)
    except (TypeError, OverflowError) as exc:
        for i, x in enumerate(xs):
            if not isinstance(x, int):
                raise TypeError(
                    f"{func}() list item {i} must be int, not {type(x).__name__}"
                ) from None
            if not -(1 << 63) <= x < (1 << 63):
                raise OutOfRangeError(
                    f"{func}() list item {i} = {x} does not fit int64_t", _OVERFLOW
                ) from None
        raise exc from None


def sort_by(xs: list[int], compare: Callable[[int, int], int]) -> None:
    """Sort a list of ints in place with a three-way ``compare(a, b)`` called from C.

    ``compare`` returns a negative int, zero or a positive int (the ``qsort``
    contract); the sort is stable. If ``compare`` raises, the exception comes
    out of ``sort_by`` and the list is unchanged. If ``compare`` modifies the
    list, ValueError (as ``list.sort``) and the list keeps those changes.

    >>> xs = [3, 1, 2]; pyffi.sort_by(xs, lambda a, b: b - a); xs
    [3, 2, 1]
    """
    if not isinstance(xs, list):
        raise TypeError(f"sort_by() argument 'xs' must be a list of ints, not {type(xs).__name__}")
    _callable("sort_by", "compare", compare)
    before = xs[:]
    data = _int64_items("sort_by", xs)
    state = pending(compare, "sort_by")
    status = lib.pyffi_sort_i64_by(data, len(before), _compare, ffi.new_handle(state))
    if status:
        fail(status, state)
    if real_len(xs) != len(before) or any(x is not y for x, y in zip(xs, before)):
        raise ValueError("sort_by(): the list was modified during the sort")
    xs[:] = ffi.unpack(data, len(before))


def f64_input(func: str, param: str, data: Any) -> tuple[Any, int]:
    """A float64 C array over ``data``: zero-copy for a buffer of doubles, else a copy.

    Buffers must be C-contiguous doubles in native byte order (``array('d')``,
    numpy float64); any other iterable of numbers is copied. Returns
    ``(cdata, length)``; release the cdata with ``ffi.release`` when done.
    """
    try:
        view = memoryview(data)
    except TypeError:
        view = None
    if view is not None:
        with view:
            if view.format not in _F64_FORMATS:
                raise TypeError(
                    f"{func}() argument '{param}' must be a buffer of float64, "
                    f"not format {view.format!r}"
                )
            if not view.c_contiguous:
                raise ValueError(f"{func}() argument '{param}' must be a contiguous buffer")
            n = view.nbytes // 8
        # The view is released here; the cdata holds its own buffer export.
        return ffi.from_buffer("double[]", data), n
    if isinstance(data, (str, Mapping)) or not isinstance(data, Iterable):
        raise TypeError(
            f"{func}() argument '{param}' must be a sequence of floats or a "
            f"float64 buffer, not {type(data).__name__}"
        )
    items = data if isinstance(data, (list, tuple)) else list(data)
    try:
        return ffi.new("double[]", items), real_len(items)
    except (TypeError, OverflowError):
        for i, x in enumerate(items):
            try:
                ffi.new("double[1]", [x])
            except TypeError:
                raise TypeError(
                    f"{func}() argument '{param}' item {i} must be a number, not {type(x).__name__}"
                ) from None
            except OverflowError:
                raise OutOfRangeError(
                    f"{func}() argument '{param}' item {i} = {x} does not fit a double", _OVERFLOW
                ) from None
        raise


def map_f64(fn: Callable[[float], float], xs: Any) -> list[float]:
    """``[fn(x) for x in xs]`` with the loop in C calling ``fn`` back; a list of floats.

    ``xs`` is a sequence of numbers or a float64 buffer (read in place).
    ``fn`` must return a number (int or float); anything else raises
    TypeError. An exception raised by ``fn`` comes out of ``map_f64``.

    >>> pyffi.map_f64(lambda x: x * x, [1.0, 2.0, 3.0])
    [1.0, 4.0, 9.0]
    """
    _callable("map_f64", "fn", fn)
    data, n = f64_input("map_f64", "xs", xs)
    state = pending(fn, "map_f64")
    try:
        out = ffi.new("double[]", n)
        status = lib.pyffi_map_f64(out, data, n, _unary, ffi.new_handle(state))
    finally:
        ffi.release(data)
    if status:
        fail(status, state)
    values: list[float] = ffi.unpack(out, n)
    return values
