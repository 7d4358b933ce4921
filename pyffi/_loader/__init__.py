"""pyffi.load: any C-ABI library (C or Rust) from its header, with automatic marshalling.

One file per concern:

- ``_headers``: the declarations of a header set (preprocessor, own files,
  the system types they use, units, skips);
- ``_constants``: ``#define`` constants and macro aliases;
- ``_marshal``: converting arguments and results;
- ``_callbacks``: how long a callback passed to C lives;
- ``_cache``: extracted declarations on disk;
- ``_compiled``: ``mode="api"``, the declarations compiled into an extension;
- ``_library``: the Library object.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cffi

from .._core.errors import DeclarationError
from .._core.paths import get_include
from .._core.slices import SLICE_CDEF
from . import _cache, _compiled
from ._callbacks import Callback
from ._constants import Macros, arguments, evaluate
from ._headers import (
    Declarations,
    _restore,
    _snapshot,
    build,
    closing,
    compiler,
    compiler_id,
    preprocess,
    split_units,
)
from ._library import Library, Record, open_library

__all__ = ["Callback", "Library", "Record", "extract", "load"]

_CDEF_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)]*\))?[ \t]*(.*)$", re.M)


def _finish(
    decls: Declarations,
    macros: Macros,
    probe: Any,
    int_constants: dict[str, int],
) -> Declarations:
    consts, aliases, skipped = evaluate(
        macros, probe, int_constants, set(decls.functions), set(decls.variables)
    )
    decls.macro_constants = [n for n in consts if n not in decls.constants]  # enums win
    decls.macros = list(macros.own)
    decls.constants = {**consts, **decls.constants}
    decls.aliases = aliases
    for name, why in skipped.items():
        decls.skipped.setdefault(name, why)
    _macro_functions(decls, macros, probe)
    return decls


def _macro_functions(decls: Declarations, macros: Macros, probe: Any) -> None:
    """Give the function-like macros that wrap one call a prototype (for mode="api").

    ``#define deflateInit(strm, level) deflateInit_((strm), (level), VERSION, size)``:
    each parameter is a whole argument of a call to a declared function, so the
    macro takes those arguments' types and returns that function's result:
    ``int deflateInit(z_streamp strm, int level);``.
    """
    known: dict[str, Any] = probe._parser._declarations
    for name in list(macros.own):
        params, body, origin = macros.table[name]
        if params is None or name in decls.functions or name in decls.api_only:
            continue
        if any(k.endswith(f" {name}") for k in known):
            continue  # the name is also a type, variable or function of the declarations
        proto = macro_prototype(name, params, body, known, decls)
        if proto is None:
            continue
        snap = _snapshot(probe)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                probe.cdef(proto, override=True)
        except (cffi.CDefError, cffi.FFIError, AssertionError, TypeError, ValueError, Warning):
            _restore(probe, snap)
            continue
        target = decls.functions.get(_call_target(body) or "")
        decls.units.append(proto)
        decls.deps.append(list(decls.deps[target]) if target is not None else [])
        decls.origins.append(origin)
        decls.api_only[name] = len(decls.units) - 1
        decls.skipped[name] = (
            f"is a function-like macro ({origin}); only compiled code can expand it "
            f'(mode="api" calls it as {proto})'
        )


def _strip_parens(toks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    while len(toks) >= 2 and toks[0][1] == "(" and closing(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    return toks


def _call_target(body: list[tuple[str, str]]) -> str | None:
    toks = _strip_parens(body)
    if len(toks) >= 3 and toks[0][0] == "id" and toks[1][1] == "(":
        return toks[0][1] if closing(toks, 1) == len(toks) - 1 else None
    return None


def macro_prototype(
    name: str,
    params: list[str],
    body: list[tuple[str, str]],
    known: dict[str, Any],
    decls: Declarations,
) -> str | None:
    """``RESULT name(T1 p1, ...);`` for a macro whose body is one call, else None."""
    target = _call_target(body)
    if target is None or "..." in params:
        return None
    target = decls.aliases.get(target, target)
    if target not in decls.functions and target not in decls.api_only:
        return None
    tp = known.get(f"function {target}", (None,))[0]
    if tp is None:
        return None
    args, _end = arguments(_strip_parens(body), 2)  # the call's arguments, split as cpp does
    types = []
    for p in params:
        at = next((j for j, a in enumerate(args) if _strip_parens(a) == [("id", p)]), None)
        if at is None or at >= len(tp.args):
            return None  # a parameter used otherwise than as an argument: no known type
        types.append(tp.args[at].get_c_name(f" {p}"))
    text: str = tp.result.get_c_name(f" {name}({', '.join(types) or 'void'})")
    return text + ";"


def extract(
    header: Path, include_dirs: tuple[str, ...], defines: Mapping[str, object] | None
) -> Declarations:
    """The Declarations of a header set, from the cache or the preprocessor."""

    cc = compiler()
    if cc is None:
        raise DeclarationError(
            f"{header}: no C compiler found to preprocess it (set CC, or "
            "pass the declarations as cdef= text)"
        )
    if not header.is_file():
        raise DeclarationError(f"{header}: no such header file")
    name = _cache.key(
        [
            os.path.realpath(header),
            [os.path.realpath(d) for d in include_dirs],
            sorted((k, str(v)) for k, v in (defines or {}).items()),
            compiler_id(cc),
        ]
    )
    hit = _cache.lookup(name)
    if hit is not None:
        return hit
    src = preprocess(header, include_dirs, defines, cc=cc, include=get_include())
    decls, probe, ints = build(split_units(src.chunks), SLICE_CDEF)
    decls = _finish(decls, Macros(src.macros), probe, ints)
    decls.files = src.files
    _cache.store(name, decls)
    return decls


def _from_cdef(text: str) -> Declarations:
    macros = [
        (
            m.group(1),
            m.group(2),
            m.group(3).strip(),
            "<cdef>",
            text.count("\n", 0, m.start()) + 1,
            True,
        )
        for m in _CDEF_DEFINE.finditer(text)
    ]
    # Keep the line numbers: a #define line becomes an empty one.
    body = _CDEF_DEFINE.sub("", text)
    decls, probe, ints = build(split_units([(body, "<cdef>", 1, True)]), SLICE_CDEF)
    return _finish(decls, Macros(macros), probe, ints)


def load(
    path: str | os.PathLike[str],
    header: str | os.PathLike[str] | None = None,
    *,
    cdef: str | None = None,
    owned: Mapping[str, str] | None = None,
    include_dirs: tuple[str | os.PathLike[str], ...] | list[Any] = (),
    defines: Mapping[str, object] | None = None,
    strict: bool = False,
    callbacks: Mapping[str, str] | None = None,
    mode: str = "abi",
) -> Library:
    """Open a C-ABI shared library (C or Rust) and marshal calls from its declarations.

    ``header`` is a C header (or your own file that ``#include``\\ s several),
    run through the C preprocessor with :func:`pyffi.get_include` and
    ``include_dirs`` on the include path and ``defines`` as ``-D``. Every
    declaration of the library's own headers is kept (the header, the
    headers it includes that are not libc's or the compiler's, anything
    under ``include_dirs``), with the system types they use. Or ``cdef`` is
    the declarations as text (no compiler needed). The slice types of
    ``pyffi.h`` (``pyffi_str``, ``pyffi_vec_i64``, ...) are always known.

    What ABI mode cannot call (``static inline`` functions, ``va_list``
    parameters, function-like macros) and declarations cffi cannot read are
    listed in :attr:`Library.skipped` with the reason; ``strict=True`` makes
    a skipped declaration (any but a function-like macro) a
    :class:`DeclarationError`. Extracted declarations are cached on disk
    (``PYFFI_CACHE_DIR``).

    ``path`` is a file or a bare library name (``"m"`` tries ``m``,
    ``libm.so``, ``m.so`` and ``ctypes.util.find_library``).
    ``owned={"make": "free"}``: results of ``make`` belong to Python and go
    back through ``free`` (a ``char *`` is copied to str and freed at once;
    other pointers get ``ffi.gc``; a struct returned by value is freed by
    its address if ``free`` takes a pointer to it, else ``free`` is called
    on each non-NULL pointer field of its parameter type).
    ``callbacks={"f": "call" | "handle" | "library"}`` sets how long the
    callbacks passed to ``f`` live (see the README's callback rules).

    ``mode="api"`` compiles the declarations into a cffi API-mode extension
    linked against the library (once: it is cached beside the declarations,
    rebuilt when the headers, defines, compiler or Python change): calls cost
    less, ``static inline`` functions and function-like macros that wrap one
    call become callable, and ``#define`` constants come from the compiler.
    It needs a C compiler and Python's headers (:class:`CompileError`
    otherwise); the default ``mode="abi"`` needs neither.

    >>> lib = pyffi.load("m", cdef="double cos(double x);")
    >>> lib.cos(0.0)
    1.0
    """
    if header is not None and cdef is not None:
        raise TypeError("load() takes header or cdef, not both")
    if mode not in ("abi", "api"):
        raise ValueError(f"load() mode must be 'abi' or 'api', not {mode!r}")
    dirs = tuple(map(os.fspath, include_dirs))
    if header is not None:
        # what an extension sees: the system headers under Python.h's feature macros
        seen = defines
        cc = compiler()
        if mode == "api" and cc is not None:
            seen = {**dict(_compiled.python_features(cc)), **(defines or {})}
        decls = extract(Path(header), dirs, seen)
    elif cdef is not None:
        if not isinstance(cdef, str):
            raise TypeError(f"load() argument 'cdef' must be str, not {type(cdef).__name__}")
        decls = _from_cdef(cdef)
    else:
        raise DeclarationError("load() needs the declarations: a header file or cdef text")
    if strict and mode == "abi":
        _refuse_skipped(decls)
    compiled = None
    if mode == "api":
        import ctypes.util

        _handle, used = open_library(cffi.FFI(), path)
        try:
            handle = ctypes.CDLL(used)
        except OSError:  # cffi found "m" through find_library
            handle = ctypes.CDLL(ctypes.util.find_library(used) or used)
        compiled = _compiled.build(
            used,
            handle,
            decls,
            prefix=SLICE_CDEF,
            header=os.fspath(header) if header is not None else None,
            cdef=cdef,
            include_dirs=list(dirs),
            defines=defines,
            cc=compiler(),
        )
        if strict:  # what the extension calls is not skipped; what it refused is
            _refuse_skipped(compiled.decls)
    return Library(path, decls, owned=owned, callbacks=callbacks, compiled=compiled)


def _refuse_skipped(decls: Declarations) -> None:
    """strict=True: any skipped declaration but a function-like macro is an error."""
    bad = {n: r for n, r in decls.skipped.items() if "function-like macro" not in r}
    if bad:
        first, why = next(iter(bad.items()))
        raise DeclarationError(
            f"strict=True: {len(bad)} declaration(s) skipped; the first, {first!r}, {why}"
        )
