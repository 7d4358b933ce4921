"""The chapters' backend: the one place that imports ``_pyffi`` or ``abi``.

``PYFFI_BACKEND`` (read once, at import) picks the backend:

* ``api`` (default): the compiled cffi API-mode extension ``pyffi._pyffi``;
* ``abi``: cffi ABI mode over the bundled ``libpyffi.so`` (``pyffi.abi``).

Every chapter module takes ``ffi``, ``lib`` and :func:`raise_status` from
here; nothing else in pyffi imports this module (the loader and the
embedding library never load the chapters' C library).
"""

from __future__ import annotations

import os
from typing import NoReturn

from .._core._version import __version__
from .._core.errors import error_class

BACKENDS = ("api", "abi")

backend: str = os.environ.get("PYFFI_BACKEND", "") or "api"
if backend not in BACKENDS:
    raise ImportError(
        f"PYFFI_BACKEND={backend!r} is not a pyffi backend; "
        f"accepted values: {', '.join(repr(b) for b in BACKENDS)}"
    )

if backend == "api":
    from .._pyffi import ffi, lib
else:
    from ..abi import ffi, lib

_loaded = ffi.string(lib.pyffi_version_string()).decode("ascii")
if _loaded != __version__:
    raise ImportError(
        f"pyffi {__version__} found C library version {_loaded} "
        f"({backend} backend): the installation is inconsistent; reinstall pyffi"
    )

__all__ = ["BACKENDS", "backend", "ffi", "lib", "raise_status"]


def raise_status(status: int) -> NoReturn:
    """Raise the exception for a failed chapter call, with the calling thread's message.

    Call it right after the C call returned ``status`` (non-zero): the message
    is only valid until the next pyffi call on this thread.
    """
    message = ffi.string(lib.pyffi_error_last()).decode("utf-8", "replace")
    raise error_class(status)(message, status)
