"""The leaf core: what every other part of pyffi uses, with no C library loaded.

- :mod:`.errors`: the exception hierarchy, one class per C status (the status
  values generated at build time from the header's ``PYFFI_STATUS_MAP``);
- :mod:`.slices`: the ``{ptr, len}`` slice types of ``pyffi.h`` and the
  formats of the C number types, shared by the loader's marshalling;
- :mod:`.paths`: where the installed headers and libraries are.

It imports nothing else of pyffi (``scripts/lint`` checks the layers).
"""
