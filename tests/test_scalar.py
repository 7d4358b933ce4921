"""Numbers and characters: results, and every error path with its type and message."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pyffi

I32_MIN, I32_MAX = -(2**31), 2**31 - 1


# -- add / add_one -------------------------------------------------------------------


def test_add() -> None:
    assert pyffi.add(11, 22) == 33
    assert pyffi.add(I32_MIN, I32_MAX) == -1
    assert pyffi.add(True, 1) == 2  # bool is an int


@given(st.integers(I32_MIN, I32_MAX), st.integers(I32_MIN, I32_MAX))
def test_add_matches_python_or_raises(a: int, b: int) -> None:
    if I32_MIN <= a + b <= I32_MAX:
        assert pyffi.add(a, b) == a + b
    else:
        with pytest.raises(OverflowError, match=r"^add: .* does not fit int32_t$"):
            pyffi.add(a, b)


def test_add_result_overflow_never_wraps() -> None:
    with pytest.raises(pyffi.OutOfRangeError) as info:
        pyffi.add(I32_MAX, 1)
    assert str(info.value) == "add: 2147483647 + 1 does not fit int32_t"
    assert isinstance(info.value, OverflowError)
    assert info.value.name == "PYFFI_OVERFLOW"
    with pytest.raises(OverflowError, match=r"^add: -2147483648 \+ -1 does not fit int32_t$"):
        pyffi.add(I32_MIN, -1)


@pytest.mark.parametrize("a,b,bad", [(2**31, 0, "a"), (0, -(2**31) - 1, "b"), (2**100, 1, "a")])
def test_add_input_out_of_range(a: int, b: int, bad: str) -> None:
    value = a if bad == "a" else b
    with pytest.raises(pyffi.OutOfRangeError) as info:
        pyffi.add(a, b)
    assert str(info.value) == (
        f"add() argument '{bad}' = {value} does not fit int32_t [-2147483648, 2147483647]"
    )


@pytest.mark.parametrize(
    "a,b,bad,typename",
    [
        ("1", 2, "a", "str"),
        (1, None, "b", "NoneType"),
        (1.5, 2, "a", "float"),
        (1, 2.0, "b", "float"),
    ],
)
def test_add_wrong_type(a: object, b: object, bad: str, typename: str) -> None:
    with pytest.raises(TypeError) as info:
        pyffi.add(a, b)  # type: ignore[arg-type]
    assert str(info.value) == f"add() argument '{bad}' must be int, not {typename}"


def test_add_wrong_argument_count() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        pyffi.add(1)  # type: ignore[call-arg]


def test_add_one() -> None:
    assert pyffi.add_one(41) == 42
    assert pyffi.add_one(-1) == 0
    with pytest.raises(OverflowError, match=r"^add_one: 2147483647 \+ 1 does not fit int32_t$"):
        pyffi.add_one(I32_MAX)
    with pytest.raises(TypeError, match=r"^add_one\(\) argument 'x' must be int, not str$"):
        pyffi.add_one("1")  # type: ignore[arg-type]


# -- the other widths --------------------------------------------------------------


def test_add_u32() -> None:
    assert pyffi.add_u32(123) == 124
    assert pyffi.add_u32(0) == 1
    with pytest.raises(OverflowError, match=r"^add_u32: 4294967295 \+ 1 does not fit uint32_t$"):
        pyffi.add_u32(2**32 - 1)
    with pytest.raises(
        OverflowError,
        match=r"^add_u32\(\) argument 'x' = -1 does not fit uint32_t \[0, 4294967295\]$",
    ):
        pyffi.add_u32(-1)
    with pytest.raises(OverflowError, match=r"argument 'x' = 4294967296 does not fit"):
        pyffi.add_u32(2**32)
    for bad in ("1", None, 1.0):
        with pytest.raises(TypeError, match=r"^add_u32\(\) argument 'x' must be int, not "):
            pyffi.add_u32(bad)  # type: ignore[arg-type]


def test_add_isize() -> None:
    assert pyffi.add_isize(-1) == 0
    assert pyffi.add_isize(2**63 - 2) == 2**63 - 1
    with pytest.raises(
        OverflowError, match=r"^add_isize: 9223372036854775807 \+ 1 does not fit intptr_t$"
    ):
        pyffi.add_isize(2**63 - 1)
    with pytest.raises(
        OverflowError,
        match=r"^add_isize\(\) argument 'x' = -9223372036854775809 "
        r"does not fit intptr_t",
    ):
        pyffi.add_isize(-(2**63) - 1)
    with pytest.raises(TypeError, match=r"must be int, not float"):
        pyffi.add_isize(1.0)  # type: ignore[arg-type]


def test_add_f32() -> None:
    assert pyffi.add_f32(3.14) == 4.140000343322754
    assert pyffi.add_f32(1) == 2.0
    assert pyffi.add_f32(float("inf")) == float("inf")
    nan = pyffi.add_f32(float("nan"))
    assert nan != nan
    with pytest.raises(
        OverflowError, match=r"^add_f32: 9.9999999999999994e\+38 does not fit float$"
    ):
        pyffi.add_f32(1e39)
    with pytest.raises(OverflowError, match=r"does not fit float"):
        pyffi.add_f32(-1e39)
    with pytest.raises(
        OverflowError,
        match=r"^add_f32\(\) argument 'x' = 1{400} does not fit a double$".replace(
            "1{400}", "1" + "0" * 400
        ),
    ):
        pyffi.add_f32(10**400)
    for bad, name in (("1", "str"), (None, "NoneType")):
        with pytest.raises(
            TypeError, match=rf"^add_f32\(\) argument 'x' must be float, not {name}$"
        ):
            pyffi.add_f32(bad)  # type: ignore[arg-type]


def test_add_f64() -> None:
    assert pyffi.add_f64(3.14) == 4.140000000000001
    assert pyffi.add_f64(1) == 2.0
    assert pyffi.add_f64(1.7976931348623157e308) == 1.7976931348623157e308
    with pytest.raises(
        OverflowError, match=r"^add_f64\(\) argument 'x' = 1(0)+ does not fit a double$"
    ):
        pyffi.add_f64(10**400)
    with pytest.raises(TypeError, match=r"^add_f64\(\) argument 'x' must be float, not str$"):
        pyffi.add_f64("3.14")  # type: ignore[arg-type]


def test_get_square_root() -> None:
    assert pyffi.get_square_root(100) == 10.0
    assert pyffi.get_square_root(0) == 0.0
    assert pyffi.get_square_root(2) == 2**0.5
    with pytest.raises(pyffi.DomainError) as info:
        pyffi.get_square_root(-4)
    assert str(info.value) == "get_square_root: -4 is negative"
    assert isinstance(info.value, ValueError)
    with pytest.raises(OverflowError, match=r"argument 'v' = 2147483648 does not fit int32_t"):
        pyffi.get_square_root(2**31)
    with pytest.raises(TypeError, match=r"argument 'v' must be int, not float"):
        pyffi.get_square_root(4.0)  # type: ignore[arg-type]


def test_divide() -> None:
    assert pyffi.divide(7, 2) == 3.5
    assert pyffi.divide(-1.0, 4) == -0.25
    for zero in (0, 0.0, -0.0):
        with pytest.raises(pyffi.DivisionByZeroError) as info:
            pyffi.divide(1, zero)
        assert str(info.value) == "Division by zero"
    err = info.value
    assert isinstance(err, pyffi.Error) and isinstance(err, ValueError)
    assert isinstance(err, ZeroDivisionError)
    with pytest.raises(TypeError, match=r"^divide\(\) argument 'b' must be float, not str$"):
        pyffi.divide(1, "2")  # type: ignore[arg-type]


def test_reverse_bool() -> None:
    assert pyffi.reverse_bool(True) is False
    assert pyffi.reverse_bool(False) is True
    for bad, name in ((1, "int"), (None, "NoneType"), ("True", "str")):
        with pytest.raises(
            TypeError, match=rf"^reverse_bool\(\) argument 'b' must be bool, not {name}$"
        ):
            pyffi.reverse_bool(bad)  # type: ignore[arg-type]


# -- characters --------------------------------------------------------------------


def test_get_char() -> None:
    assert pyffi.get_char(97) == b"b"
    assert pyffi.get_char(b"a") == b"b"
    assert pyffi.get_char(bytearray(b"a")) == b"b"
    assert pyffi.get_char(0) == b"\x01"
    assert pyffi.get_char(254) == b"\xff"
    with pytest.raises(OverflowError, match=r"^get_char: byte 255 has no next byte$"):
        pyffi.get_char(255)
    with pytest.raises(OverflowError, match=r"^get_char: byte 255 has no next byte$"):
        pyffi.get_char(b"\xff")
    for bad in (256, -1):
        with pytest.raises(
            pyffi.OutOfRangeError,
            match=rf"^get_char\(\) argument 'c' = {bad} is not a byte value \[0, 255\]$",
        ):
            pyffi.get_char(bad)
    for bad, n in ((b"", 0), (b"ab", 2)):
        with pytest.raises(
            ValueError, match=rf"^get_char\(\) argument 'c' must be 1 byte long, not {n}$"
        ):
            pyffi.get_char(bad)
    for bad, name in (("a", "str"), (1.0, "float"), (None, "NoneType")):
        with pytest.raises(
            TypeError, match=rf"^get_char\(\) argument 'c' must be int or bytes, not {name}$"
        ):
            pyffi.get_char(bad)  # type: ignore[arg-type]


def test_get_unicode() -> None:
    assert pyffi.get_unicode("憨") == "批"
    assert pyffi.get_unicode("嘿") == "嘿"
    assert pyffi.get_unicode("a") == "a"
    assert pyffi.get_unicode("\U0010ffff") == "\U0010ffff"
    assert pyffi.get_unicode("\x00") == "\x00"
    for surrogate in ("\ud800", "\udfff"):
        with pytest.raises(pyffi.InvalidArgumentError) as info:
            pyffi.get_unicode(surrogate)
        assert str(info.value) == (
            f"get_unicode: U+{ord(surrogate):04X} is a surrogate, not a character"
        )
        assert isinstance(info.value, ValueError)
    for bad, n in (("", 0), ("ab", 2)):
        with pytest.raises(
            ValueError, match=rf"^get_unicode\(\) argument 'ch' must be one character, not {n}$"
        ):
            pyffi.get_unicode(bad)
    for bad, name in ((b"a", "bytes"), (0x61A8, "int")):
        with pytest.raises(
            TypeError, match=rf"^get_unicode\(\) argument 'ch' must be str, not {name}$"
        ):
            pyffi.get_unicode(bad)  # type: ignore[arg-type]


@given(st.characters(blacklist_categories=("Cs",)))
def test_get_unicode_is_identity_except_for_han(ch: str) -> None:
    assert pyffi.get_unicode(ch) == ("批" if ch == "憨" else ch)


# -- owned string out --------------------------------------------------------------


def test_sum_as_string() -> None:
    assert pyffi.sum_as_string(5, 3) == "8"
    assert pyffi.sum_as_string(0, 0) == "0"
    assert pyffi.sum_as_string(2**64 - 2, 1) == str(2**64 - 1)
    with pytest.raises(
        OverflowError, match=r"^sum_as_string: 18446744073709551615 \+ 1 does not fit size_t$"
    ):
        pyffi.sum_as_string(2**64 - 1, 1)
    with pytest.raises(
        pyffi.OutOfRangeError,
        match=r"^sum_as_string\(\) argument 'a' = -1 does not fit size_t "
        r"\[0, 18446744073709551615\]$",
    ):
        pyffi.sum_as_string(-1, 3)
    with pytest.raises(
        OverflowError, match=r"argument 'b' = 18446744073709551616 does not fit size_t"
    ):
        pyffi.sum_as_string(1, 2**64)
    with pytest.raises(TypeError, match=r"^sum_as_string\(\) argument 'b' must be int, not str$"):
        pyffi.sum_as_string(1, "2")  # type: ignore[arg-type]


@given(st.integers(0, 2**63), st.integers(0, 2**63 - 1))
def test_sum_as_string_matches_python(a: int, b: int) -> None:
    assert pyffi.sum_as_string(a, b) == str(a + b)


# -- threads -----------------------------------------------------------------------


def test_concurrent_calls_never_mix_results_or_messages() -> None:
    """cffi releases the GIL in every call: results and error messages stay per thread."""
    errors: list[str] = []

    def work(seed: int) -> None:
        for i in range(3000):
            a = (seed * 7919 + i) % 100000
            if pyffi.add(a, seed) != a + seed:
                errors.append(f"add({a}, {seed})")
            try:
                pyffi.add(I32_MAX, seed + 1)
            except OverflowError as exc:
                if str(exc) != f"add: 2147483647 + {seed + 1} does not fit int32_t":
                    errors.append(str(exc))
            if pyffi.sum_as_string(a, seed) != str(a + seed):
                errors.append(f"sum_as_string({a}, {seed})")

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
