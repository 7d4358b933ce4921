"""The slice types of ``pyffi.h``: ``{ptr, len}`` structs for text, bytes and vectors.

Their declarations are generated from the header at build time (``_header``),
never written twice; ``pyffi.load`` always knows them, so a library's own
header may use them (``pyffi_str``, ``pyffi_vec_i64``...).

>>> from pyffi._core.slices import SLICES
>>> sorted(SLICES)[:2]
['pyffi_bytes', 'pyffi_str']
"""

from __future__ import annotations

import re

from ._header import SLICE_CDEF

__all__ = ["SLICES", "SLICE_CDEF"]

#: The slice type names.
SLICES = frozenset(re.findall(r"typedef struct (\w+) \{", SLICE_CDEF))
