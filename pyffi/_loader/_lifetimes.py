"""Callback lifetimes: how long a Python callable passed for a function pointer lives.

A Python callable becomes a C trampoline (``ffi.callback``). Registration
APIs (parser handlers, event loops, curl options, signal-like hooks) store
the pointer and call it later, so a trampoline must outlive the call that
received it; a synchronous API called in a loop with a fresh lambda must not
make them pile up. The policy, per function and parameter (``mode``):

``"handle"`` (the default when the function has a handle parameter: a
    pointer to a struct, union or ``void`` other than the callback's own)
    the trampoline is kept in the slot (function, parameter, handle address,
    enum arguments) until the same slot is set again, like pybind11's
    ``keep_alive`` tied to the handle. ``XML_SetElementHandler(parser, ...)``
    keeps its handlers while the parser lives; ``sqlite3_exec(db, ...)`` in a
    loop reuses one slot per ``db``.
``"library"`` (the default with no handle: ``atexit``-, ``signal``-like)
    kept as long as the Library; one trampoline per (callable, C type).
``"call"``
    only during the call (``callbacks={"qsort": "call"}`` at load time).

A trampoline replaced or finished is *retired*: its Python target is
dropped at once, and C calling it afterwards raises :class:`CallbackError`
(reported like any callback exception); the C code stays allocated for the
last ``RETIRED`` retirements before it is freed, so a late call into a
recently released callback is an error, not a jump into freed memory.

An exception raised in a callback goes to the innermost pyffi call on the
same Library still running on that thread (``XML_Parse``, ``uv_run``,
``curl_easy_perform``, or the call that passed the callback) and is raised
from it when C returns; meanwhile the trampolines of that Library return 0
to C without running. With no pyffi call running (a C thread, or a call
through ``Library.raw``) it goes to :func:`sys.unraisablehook`.
"""

from __future__ import annotations

import collections
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import cffi
from cffi import model

from .._core.errors import CallbackError, DeclarationError
from .._core.slices import SLICES

__all__ = [
    "MODES",
    "RETIRED",
    "WARN_AT",
    "Callback",
    "Registry",
    "address",
    "callback_kinds",
    "enum_params",
    "policy",
]

#: The lifetimes a function's callbacks can have (``callbacks={"f": mode}``).
MODES = ("call", "handle", "library")

#: Retired trampolines whose machine code stays allocated (a late C call is caught).
RETIRED = 256
#: A Library keeping this many trampolines warns (and again at each 10x).
WARN_AT = 10_000


class _Skip(Exception):
    """Raised by a trampoline that must not run (its Library has a pending error)."""


class Callback:
    """A Python callable as a C function pointer of one type, owned by a Library.

    Made by :meth:`Library.callback`, or by pyffi when a callable is passed
    for a function-pointer parameter. ``cdata`` is the C pointer; passing the
    Callback itself to a pyffi call (fixed or variadic argument) passes it.

    >>> lib = pyffi.load("c", cdef="int atexit(void (*)(void));")
    >>> cb = lib.callback(lambda: None, "void (*)(void)")
    >>> cb.released
    False
    """

    __slots__ = ("__weakref__", "_auto", "_box", "_registry", "cdata", "ctype", "fn", "where")

    def __init__(
        self,
        registry: Registry,
        fn: Callable[..., Any],
        ctype: Any,
        where: str,
        kinds: list[str],
    ) -> None:
        ffi = registry.ffi
        registry.state["trampolines"] = True
        self._registry, self.fn, self.ctype, self.where = registry, fn, ctype, where
        self._auto = True  # made by pyffi for a call (Library.callback's are the user's)
        box: list[Any] = [fn]
        self._box = box
        late = registry.late
        convert = _arg_converter(ffi, kinds)

        def entry(*args: Any) -> Any:
            target = box[0]
            if late and threading.get_ident() in late:
                raise _Skip
            if target is None:
                raise CallbackError(
                    f"C called the callback {fn!r} ({where}) after pyffi released it "
                    f"({box[1]}); the C side kept a pointer past its documented lifetime",
                    None,
                )
            return target(*convert(args))

        def on_error(exc_type: Any, exc: BaseException | None, tb: Any) -> None:
            if exc is None or isinstance(exc, _Skip):
                return
            if tb is None and isinstance(exc, (TypeError, OverflowError)):
                # raised by cffi, not by fn: what fn returned does not fit the C result
                exc = type(exc)(
                    f"the callback {fn!r} ({where}) returned a value its C result type "
                    f"({ctype.result.cname}) cannot take: {exc}"
                )
            registry.failed(exc)

        self.cdata = ffi.callback(ctype, entry, onerror=on_error)

    @property
    def released(self) -> bool:
        """True once pyffi dropped the Python target (a later C call is an error)."""
        return self._box[0] is None

    def _retire(self, why: str) -> None:
        if self._auto and self._box[0] is not None:
            self._box[:] = [None, why]
            self._registry.retired.append(self)

    def __repr__(self) -> str:
        state = "released" if self.released else "live"
        return f"<pyffi.Callback {self.fn!r} as {self.ctype.cname} ({state})>"


def _arg_converter(ffi: Any, kinds: list[str]) -> Callable[[tuple[Any, ...]], Any]:
    if not any(kinds):
        return lambda args: args

    def convert(args: tuple[Any, ...]) -> list[Any]:
        out = []
        for k, a in zip(kinds, args):
            if k == "str":
                out.append(
                    None if a == ffi.NULL else ffi.string(a).decode("utf-8", "surrogateescape")
                )
            elif k == "pyffi_str":
                out.append(ffi.unpack(a.ptr, a.len).decode("utf-8", "surrogateescape"))
            else:
                out.append(a)
        return out

    return convert


class Registry:
    """A Library's trampolines: slots, kept-forever ones, the retired ring, pending errors.

    ``ffi`` makes the trampolines; ``code_name`` is the file name of the
    Library's generated functions (a running one takes a callback's exception).
    """

    def __init__(self, ffi: Any, path: str, code_name: str) -> None:
        self.ffi, self.path, self.code_name = ffi, path, code_name
        self.slots: dict[Any, Callback] = {}
        self.kept: dict[Any, Callback] = {}
        self.warned_at = WARN_AT
        self.late: dict[int, BaseException] = {}  # thread -> the exception its call raises
        # Not empty once the Library made a trampoline: from then on every call may run
        # Python code, and goes through a Python wrapper that takes its exceptions.
        self.state: dict[str, bool] = {}
        self.retired: collections.deque[Callback] = collections.deque(maxlen=RETIRED)

    def failed(self, exc: BaseException) -> None:
        """A callback raised ``exc``: the running pyffi call raises it, else unraisable."""
        me = threading.get_ident()
        if in_pyffi_call(self.code_name) and me not in self.late:
            self.late[me] = exc
            return
        report_unraisable(exc)

    def reraise(self) -> None:
        """After a C call: raise what a callback raised during it, on this thread."""
        exc = self.late.pop(threading.get_ident(), None)
        if exc is not None:
            raise exc

    def count(self) -> int:
        return len(self.slots) + len(self.kept)

    def get(
        self,
        fn: Callable[..., Any],
        ctype: Any,
        where: str,
        kinds: list[str],
        mode: str,
        slot: Any,
    ) -> Callback:
        if isinstance(fn, Callback):
            cb = fn
            if mode == "library":  # kept like any other: the caller may drop it at once
                self.kept.setdefault(("callback", id(cb)), cb)
                self.check()
                return cb
        elif mode == "library":
            try:
                key: Any = (fn, ctype)
                hash(key)
            except TypeError:
                key = (id(fn), ctype)
            kept = self.kept.get(key)
            if kept is None or kept.fn is not fn:
                kept = Callback(self, fn, ctype, where, kinds)
                self.kept[key] = kept
                self.check()
            return kept
        else:
            old = self.slots.get(slot) if mode == "handle" else None
            if old is not None and old.fn is fn and old.ctype is ctype and not old.released:
                return old
            cb = Callback(self, fn, ctype, where, kinds)
        if mode == "handle":
            old = self.slots.get(slot)
            if old is not cb:
                self.slots[slot] = cb
                if old is not None and old.fn is not cb.fn:
                    old._retire(
                        f"replaced by a later {where.split('(')[0]}() call on the same handle"
                    )
                self.check()
        return cb

    def slots_keep(self, slot: Any, cb: Callback) -> None:
        """Keep a user's Callback passed as a variadic argument in its slot."""
        old = self.slots.get(slot)
        if old is not cb:
            self.slots[slot] = cb
            if old is not None and old._registry is self and old.fn is not cb.fn:
                old._retire("replaced by a later call setting the same slot")
            self.check()

    def check(self) -> None:
        n = self.count()
        if n >= self.warned_at:
            self.warned_at *= 10
            warnings.warn(
                f"pyffi.load: the library {self.path!r} keeps {n} callback trampolines "
                f"(about {n // 2} kB); if a function uses its callback only during the call, "
                "say so at load time: callbacks={'name': 'call'}",
                ResourceWarning,
                stacklevel=4,
            )


# --- exceptions raised where no pyffi call can take them -------------------------------

_reporting = threading.local()
_rffi = cffi.FFI()


def pyffi_callback_raised_outside_any_pyffi_call() -> None:
    """Re-raises the exception being reported, for cffi to hand to sys.unraisablehook."""
    raise _reporting.exc


_reporter = _rffi.callback("void(void)", pyffi_callback_raised_outside_any_pyffi_call)


def report_unraisable(exc: BaseException) -> None:
    """Hand ``exc`` to :func:`sys.unraisablehook` (through cffi, which does exactly that)."""
    _reporting.exc = exc
    try:
        _reporter()
    finally:
        _reporting.exc = None


def in_pyffi_call(code_name: str) -> bool:
    """True if a generated pyffi function of the Library is running on this thread."""
    f = sys._getframe(1)
    while f is not None:
        if f.f_code.co_filename == code_name:
            return True
        f = f.f_back  # type: ignore[assignment]
    return False


# --- the policy per parameter ---------------------------------------------------------


def address(ffi: Any, value: Any) -> Any:
    """A handle argument as part of a slot's key: its address (or id, or None)."""
    if isinstance(value, ffi.CData):
        return int(ffi.cast("uintptr_t", value))
    return None if value is None else id(value)


def enum_params(tp: model.FunctionPtrType, i: int) -> list[int]:
    """The enum parameters of ``tp`` other than ``i`` (part of a handle slot's key)."""
    return [k for k, a in enumerate(tp.args) if k != i and isinstance(a, model.EnumType)]


def handle_param(tp: model.FunctionPtrType, i: int) -> int:
    """The first pointer-to-struct/union/void parameter other than callback i, or -1."""
    for k, a in enumerate(tp.args):
        if k == i or not isinstance(a, model.PointerType):
            continue
        item = a.totype
        if isinstance(item, (model.StructType, model.UnionType, model.VoidType)) and not (
            isinstance(item, model.StructType) and item.name in SLICES
        ):
            return k
    return -1


def policy(name: str, tp: model.FunctionPtrType, i: int, modes: Any) -> tuple[str, int, int]:
    """(mode, handle parameter, number of enum parameters) for callback parameter i of
    function ``name``; ``modes`` is the Library's ``callbacks=`` mapping."""
    mode = modes.get(name)
    handle = handle_param(tp, i)
    if mode is None:
        mode = "handle" if handle >= 0 else "library"
    if mode == "handle" and handle < 0:
        raise DeclarationError(
            f"callbacks={{{name!r}: 'handle'}}: {name}() has no handle "
            "parameter (a pointer to a struct, union or void) to tie its callback to"
        )
    return mode, handle, len(enum_params(tp, i))


def callback_kinds(tp: Any) -> list[str]:
    """How each argument of a callback reaches Python: "str" for text, "" as it is.

    A ``char *`` arrives as str only if no integer parameter follows it: a
    ``char *`` with a length (expat's character data, curl's write buffer)
    is not NUL-terminated, so it stays a cdata (``ffi.unpack(p, n)``).
    """
    args = list(tp.args)
    kinds = []
    for k, a in enumerate(args):
        nxt = args[k + 1] if k + 1 < len(args) else None
        sized = isinstance(nxt, (model.PrimitiveType, model.EnumType)) and (
            isinstance(nxt, model.EnumType) or nxt.is_integer_type()
        )
        if (
            isinstance(a, model.PointerType)
            and isinstance(a.totype, model.PrimitiveType)
            and a.totype.name == "char"
            and not sized
        ):
            kinds.append("str")
        elif isinstance(a, model.StructType) and a.name == "pyffi_str":
            kinds.append("pyffi_str")
        else:
            kinds.append("")
    return kinds
