"""The one module that touches cffi's private attributes.

pyffi.load reads what cffi's parser knows (its declarations, its integer
constants), undoes a ``cdef`` that failed halfway, spells a type as declared
(``const`` kept), calls ``_cffi_backend`` directly on the hot paths, and has
cffi write an extension's C source. None of that is cffi's documented API, so
it is all here, and ``tests/test_cffi_private.py`` pins the cffi versions it was
checked against (``CHECKED``: the range ``pyproject.toml`` allows) and exercises
each accessor.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import cffi
from cffi import model, recompiler

__all__ = [
    "CHECKED",
    "backend",
    "c_name",
    "ctype",
    "declarations",
    "function_type",
    "int_constants",
    "lean_parsing",
    "load_function",
    "make_c_source",
    "open_backend_library",
    "restore",
    "snapshot",
    "type_text",
]

#: The cffi releases this module was checked against: (lowest, below this).
CHECKED = ((1, 17), (3, 0))

#: The ``_cffi_backend`` module: newp, from_buffer, unpack without FFI's argument parsing.
backend: Any = cffi.FFI()._backend  # type: ignore[attr-defined]


def declarations(ffi: cffi.FFI) -> dict[str, Any]:
    """What ``ffi``'s cdefs declared: ``"function f"``, ``"struct s"``... -> (type, quals)."""
    found: dict[str, Any] = ffi._parser._declarations  # type: ignore[attr-defined]
    return found


def int_constants(ffi: cffi.FFI) -> dict[str, int]:
    """The integer constants (enumerators, ``#define N 5``) ``ffi``'s cdefs declared."""
    found: dict[str, int] = ffi._parser._int_constants  # type: ignore[attr-defined]
    return found


def function_type(ffi: cffi.FFI, name: str) -> model.FunctionPtrType:
    """The model type of the declared function ``name``."""
    tp: model.FunctionPtrType = declarations(ffi)[f"function {name}"][0]
    return tp


def c_name(tp: model.BaseTypeByIdentity) -> str:
    """A model type spelt for ``ffi.typeof``, qualifiers dropped (``char *``)."""
    return tp.get_c_name().replace(" const", "").strip() if tp else "?"


def type_text(tp: model.BaseTypeByIdentity) -> str:
    """A model type spelt as declared, ``const`` kept (``const char *``)."""
    text: str = tp._get_c_name()  # type: ignore[attr-defined]
    return text


def ctype(ffi: Any, tp: model.BaseTypeByIdentity) -> Any:
    """The cffi ctype of model type ``tp``: made from the model by a parsing FFI (no C
    text parsed again), looked up by name in a compiled one (its own C-level parser)."""
    get = getattr(ffi, "_get_cached_btype", None)
    if get is None:
        return ffi.typeof(tp.get_c_name())
    with ffi._lock:  # cffi asserts its own lock is held
        return get(tp)


_WORD = re.compile(r"[A-Za-z_]\w*")


def lean_parsing(ffi: cffi.FFI) -> cffi.FFI:
    """Make each ``cdef`` and ``typeof`` of ``ffi`` cost what its own text costs.

    Before every parse, cffi's parser writes ``typedef int NAME;`` for every
    typedef it knows (pycparser must know which words are types), so a parse
    grows with everything declared before it: declaring a large header function
    by function is quadratic. Only the names that occur in the text can change
    how it parses; the parser is shown just those, for that parse.
    """
    parser = ffi._parser  # type: ignore[attr-defined]
    full_parse = parser._parse
    lock = threading.Lock()  # a parse of one thread never sees another's lean view

    def parse(csource: str) -> Any:
        with lock:
            known = parser._declarations
            shown = {}
            for word in set(_WORD.findall(csource)):
                key = "typedef " + word
                if key in known:
                    shown[key] = known[key]
            parser._declarations = shown
            try:
                return full_parse(csource)
            finally:
                parser._declarations = known

    parser._parse = parse
    return ffi


def open_backend_library(ffi: cffi.FFI, name: str) -> Any:
    """``_cffi_backend``'s handle of the library ``ffi.dlopen(name)`` opens (the same
    search), to load functions without ``dlopen``'s accessor table, which cffi rebuilds
    from every declaration at each new name (quadratic over a large header)."""
    from cffi import api

    return api._load_backend_lib(ffi._backend, name, 0)  # type: ignore[attr-defined]


def load_function(ffi: cffi.FFI, backendlib: Any, name: str, tp: Any) -> Any:
    """The C function ``name`` of model type ``tp`` (AttributeError if not exported)."""
    return backendlib.load_function(ctype(ffi, tp), name)


def snapshot(ffi: cffi.FFI) -> tuple[Any, ...]:
    """cffi's parser state, to undo a cdef that failed halfway (see :func:`restore`)."""
    p = ffi._parser  # type: ignore[attr-defined]
    incomplete = [
        tp
        for key, (tp, _q) in p._declarations.items()
        if key.startswith(("struct ", "union ")) and tp.fldnames is None
    ]
    return (
        dict(p._declarations),
        dict(p._int_constants),
        set(p._included_declarations),
        p._anonymous_counter,
        incomplete,
    )


def restore(ffi: cffi.FFI, snap: tuple[Any, ...]) -> None:
    """Put ``ffi``'s parser back as :func:`snapshot` found it."""
    p = ffi._parser  # type: ignore[attr-defined]
    p._declarations, p._int_constants = dict(snap[0]), dict(snap[1])
    p._included_declarations, p._anonymous_counter = set(snap[2]), snap[3]
    for tp in snap[4]:  # a struct the failed cdef completed goes back to incomplete
        tp.fldnames = tp.fldtypes = tp.fldbitsize = tp.fldquals = None


def make_c_source(ffi: cffi.FFI, module: str, preamble: str, target: str) -> None:
    """Write the C source of the API-mode extension ``module`` of ``ffi``'s cdefs."""
    recompiler.make_c_source(ffi, module, preamble, target, verbose=False)
