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
    "conflicts",
    "ctype",
    "declarations",
    "declare_function",
    "declare_function_type",
    "forget_built_types",
    "function_type",
    "int_constants",
    "lean_parsing",
    "load_function",
    "make_c_source",
    "open_backend_library",
    "parameter_type",
    "read_constant_global",
    "restore",
    "result_type",
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


def parameter_type(ffi: cffi.FFI, decl: str) -> Any:
    """The model type cffi's parser gives the parameter declaration ``decl``
    (``const char *name``, ``int a[4]``) in a prototype: arrays and functions
    adjusted to pointers. ``CDefError`` and the like as its ``cdef`` would raise."""
    p = ffi._parser  # type: ignore[attr-defined]
    return p._as_func_arg(*p.parse_type_and_quals(decl))


def result_type(ffi: cffi.FFI, decl: str) -> Any:
    """The model type cffi's parser gives a function result spelt ``decl`` (``int *``)."""
    return ffi._parser.parse_type_and_quals(decl)[0]  # type: ignore[attr-defined]


def declare_function(
    ffi: cffi.FFI, name: str, args: tuple[Any, ...], result: Any, ellipsis: bool
) -> Any:
    """Declare function ``name`` of these parameter and result types as cffi's
    ``cdef`` of its prototype would (``_parse_function_type``, ``_declare_function``);
    returns its (type, quals) entry, to declare another function of the same types with."""
    entry = (model.FunctionPtrType(args, result, ellipsis, None), 0)
    declare_function_type(ffi, name, entry)
    return entry


def declare_function_type(ffi: cffi.FFI, name: str, entry: tuple[Any, int]) -> None:
    """Declare function ``name`` as ``entry``, the (type, quals) of another function of
    the same type: cffi's ``_declare`` with override=True, the entry shared (one tuple for
    every function of a type, not one each for the garbage collector to walk)."""
    journal = _journal(ffi)
    table = journal.parser._declarations
    key = f"function {name}"
    old = table.get(key, _MISSING)
    journal.log.append((table, key, old))
    if old is not _MISSING and old[0] != entry[0]:
        journal.conflicts.setdefault(name, (old[0], entry[0]))
    table[key] = entry


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


def read_constant_global(ffi: cffi.FFI, backendlib: Any, name: str) -> Any:
    """The value of ``extern const T name;`` (cffi's "constant") read from the library:
    cffi's dlopen() library reads only integer constants given in the cdef."""
    tp = declarations(ffi)[f"constant {name}"][0]
    return backendlib.read_variable(ctype(ffi, tp), name)


def load_function(ffi: cffi.FFI, backendlib: Any, name: str, tp: Any) -> Any:
    """The C function ``name`` of model type ``tp`` (AttributeError if not exported)."""
    return backendlib.load_function(ctype(ffi, tp), name)


_MISSING = object()


class _Journal:
    """What cffi's parser declares, logged, so a failed ``cdef`` is undone in the time
    it took (a copy of every declaration per attempt is quadratic over a large header).

    Installed on the parser instance by :func:`snapshot`: ``_declare`` and
    ``_add_constants`` (through which every declaration and integer constant goes)
    log the value each replaces; the struct and union types declared without their
    fields are remembered, since a later ``cdef`` completes them in place.
    """

    def __init__(self, parser: Any) -> None:
        self.parser = parser
        self.log: list[tuple[dict[str, Any], str, Any]] = []
        # functions declared again with another type (cdef's override hides it)
        self.conflicts: dict[str, tuple[Any, Any]] = {}
        self.incomplete = [
            tp
            for key, (tp, _q) in parser._declarations.items()
            if key.startswith(("struct ", "union ")) and tp.fldnames is None
        ]
        declare, add_constant = parser._declare, parser._add_constants

        def logged_declare(name: str, obj: Any, included: bool = False, quals: int = 0) -> None:
            table = parser._declarations
            old = table.get(name, _MISSING)
            self.log.append((table, name, old))
            if old is not _MISSING and name.startswith("function ") and old[0] != obj:
                self.conflicts.setdefault(name[9:], (old[0], obj))
            declare(name, obj, included=included, quals=quals)
            if name.startswith(("struct ", "union ")) and obj.fldnames is None:
                self.incomplete.append(obj)

        def logged_constant(key: str, val: int) -> None:
            table = parser._int_constants
            self.log.append((table, key, table.get(key, _MISSING)))
            add_constant(key, val)

        parser._declare, parser._add_constants = logged_declare, logged_constant

    def mark(self) -> tuple[Any, ...]:
        p = self.parser
        self.incomplete = [tp for tp in self.incomplete if tp.fldnames is None]
        return (
            len(self.log),
            set(p._included_declarations),
            p._anonymous_counter,
            list(self.incomplete),
        )

    def undo(self, mark: tuple[Any, ...]) -> None:
        at, included, counter, incomplete = mark
        while len(self.log) > at:
            table, key, old = self.log.pop()
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        p = self.parser
        p._included_declarations, p._anonymous_counter = set(included), counter
        for tp in incomplete:  # a struct the failed cdef completed goes back to incomplete
            tp.fldnames = tp.fldtypes = tp.fldbitsize = tp.fldquals = None


def _journal(ffi: cffi.FFI) -> _Journal:
    p = ffi._parser  # type: ignore[attr-defined]
    journal: _Journal | None = p.__dict__.get("_pyffi_journal")
    if journal is None:
        journal = p._pyffi_journal = _Journal(p)
    return journal


def forget_built_types(ffi: cffi.FFI) -> None:
    """Drop the types ``ffi`` built from its declarations (built again on next use): after
    a declaration's model changed (a struct made opaque)."""
    ffi._cached_btypes.clear()  # type: ignore[attr-defined]


def conflicts(ffi: cffi.FFI) -> dict[str, tuple[Any, Any]]:
    """Functions ``ffi``'s cdefs declared twice with different types: name -> the
    first and the second type (a later cdef with override=True replaced the first)."""
    return _journal(ffi).conflicts


def snapshot(ffi: cffi.FFI) -> tuple[Any, ...]:
    """cffi's parser state, to undo a cdef that failed halfway (see :func:`restore`);
    costs what the declarations made since cost, not what the parser holds."""
    return _journal(ffi).mark()


def restore(ffi: cffi.FFI, snap: tuple[Any, ...]) -> None:
    """Put ``ffi``'s parser back as :func:`snapshot` found it."""
    _journal(ffi).undo(snap)


def make_c_source(ffi: cffi.FFI, module: str, preamble: str, target: str) -> None:
    """Write the C source of the API-mode extension ``module`` of ``ffi``'s cdefs."""
    recompiler.make_c_source(ffi, module, preamble, target, verbose=False)
