"""Text: full Unicode case mapping in C, str in -> str out, bytes in -> bytes out.

The C side returns a buffer it allocated; it is decoded (or copied) and
released at once, exactly once, whatever happens.
"""

from __future__ import annotations

from typing import Any, Callable, overload

from .backend import ffi, lib, raise_status

__all__ = ["to_lowercase", "to_uppercase", "unicode_version"]

_STRICT = int(lib.PYFFI_UTF8_STRICT)
_SURROGATES = int(lib.PYFFI_UTF8_ALLOW_SURROGATES)


def _convert(cfunc: Callable[..., int], func: str, text: object) -> str | bytes:
    if isinstance(text, str):
        # surrogatepass + ALLOW_SURROGATES: lone surrogates go through
        # unchanged, as str.upper() leaves them.
        data: Any = text.encode("utf-8", "surrogatepass")
        flags = _SURROGATES
    elif isinstance(text, bytes):
        data, flags = text, _STRICT
    elif isinstance(text, (bytearray, memoryview)):
        view = memoryview(text)
        # Zero-copy when contiguous; a strided view is gathered first.
        data = ffi.from_buffer("char[]", view) if view.contiguous else view.tobytes()
        flags = _STRICT
    else:
        raise TypeError(
            f"{func}() argument must be str, bytes, bytearray or memoryview, "
            f"not {type(text).__name__}"
        )
    out = ffi.new("char **")
    out_len = ffi.new("size_t *")
    status = cfunc(out, out_len, data, len(data), flags)
    if status:
        raise_status(status)
    try:
        if flags == _SURROGATES:
            return str(ffi.buffer(out[0], out_len[0]), "utf-8", "surrogatepass")
        return ffi.unpack(out[0], out_len[0])  # type: ignore[no-any-return]
    finally:
        lib.pyffi_string_free(out[0])


@overload
def to_uppercase(text: str) -> str: ...
@overload
def to_uppercase(text: bytes | bytearray | memoryview) -> bytes: ...


def to_uppercase(text: str | bytes | bytearray | memoryview) -> str | bytes:
    """Uppercase ``text`` in C, exactly as ``str.upper()`` does.

    A str gives a str; bytes-like input is taken as UTF-8 and gives bytes.
    Invalid UTF-8 raises :class:`pyffi.Utf8Error` naming the byte offset.

    >>> pyffi.to_uppercase("straße")
    'STRASSE'
    >>> pyffi.to_uppercase("hello 古明地覺")
    'HELLO 古明地覺'
    >>> pyffi.to_uppercase("straße".encode())
    b'STRASSE'
    """
    return _convert(lib.pyffi_utf8_to_uppercase, "to_uppercase", text)


@overload
def to_lowercase(text: str) -> str: ...
@overload
def to_lowercase(text: bytes | bytearray | memoryview) -> bytes: ...


def to_lowercase(text: str | bytes | bytearray | memoryview) -> str | bytes:
    """Lowercase ``text`` in C, exactly as ``str.lower()`` does (final sigma included).

    >>> pyffi.to_lowercase("ΟΔΟΣ ΣΑΣ")
    'οδος σας'
    >>> pyffi.to_lowercase(b"ABC")
    b'abc'
    """
    return _convert(lib.pyffi_utf8_to_lowercase, "to_lowercase", text)


def unicode_version() -> str:
    """The Unicode version whose case data to_uppercase and to_lowercase follow.

    Fixed when pyffi is built (the newest Unicode Debian ships, whatever the
    system's libraries are); Python's own is ``unicodedata.unidata_version``.

    >>> import pyffi, unicodedata
    >>> tuple(map(int, pyffi.unicode_version().split("."))) >= (15, 0, 0)
    True
    """
    return ffi.string(lib.pyffi_unicode_version()).decode("ascii")  # type: ignore[no-any-return]
