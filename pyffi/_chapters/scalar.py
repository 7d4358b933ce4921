"""Numbers and characters: checked C arithmetic, bytes and code points.

Every function computes in C, in the C type it names, and never wraps:
a value that does not fit raises :class:`pyffi.OutOfRangeError` (an
OverflowError); a value of the wrong Python type raises TypeError.
"""

from __future__ import annotations

from .._core.errors import OutOfRangeError
from .backend import ffi, lib, raise_status
from .call import argument_error, index_argument, param_ctypes, result_call, take_string

__all__ = [
    "add",
    "add_f32",
    "add_f64",
    "add_isize",
    "add_one",
    "add_u32",
    "divide",
    "get_char",
    "get_square_root",
    "get_unicode",
    "reverse_bool",
    "sum_as_string",
]


@result_call(lib.pyffi_scalar_add)
def add(a: int, b: int) -> int:
    """Add two int32 values in C; inputs or sum outside int32 raise OverflowError.

    >>> pyffi.add(11, 22)
    33
    """
    raise NotImplementedError  # replaced by result_call


@result_call(lib.pyffi_scalar_add_one)
def add_one(x: int) -> int:
    """Return x + 1 computed in int32; out of range raises OverflowError.

    >>> pyffi.add_one(41)
    42
    """
    raise NotImplementedError  # replaced by result_call


@result_call(lib.pyffi_scalar_add_one_u32)
def add_u32(x: int) -> int:
    """Return x + 1 computed in uint32; x < 0 or x + 1 > 2**32 - 1 raise OverflowError.

    >>> pyffi.add_u32(123)
    124
    """
    raise NotImplementedError  # replaced by result_call


@result_call(lib.pyffi_scalar_add_one_isize)
def add_isize(x: int) -> int:
    """Return x + 1 computed in a pointer-sized signed integer (intptr_t).

    >>> pyffi.add_isize(-1)
    0
    """
    raise NotImplementedError  # replaced by result_call


@result_call(lib.pyffi_scalar_add_one_f32)
def add_f32(x: float) -> float:
    """Return x + 1 computed in single precision; abs(x) beyond float's range raises OverflowError.

    >>> pyffi.add_f32(3.14)
    4.140000343322754
    """
    raise NotImplementedError  # replaced by result_call


_ADD_F64_PARAMS = param_ctypes(lib.pyffi_scalar_add_one_f64)


def add_f64(x: float) -> float:
    """Return x + 1 computed in double precision.

    >>> pyffi.add_f64(3.14)
    4.140000000000001
    """
    try:
        return lib.pyffi_scalar_add_one_f64(x)  # type: ignore[no-any-return]
    except (TypeError, OverflowError) as exc:
        raise argument_error("add_f64", ("x",), _ADD_F64_PARAMS, (x,), exc) from None


@result_call(lib.pyffi_scalar_sqrt)
def get_square_root(v: int) -> float:
    """Square root of an int32 as a float; a negative v raises ValueError (pyffi.DomainError).

    >>> pyffi.get_square_root(100)
    10.0
    """
    raise NotImplementedError  # replaced by result_call


@result_call(lib.pyffi_scalar_divide)
def divide(a: float, b: float) -> float:
    """Return a / b computed in C; b == 0 raises pyffi.DivisionByZeroError.

    >>> pyffi.divide(7, 2)
    3.5
    """
    raise NotImplementedError  # replaced by result_call


def reverse_bool(b: bool) -> bool:
    """Return the logical negation of a bool, computed in C.

    >>> pyffi.reverse_bool(True)
    False
    """
    if b is not True and b is not False:
        raise TypeError(f"reverse_bool() argument 'b' must be bool, not {type(b).__name__}")
    return lib.pyffi_scalar_not(b)  # type: ignore[no-any-return]


def get_char(c: int | bytes) -> bytes:
    """Return the byte after ``c`` (an int 0..255 or a single byte); 255 raises OverflowError.

    >>> pyffi.get_char(b"a")
    b'b'
    """
    if isinstance(c, (bytes, bytearray)):
        if len(c) != 1:
            raise ValueError(f"get_char() argument 'c' must be 1 byte long, not {len(c)}")
        byte = bytes(c)
    elif isinstance(c, int):
        if not 0 <= c <= 255:
            raise OutOfRangeError(
                f"get_char() argument 'c' = {c} is not a byte value [0, 255]",
                int(lib.PYFFI_OVERFLOW),
            )
        byte = bytes((c,))
    else:
        raise TypeError(f"get_char() argument 'c' must be int or bytes, not {type(c).__name__}")
    result = lib.pyffi_char_next(byte)
    if result.status:
        raise_status(result.status)
    return result.value  # type: ignore[no-any-return]


def get_unicode(ch: str) -> str:
    """Map "憨" to "批", any other character to itself; a surrogate raises ValueError.

    >>> pyffi.get_unicode("憨")
    '批'
    """
    if not isinstance(ch, str):
        raise TypeError(f"get_unicode() argument 'ch' must be str, not {type(ch).__name__}")
    if len(ch) != 1:
        raise ValueError(f"get_unicode() argument 'ch' must be one character, not {len(ch)}")
    result = lib.pyffi_char_unicode(ord(ch))
    if result.status:
        raise_status(result.status)
    return chr(result.value)


_SUM_STRING_PARAMS = param_ctypes(lib.pyffi_scalar_sum_string, skip=2)


def sum_as_string(a: int, b: int) -> str:
    """Return the decimal text of a + b (both size_t) built in C.

    A negative or too large argument raises OverflowError.

    The C side allocates the string; it is copied and freed at once.

    >>> pyffi.sum_as_string(5, 3)
    '8'
    """
    if a.__class__ is not int:
        a = index_argument("sum_as_string", "a", a)
    if b.__class__ is not int:
        b = index_argument("sum_as_string", "b", b)
    out = ffi.new("char **")
    length = ffi.new("size_t *")
    try:
        status = lib.pyffi_scalar_sum_string(out, length, a, b)
    except (TypeError, OverflowError) as exc:
        raise argument_error("sum_as_string", ("a", "b"), _SUM_STRING_PARAMS, (a, b), exc) from None
    if status:
        raise_status(status)
    return take_string(out[0], length[0]).decode("ascii")
