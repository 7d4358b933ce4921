"""The Library: a shared library's functions, constants and variables as attributes.

Declarations are given to cffi lazily: the first use of a function declares
it and the types it needs (its dependency closure), so opening a large
header set costs only reading it (from the cache) and ``dlopen``.
"""

from __future__ import annotations

import ctypes.util
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import cffi
from cffi import model

from .._core.errors import DeclarationError
from .._core.slices import SLICE_CDEF
from . import _cffi_private as private
from ._compiled import Compiled
from ._context import Context
from ._lexer import tokens
from ._lifetimes import MODES, Callback, Registry
from ._model import Declarations
from ._results import owned_struct_rule
from ._units import param_names
from ._wrapper import make_caller, make_wrapper

__all__ = ["Library", "context_of", "open_library"]


def open_library(ffi: cffi.FFI, path: str | os.PathLike[str]) -> tuple[Any, str]:
    """``ffi.dlopen`` of a file or a bare name (``m`` tries libm.so and find_library)."""
    text = os.fspath(path)
    if os.sep in text or os.path.exists(text):
        names = [text]
    else:
        # libfoo.so first: for a name without a dot cffi runs find_library (a subprocess)
        names = [f"lib{text}.so", text, f"{text}.so"]
    errors = []
    for k, name in enumerate(names):
        try:
            return ffi.dlopen(name), name
        except OSError as exc:
            errors.append(str(exc))
        if k == 2 and len(names) == 3:
            # the slow way last (it may run ldconfig and the compiler): libfoo.so.N
            found = ctypes.util.find_library(text)
            if found and found not in names:
                names.append(found)
    raise OSError(
        f"cannot load library {text!r}; tried {', '.join(map(repr, names))}: {errors[-1]}"
    )


class Library:
    """A shared library opened by :func:`pyffi.load`; its functions, constants, variables.

    ``lib.f(...)`` converts each argument by its declared C type and the
    result back (see :func:`pyffi.load`); ``lib.NAME`` is an enum value or a
    ``#define`` constant (all in :attr:`constants`) or the current value of a
    global variable; :attr:`skipped` says why a declared name is not
    callable. ``ffi`` and ``raw`` are the underlying cffi objects with every
    declaration given, for anything the marshalling does not cover.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        decls: Declarations,
        *,
        owned: Mapping[str, str] | None = None,
        callbacks: Mapping[str, str] | None = None,
        compiled: Compiled | None = None,
    ) -> None:
        # _model: cffi's parser, declared lazily, for the C types the marshalling
        # reads; _ffi and _raw make and call. In ABI mode one FFI is both; in API
        # mode _ffi and _raw are the compiled extension's, which holds everything.
        model_ffi = private.lean_parsing(cffi.FFI())
        model_ffi.cdef(SLICE_CDEF)
        self._model = model_ffi
        self._declared: set[int] = set()
        self._native: Any = None
        self._wrappers: dict[str, tuple[int, list[str]]] = {}
        if compiled is None:
            self.mode = "abi"
            self._ffi: Any = model_ffi
            self._raw, self.path = open_library(model_ffi, path)
            self._backendlib = private.open_backend_library(model_ffi, self.path)
            self._callable = decls.functions
        else:
            self.mode = "api"
            decls = compiled.decls
            self._ffi, self._raw, self.path = compiled.ffi, compiled.lib, compiled.path
            self._callable = {**decls.functions, **decls.api_only}
            if _layout_checked(compiled.native, compiled.ffi):
                self._native, self._wrappers = compiled.native, compiled.wrappers
        ffi = self._ffi
        self._decls = decls
        self._registry = Registry(ffi, self.path, f"<pyffi.load {self.path}>")
        self._ffi_view = _DeclaringFFI(self)
        self._raw_view = _DeclaringLib(self)
        self._lock = threading.RLock()
        self._callback_modes = dict(callbacks or {})
        for fname, mode in self._callback_modes.items():
            if mode not in MODES:
                raise ValueError(
                    f"callbacks={{{fname!r}: {mode!r}}}: the mode must be one of {MODES}"
                )
            if fname not in self._callable:
                raise ValueError(
                    f"callbacks={{{fname!r}: ...}}: function {fname!r} is not declared"
                )
        self._owned = dict(owned or {})
        self._owned_struct: dict[str, tuple[str, list[str]]] = {}
        for func, free in self._owned.items():
            for what, fname in (("function", func), ("free function", free)):
                if fname not in self._callable:
                    raise ValueError(
                        f"owned={{{func!r}: {free!r}}}: {what} {fname!r} is not declared"
                    )
            tp, free_tp = self._type_of(func), self._type_of(free)
            if isinstance(tp.result, model.StructType):
                self._owned_struct[func] = owned_struct_rule(ffi, func, tp.result, free, free_tp)
        self._context = Context(
            ffi=ffi,
            registry=self._registry,
            decls=decls,
            callable=self._callable,
            function=self._function,
            type_of=self._type_of,
            owned=self._owned,
            owned_struct=self._owned_struct,
            callback_modes=self._callback_modes,
        )

    # Declarations, lazily ----------------------------------------------------------

    def _declare(self, unit: int) -> None:
        if unit in self._declared:
            return
        with self._lock:
            # The closure in source order: C declares before use, so that order
            # is valid even where the types refer to each other.
            seen = {unit}
            todo = [unit]
            while todo:
                for d in self._decls.deps[todo.pop()]:
                    if d not in seen and d not in self._declared:
                        seen.add(d)
                        todo.append(d)
            order = sorted(seen)
            text = "\n".join(self._decls.units[k] for k in order)
            try:
                self._model.cdef(text, override=True)
            except (cffi.CDefError, cffi.FFIError):
                # a dependency the extractor did not see: everything before it, in
                # source order, as when it was validated
                order = [k for k in range(unit + 1) if k not in self._declared]
                text = "\n".join(self._decls.units[k] for k in order)
            else:
                self._declared.update(order)
                return
            try:
                self._model.cdef(text, override=True)
            except (cffi.CDefError, cffi.FFIError) as exc:  # validated when extracted
                raise DeclarationError(
                    f"{self._decls.origins[unit]}: cffi refused a declaration it read "
                    f"before ({exc}); remove the cache entry (PYFFI_CACHE_DIR)"
                ) from None
            self._declared.update(order)

    def _compiled_wrapper(self, name: str, slow: Callable[..., Any]) -> Callable[..., Any]:
        """mode="api": the function's compiled wrapper, falling back on ``slow`` (the Python
        wrapper) for what it does not take; ``slow`` itself where there is none."""
        found = self._wrappers.get(name)
        if found is None or name in self._owned or self._native is None:
            return slow
        index, ctypes_ = found
        self._declare(self._callable[name])
        try:
            ctypes_objs = [self._ffi.typeof(c) for c in ctypes_]
        except (cffi.CDefError, cffi.FFIError, TypeError):
            return slow
        bound: Callable[..., Any] = self._native.bind(
            index, (slow, self._registry.state, *ctypes_objs)
        )
        return bound

    def _type_of(self, func: str) -> model.FunctionPtrType:
        self._declare(self._callable[func])
        return private.function_type(self._model, func)

    def _function(self, func: str) -> Any:
        self._declare(self._callable[func])
        if self.mode == "abi":  # straight from the library: no accessor table to rebuild
            tp = self._type_of(func)
            return private.load_function(self._ffi, self._backendlib, func, tp)
        return getattr(self._raw, func)

    def _need_types(self, text: str) -> None:
        """Declare the types a C type string names (``"git_oid *"``, ``"struct tm[2]"``)."""
        types = self._decls.types
        toks = [t for _, t in tokens(text)]
        for k, tok in enumerate(toks):
            name = (
                f"{toks[k - 1]} {tok}" if k and toks[k - 1] in ("struct", "union", "enum") else tok
            )
            if name in types:
                self._declare(types[name])

    def _need_name(self, name: str) -> None:
        d = self._decls
        for table in (self._callable, d.variables):
            if name in table:
                self._declare(table[name])

    @property
    def ffi(self) -> cffi.FFI:
        """The cffi FFI: a type named in ``new``, ``cast``, ``sizeof``... is declared first."""
        return self._ffi_view  # type: ignore[return-value]

    @property
    def raw(self) -> Any:
        """The cffi library object (no marshalling); a name is declared on first use."""
        return self._raw_view

    # What is there --------------------------------------------------------------------

    @property
    def constants(self) -> dict[str, Any]:
        """Every enum value and constant ``#define`` of the library's headers, by name."""
        return {n: self._constant(n) for n in self._decls.constants}

    @property
    def skipped(self) -> dict[str, str]:
        """Declared names this Library cannot reach, each with the reason (and file:line).

        In ABI mode, among them: ``static inline`` functions and function-like
        macros, which ``mode="api"`` calls."""
        return dict(self._decls.skipped)

    @property
    def variables(self) -> list[str]:
        """The global variables the declarations name."""
        return list(self._decls.variables)

    def functions(self) -> list[str]:
        """Every function the declarations name, in declaration order (in API mode
        followed by the ``static inline`` functions and function-like macros)."""
        return list(self._callable)

    def missing(self) -> list[str]:
        """The declared functions the library does not export."""
        gone = []
        for name in self._callable:
            try:
                self._function(name)
            except AttributeError:
                gone.append(name)
        return gone

    def _constant(self, name: str) -> Any:
        value = self._decls.constants[name]
        if isinstance(value, dict):  # a pointer constant: ((sqlite3_destructor_type)-1)
            ctype = value["cast"]
            for word in ctype.replace("*", " ").split():
                if word in self._decls.types:
                    self._declare(self._decls.types[word])
            return self._ffi.cast(ctype, value["value"])
        return value

    def callback(self, fn: Callable[..., Any], ctype: str) -> Callback:
        """``fn`` as a C function pointer of type ``ctype`` (a typedef name or a type).

        ``fn`` gets C's arguments as cffi gives them (a ``char *`` stays a
        cdata). The Callback lives as long as you hold it, or, once passed to a
        function of this Library, as long as that function's slot keeps it
        (see the callback lifetime rules). Needed for variadic arguments
        (``curl_easy_setopt``), where no parameter type says what C expects.

        >>> lib = pyffi.load("c", cdef="int atexit(void (*)(void));")
        >>> lib.callback(lambda: None, "void (*)(void)").released
        False
        """
        if not callable(fn):
            raise TypeError(f"callback() needs a callable, not {type(fn).__name__}")
        if not isinstance(ctype, str):
            raise TypeError(f"callback() ctype must be a str, not {type(ctype).__name__}")
        if ctype in self._decls.types:
            self._declare(self._decls.types[ctype])
        # a compiled FFI raises its own ffi.error for a type it cannot parse
        refused = (cffi.CDefError, cffi.FFIError, TypeError, AttributeError)
        try:
            if not ctype.strip():
                raise cffi.CDefError("an empty type")
            ct = self._ffi.typeof(ctype)
        except (*refused, getattr(self._ffi, "error", cffi.FFIError)) as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise DeclarationError(
                f"callback(): {ctype!r} is not a C type here: {detail}"
            ) from None
        if ct.kind != "function":  # cffi's kind of a function pointer type
            raise TypeError(f"callback(): {ctype!r} is not a function pointer type")
        # C's arguments arrive as they are (cdata, ints, floats): a char * here
        # may be a buffer with a length (curl's write callback), not text.
        cb = Callback(self._registry, fn, ct, f"lib.callback({ctype!r})", [])
        cb._auto = False
        return cb

    # Attributes -------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__.get("_decls")
        if (name.startswith("__") and name.endswith("__")) or d is None:
            raise AttributeError(name)
        if name in self._callable:
            try:
                raw_fn = self._function(name)
            except AttributeError:
                raise AttributeError(
                    f"function {name!r} is declared but the library {self.path!r} does not "
                    "export it"
                ) from None
            tp = self._type_of(name)
            text = d.units[self._callable[name]]
            names = param_names(text, name, len(tp.args))
            fn = make_wrapper(self._context, name, tp, raw_fn, names)
            if self.mode == "abi":
                fn = make_caller(self._context, name, tp, raw_fn, fn)
            else:
                fn = self._compiled_wrapper(name, fn)
            self.__dict__[name] = fn  # the next lookups skip __getattr__
            return fn
        if name in d.aliases:
            fn = getattr(self, d.aliases[name])
            if callable(fn):
                self.__dict__[name] = fn
            return fn
        if name in d.constants:
            value = self._constant(name)
            self.__dict__[name] = value
            return value
        if name in d.variables:
            self._declare(d.variables[name])
            if self.mode == "abi" and f"constant {name}" in private.declarations(self._ffi):
                return private.read_constant_global(self._ffi, self._backendlib, name)
            return getattr(self._raw, name)
        if name in d.skipped:
            raise AttributeError(f"{name!r} {d.skipped[name]}")
        raise AttributeError(
            f"{self.path!r} has no declared function, constant or variable {name!r}"
        )

    def __dir__(self) -> list[str]:
        d = self._decls
        names = set(self._callable) | set(d.constants) | set(d.aliases)
        return sorted(set(super().__dir__()) | names)

    def __repr__(self) -> str:
        d = self._decls
        return (
            f"<pyffi.Library {self.path!r} ({self.mode}): {len(self._callable)} functions, "
            f"{len(d.constants)} constants>"
        )


_layouts: dict[int, bool] = {}


def _layout_checked(native: Any, ffi: Any) -> bool:
    """Whether the compiled wrappers may read cffi's cdata (checked once per module)."""
    if native is None:
        return False
    key = id(native)
    if key not in _layouts:
        probe = ffi.cast("void *", 0x5EED0)
        _layouts[key] = bool(native.check_layout(probe, ffi.typeof(probe), 0x5EED0, ffi.CData))
    return _layouts[key]


def context_of(lib: Library) -> Context:
    """What ``lib`` gives its collaborators (the stub writer): one explicit object."""
    return lib._context


# The methods of cffi.FFI whose first argument is a C type.
_TYPE_FIRST = frozenset(
    [
        "new",
        "cast",
        "sizeof",
        "alignof",
        "typeof",
        "offsetof",
        "from_buffer",
        "callback",
        "getctype",
        "new_allocator",
        "release",
        "list_types",
        "unpack",
    ]
)


class _DeclaringFFI:
    """``Library.ffi``: cffi's FFI, declaring the types a call names before it runs."""

    __slots__ = ("_lib",)

    def __init__(self, lib: Library) -> None:
        self._lib = lib

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._lib._ffi, name)
        if name not in _TYPE_FIRST or not callable(attr):
            return attr
        lib = self._lib

        def call(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], str):
                lib._need_types(args[0])
            return attr(*args, **kwargs)

        return call

    def addressof(self, cdata: Any, *fields: Any) -> Any:
        if isinstance(cdata, _DeclaringLib):  # ffi.addressof(lib.raw, "global")
            for f in fields:
                self._lib._need_name(f)
            cdata = self._lib._raw
        return self._lib._ffi.addressof(cdata, *fields)

    def __repr__(self) -> str:
        return f"<pyffi.Library.ffi of {self._lib.path!r}>"


class _DeclaringLib:
    """``Library.raw``: cffi's library object, declaring each name on first use."""

    __slots__ = ("_lib",)

    def __init__(self, lib: Library) -> None:
        self._lib = lib

    def __getattr__(self, name: str) -> Any:
        self._lib._need_name(name)
        return getattr(self._lib._raw, name)

    def __dir__(self) -> list[str]:
        return sorted([*self._lib._callable, *self._lib._decls.variables])

    def __repr__(self) -> str:
        return f"<pyffi.Library.raw of {self._lib.path!r}>"


Library.__module__ = "pyffi"  # shown as pyffi.Library, where users find it
