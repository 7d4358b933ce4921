"""The loader's pipeline: a header set (or cdef text) to the Declarations of a Library.

The stages, in order (each its own module):

1. ``_toolchain``: the C compiler runs the preprocessor once (``cc -E -dD``);
   lines are sorted into the library's own and the system's, macros collected;
2. ``_lexer`` and ``_units``: the text is split into units, one top-level
   declaration each, with the names each defines and uses;
3. ``_validate``: the own units and the system types they need are kept and
   read by cffi's parser, what it refuses skipped with the reason;
4. ``_macros``: ``#define`` constants, aliases and macro prototypes;
5. ``_cache``: the result stored as JSON, keyed by every file read.

``_compiled`` (mode="api") then builds an extension of the Declarations, and
``_library`` declares them to cffi lazily, function by function.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .._core.errors import DeclarationError
from .._core.paths import get_include
from .._core.slices import SLICE_CDEF
from . import _cache
from ._layouts import measurer
from ._macros import Macros, cdef_macros, resolve
from ._model import Declarations
from ._toolchain import compiler, compiler_id, preprocess
from ._units import split_units
from ._validate import validate

__all__ = ["extract", "from_cdef"]


def extract(
    header: Path, include_dirs: tuple[str, ...], defines: Mapping[str, object] | None
) -> Declarations:
    """The Declarations of a header set, from the cache or the pipeline's stages."""
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
    source = preprocess(header, include_dirs, defines, cc=cc, include=get_include())  # 1
    units = split_units(source.chunks)  # 2
    measure = measurer(header, include_dirs, defines, cc=cc, include=get_include())
    decls, probe, ints = validate(units, SLICE_CDEF, measure=measure)  # 3
    decls = resolve(decls, Macros(source.macros), probe, ints)  # 4
    decls.files = source.files
    _cache.store(name, decls)  # 5
    return decls


def from_cdef(text: str) -> Declarations:
    """The Declarations of cdef text (``#define`` lines included): no compiler, no cache."""
    body, macros = cdef_macros(text)
    decls, probe, ints = validate(split_units([(body, "<cdef>", 1, True)]), SLICE_CDEF)
    return resolve(decls, Macros(macros), probe, ints)
