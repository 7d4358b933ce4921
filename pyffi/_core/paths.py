"""Where pyffi's installed files are: the headers and the shared libraries."""

from __future__ import annotations

import os

__all__ = ["get_include", "package_file"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def package_file(name: str) -> str:
    """The path of ``name`` in the installed package directory (``libpyffi.so``...)."""
    return os.path.join(_PACKAGE, name)


def get_include() -> str:
    """The directory holding the installed ``pyffi.h`` and ``pyffi_embed.h``, for ``-I``.

    >>> os.path.isfile(os.path.join(pyffi.get_include(), "pyffi.h"))
    True
    """
    return package_file("include")
