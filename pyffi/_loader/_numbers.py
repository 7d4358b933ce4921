"""The C number types the marshalling converts: buffer formats, sizes, kinds, ranges.

A buffer (``array.array``, numpy, memoryview) passes to a ``T *`` parameter
without a copy when its format is of T's kind and size; ``FORMAT_OF`` maps
each C type to the format character of this platform's size for it.
"""

from __future__ import annotations

import sys

import cffi

__all__ = [
    "BYTES",
    "FLOATS",
    "FMT_CTYPE",
    "FORMAT_OF",
    "INTS",
    "KIND",
    "NATIVE",
    "RANGES",
    "item_size",
]

INTS = {
    "char": None,
    "signed char": "b",
    "unsigned char": "B",
    "short": "h",
    "unsigned short": "H",
    "int": "i",
    "unsigned int": "I",
    "long": "l",
    "unsigned long": "L",
    "long long": "q",
    "unsigned long long": "Q",
    "int8_t": "b",
    "uint8_t": "B",
    "int16_t": "h",
    "uint16_t": "H",
    "int32_t": "i",
    "uint32_t": "I",
    "int64_t": "q",
    "uint64_t": "Q",
    "size_t": "N",
    "ssize_t": "n",
    "intptr_t": "n",
    "uintptr_t": "N",
    "ptrdiff_t": "n",
    "_Bool": "?",
}
FLOATS = {"float": "f", "double": "d"}
# The 1-byte item types: a pointer to one takes str (UTF-8), bytes or a byte buffer.
BYTES = frozenset({"char", "signed char", "unsigned char", "int8_t", "uint8_t"})
# Buffer format characters of the same kind and size are interchangeable.
KIND = {
    **dict.fromkeys("bhilqn", "signed"),
    **dict.fromkeys("BHILQN", "unsigned"),
    "f": "float",
    "d": "float",
    "?": "bool",
    "c": "unsigned",
}
NATIVE = ("@", "=", "<" if sys.byteorder == "little" else ">")


RANGES = {
    "int": (-(2**31), 2**31 - 1),
    "long long": (-(2**63), 2**63 - 1),
    "unsigned long long": (0, 2**64 - 1),
}


FMT_CTYPE = {
    "b": "int8_t",
    "B": "uint8_t",
    "h": "int16_t",
    "H": "uint16_t",
    "i": "int32_t",
    "I": "uint32_t",
    "q": "int64_t",
    "Q": "uint64_t",
    "f": "float",
    "d": "double",
    "?": "_Bool",
}
FORMAT_OF: dict[str, str] = {}


def item_size(fmt: str) -> int:
    """The size in bytes of an item of buffer format ``fmt``."""
    return {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8, "?": 1}[
        fmt
    ]


def _init_formats() -> None:
    probe = cffi.FFI()
    for cname in list(INTS) + list(FLOATS):
        if cname == "char":
            continue
        size = probe.sizeof(cname)
        if cname in FLOATS:
            FORMAT_OF[cname] = FLOATS[cname]
        elif cname == "_Bool":
            FORMAT_OF[cname] = "?"
        else:
            signed = int(probe.cast(cname, -1)) < 0
            FORMAT_OF[cname] = (
                {1: "b", 2: "h", 4: "i", 8: "q"}[size].upper()
                if not signed
                else {1: "b", 2: "h", 4: "i", 8: "q"}[size]
            )


_init_formats()
