"""pyffi.load: any C-ABI library (C or Rust) from its header, with automatic marshalling.

One file per concern:

- ``_headers``: the declarations of a header set (preprocessor, own files,
  the system types they use, units, skips);
- ``_constants``: ``#define`` constants and macro aliases;
- ``_marshal``: converting arguments and results;
- ``_callbacks``: how long a callback passed to C lives;
- ``_cache``: extracted declarations on disk;
- ``_library``: the Library object.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._errors import DeclarationError
from . import _cache
from ._callbacks import Callback
from ._constants import Macros, evaluate
from ._headers import Declarations, build, compiler, compiler_id, preprocess, split_units
from ._library import Library, Record
from ._marshal import SLICE_CDEF

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
    decls.constants = {**consts, **decls.constants}
    decls.aliases = aliases
    for name, why in skipped.items():
        decls.skipped.setdefault(name, why)
    return decls


def extract(
    header: Path, include_dirs: tuple[str, ...], defines: Mapping[str, object] | None
) -> Declarations:
    """The Declarations of a header set, from the cache or the preprocessor."""
    from .. import get_include

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

    >>> lib = pyffi.load("m", cdef="double cos(double x);")
    >>> lib.cos(0.0)
    1.0
    """
    if header is not None and cdef is not None:
        raise TypeError("load() takes header or cdef, not both")
    if header is not None:
        decls = extract(Path(header), tuple(map(os.fspath, include_dirs)), defines)
    elif cdef is not None:
        if not isinstance(cdef, str):
            raise TypeError(f"load() argument 'cdef' must be str, not {type(cdef).__name__}")
        decls = _from_cdef(cdef)
    else:
        raise DeclarationError("load() needs the declarations: a header file or cdef text")
    if strict:
        bad = {n: r for n, r in decls.skipped.items() if "function-like macro" not in r}
        if bad:
            first, why = next(iter(bad.items()))
            raise DeclarationError(
                f"strict=True: {len(bad)} declaration(s) skipped; the first, {first!r}, {why}"
            )
    return Library(path, decls, owned=owned, callbacks=callbacks)
