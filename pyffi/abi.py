"""cffi ABI mode over the bundled ``libpyffi.so``: no compiler needed.

``ffi`` holds the declarations generated from ``include/pyffi.h`` at build
time (installed as ``_cdef.h`` next to this file) and ``lib`` is the shared
library opened with ``ffi.dlopen``. Importing this module does not change the
backend of the Pythonic layer (that is ``PYFFI_BACKEND``); it is the raw
library for quick scripting::

    >>> from pyffi import abi
    >>> result = abi.lib.pyffi_scalar_add(11, 22)
    >>> result.status == abi.lib.PYFFI_OK, result.value
    (True, 33)
"""

from __future__ import annotations

from pathlib import Path

import cffi

__all__ = ["ffi", "lib", "library_path"]

_here = Path(__file__).resolve().parent

#: Path of the shared library that ``lib`` was opened from.
library_path: str = str(_here / "libpyffi.so")

ffi = cffi.FFI()
ffi.cdef((_here / "_cdef.h").read_text(encoding="utf-8"))
lib = ffi.dlopen(library_path)
