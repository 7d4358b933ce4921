"""Backend selection: the one place that imports ``_pyffi`` or ``abi``.

``PYFFI_BACKEND`` (read once, at import) picks the backend:

* ``api`` (default): the compiled cffi API-mode extension ``pyffi._pyffi``;
* ``abi``: cffi ABI mode over the bundled ``libpyffi.so`` (``pyffi.abi``).

Every other module takes ``ffi`` and ``lib`` from here.
"""

from __future__ import annotations

import os

from ._version import __version__

BACKENDS = ("api", "abi")

backend: str = os.environ.get("PYFFI_BACKEND", "") or "api"
if backend not in BACKENDS:
    raise ImportError(
        f"PYFFI_BACKEND={backend!r} is not a pyffi backend; "
        f"accepted values: {', '.join(repr(b) for b in BACKENDS)}"
    )

if backend == "api":
    from ._pyffi import ffi, lib
else:
    from .abi import ffi, lib

_loaded = ffi.string(lib.pyffi_version_string()).decode("ascii")
if _loaded != __version__:
    raise ImportError(
        f"pyffi {__version__} found C library version {_loaded} "
        f"({backend} backend): the installation is inconsistent; reinstall pyffi"
    )

__all__ = ["BACKENDS", "backend", "ffi", "lib"]
