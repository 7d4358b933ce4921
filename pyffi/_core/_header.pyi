# Types of the module cffi_build.py generates from include/pyffi.h at build time.
STATUS_NAMES: dict[int, str]
SLICE_CDEF: str
