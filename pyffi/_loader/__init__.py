"""pyffi.load: any C-ABI library (C or Rust) from its header, with automatic marshalling.

The modules, in the order a header travels through them:

- declarations (``_pipeline`` runs these stages in order): ``_model`` (the
  data each stage hands the next), ``_toolchain`` (compiler, system headers,
  the preprocessor), ``_lexer``, ``_units``, ``_validate`` (cffi reads each
  unit), ``_macros`` (constants, macro prototypes, array sizes; ``_cexpr``
  evaluates C constant expressions), ``_cache``;
- ``_compiled``: mode="api", the declarations compiled into an extension;
- ``_library``: the Library, declaring to cffi lazily; it hands its
  collaborators one ``_context.Context``;
- marshalling: ``_args`` (argument converters), ``_fastpaths`` (the exact-type
  cases tried first), ``_results``, ``_wrapper`` (the generated function),
  ``_native`` (mode="api": compiled wrappers), ``_variadic``, ``_lifetimes``
  (callbacks C keeps), ``_numbers`` (the C number types);
- ``_stubs``: ``.pyi`` stubs of a Library;
- ``_cffi_private``: the one module touching cffi's private attributes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cffi

from .._core.errors import DeclarationError
from .._core.slices import SLICE_CDEF
from . import _compiled
from ._library import Library, open_library
from ._lifetimes import Callback
from ._model import Declarations
from ._pipeline import extract, from_cdef
from ._results import Record
from ._toolchain import compiler, python_features

__all__ = ["Callback", "Library", "Record", "extract", "load"]


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
    decls = _declarations(header, cdef, dirs, defines, mode)
    if strict and mode == "abi":
        _refuse_skipped(decls)
    compiled = None
    if mode == "api":
        compiled = _compiled_library(path, decls, header, cdef, dirs, defines)
        if strict:  # what the extension calls is not skipped; what it refused is
            _refuse_skipped(compiled.decls)
    return Library(path, decls, owned=owned, callbacks=callbacks, compiled=compiled)


def _declarations(
    header: str | os.PathLike[str] | None,
    cdef: str | None,
    dirs: tuple[str, ...],
    defines: Mapping[str, object] | None,
    mode: str,
) -> Declarations:
    """The declarations ``load`` was given: a header run through the pipeline, or cdef text."""
    if header is not None:
        # what an extension sees: the system headers under Python.h's feature macros
        seen = defines
        cc = compiler()
        if mode == "api" and cc is not None:
            seen = {**dict(python_features(cc)), **(defines or {})}
        return extract(Path(header), dirs, seen)
    if cdef is not None:
        if not isinstance(cdef, str):
            raise TypeError(f"load() argument 'cdef' must be str, not {type(cdef).__name__}")
        return from_cdef(cdef)
    raise DeclarationError("load() needs the declarations: a header file or cdef text")


def _compiled_library(
    path: str | os.PathLike[str],
    decls: Declarations,
    header: str | os.PathLike[str] | None,
    cdef: str | None,
    dirs: tuple[str, ...],
    defines: Mapping[str, object] | None,
) -> _compiled.Compiled:
    """mode="api": the extension of ``decls``, linked against the library ``path``."""
    _handle, used = open_library(cffi.FFI(), path)
    try:
        handle = ctypes.CDLL(used)
    except OSError:  # cffi found "m" through find_library
        handle = ctypes.CDLL(ctypes.util.find_library(used) or used)
    return _compiled.compile_library(
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


def _refuse_skipped(decls: Declarations) -> None:
    """strict=True: any skipped declaration but a function-like macro is an error."""
    bad = {n: r for n, r in decls.skipped.items() if "function-like macro" not in r}
    if bad:
        first, why = next(iter(bad.items()))
        raise DeclarationError(
            f"strict=True: {len(bad)} declaration(s) skipped; the first, {first!r}, {why}"
        )
