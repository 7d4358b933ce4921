"""Arrays: sort_array in place, create_array -> Vector, process_dict."""

from __future__ import annotations

import array
import gc
import math
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import examples

import pyffi

INT_DTYPES = ["int32", "int64", "uint32", "uint64"]
FLOAT_DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", INT_DTYPES + FLOAT_DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 47, 48, 1000, 100_000])
def test_numpy_arrays_are_sorted_in_place(dtype: str, n: int) -> None:
    rng = np.random.default_rng(n)
    if dtype.startswith("float"):
        x = (rng.standard_normal(n) * 1e6).astype(dtype)
        x[::7], x[::11], x[::13], x[::17], x[::5] = np.nan, -np.nan, np.inf, -np.inf, -0.0
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        x[::9] = info.min
        x[::10] = info.max
    y = x.copy()
    address = y.ctypes.data
    pyffi.sort_array(y)
    assert y.ctypes.data == address  # the same memory: sorted where it lies
    assert np.array_equal(y, np.sort(x), equal_nan=True)


def test_nan_goes_last_and_values_are_kept() -> None:
    a = array.array("d", [2.5, math.nan, -1.0, -math.nan, -0.0, 0.0, -math.inf])
    pyffi.sort_array(a)
    assert a[:5].tolist() == [-math.inf, -1.0, -0.0, 0.0, 2.5]
    assert [math.copysign(1, v) for v in a[2:4]] == [-1, 1]
    assert all(math.isnan(v) for v in a[5:])
    f = array.array("f", [3.0, math.nan, 1.0])
    pyffi.sort_array(f)
    assert f[:2].tolist() == [1.0, 3.0] and math.isnan(f[2])


@pytest.mark.parametrize("code", ["i", "I", "l", "L", "q", "Q", "f", "d"])
def test_array_array_and_memoryview(code: str) -> None:
    values = [5, 3, 9, 0, 7, 1] * 20
    a = array.array(code, values)
    pyffi.sort_array(a)
    assert a.tolist() == sorted(values)
    b = bytearray(array.array(code, values).tobytes())
    view = memoryview(b).cast(code)
    pyffi.sort_array(view)  # the bytearray underneath is sorted
    assert array.array(code, bytes(b)).tolist() == sorted(values)


def test_a_slice_of_a_buffer_sorts_only_that_slice() -> None:
    a = array.array("i", [9, 8, 7, 6, 5, 4])
    pyffi.sort_array(memoryview(a)[1:4])
    assert a.tolist() == [9, 6, 7, 8, 5, 4]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=200))
def test_lists_are_written_back(xs: list[int]) -> None:
    same = xs
    pyffi.sort_array(xs)
    assert xs is same and xs == sorted(xs)


def test_list_errors_leave_the_list_unchanged() -> None:
    xs = [3, 2, 2**63, 1]
    with pytest.raises(
        OverflowError,
        match=r"^sort_array\(\) list item 2 = 9223372036854775808 "
        r"does not fit int64_t",
    ) as info:
        pyffi.sort_array(xs)
    assert isinstance(info.value, pyffi.OutOfRangeError)
    assert xs == [3, 2, 2**63, 1]
    xs = [3, -(2**63) - 1]
    with pytest.raises(OverflowError, match=r"list item 1 = -9223372036854775809"):
        pyffi.sort_array(xs)
    for bad, name in ((2.5, "float"), ("1", "str"), (None, "NoneType")):
        xs = [3, 1, bad, 0]
        with pytest.raises(
            TypeError, match=rf"^sort_array\(\) list item 2 must be int, not {name}$"
        ):
            pyffi.sort_array(xs)
        assert xs == [3, 1, bad, 0]


def test_bools_in_a_list_sort_as_ints() -> None:
    xs = [True, 0, -1]
    pyffi.sort_array(xs)
    assert xs == [-1, 0, 1]


@pytest.mark.parametrize(
    "readonly", [b"\x01\x00\x00\x00", memoryview(array.array("i", [2, 1])).toreadonly()]
)
def test_read_only_buffers_are_type_errors(readonly: object) -> None:
    with pytest.raises(
        TypeError, match=r"^sort_array\(\) needs a writable buffer; the \w+ given is read-only$"
    ):
        pyffi.sort_array(readonly)


def test_read_only_numpy_array() -> None:
    x = np.array([2, 1], dtype="int64")
    x.flags.writeable = False
    with pytest.raises(TypeError, match="read-only"):
        pyffi.sort_array(x)
    assert x.tolist() == [2, 1]


@pytest.mark.parametrize(
    "obj, fmt",
    [
        (bytearray(b"\x02\x01"), "B"),
        (array.array("h", [2, 1]), "h"),
        (np.array([2, 1], dtype=">i4"), ">i"),
        (np.array([2, 1], dtype="float16"), "e"),
        (np.array([2, 1], dtype="complex128"), "Zd"),
    ],
)
def test_unsupported_formats_name_the_format(obj: object, fmt: str) -> None:
    with pytest.raises(TypeError, match=rf"^sort_array\(\) cannot sort buffers of format '{fmt}'"):
        pyffi.sort_array(obj)


@pytest.mark.parametrize("bad", [None, 3, "abc", (3, 1), {1: 2}])
def test_non_buffers_are_type_errors(bad: object) -> None:
    with pytest.raises(
        TypeError,
        match=r"^sort_array\(\) argument must be a list of ints or a "
        r"writable buffer of numbers, not \w+$",
    ):
        pyffi.sort_array(bad)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"one-dimensional buffers, not 2-D"):
        pyffi.sort_array(np.zeros((2, 2), dtype="int32"))
    with pytest.raises(ValueError, match=r"needs a contiguous buffer"):
        pyffi.sort_array(np.arange(10, dtype="int64")[::2])


def test_the_gil_is_not_needed_while_sorting() -> None:
    # Sorting from several threads at once gives each its own correct result.
    arrays = [np.random.default_rng(k).integers(-1000, 1000, 50_000) for k in range(4)]
    expected = [np.sort(a) for a in arrays]
    threads = [threading.Thread(target=pyffi.sort_array, args=(a,)) for a in arrays]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, e) for a, e in zip(arrays, expected))


# ---------------------------------------------------------------- Vector


def test_create_array_default() -> None:
    v = pyffi.create_array()
    assert list(v) == list(range(3, 49, 3))
    assert v == list(range(3, 49, 3))
    assert v == pyffi.create_array(3, 50)
    assert v != pyffi.create_array(3, 51 + 3)
    assert v != "not a vector"
    assert len(v) == 16 and v[0] == 3 and v[-1] == 48 and v[-16] == 3
    assert v[2:5] == [9, 12, 15] and v[::-8] == [48, 24]
    assert 9 in v and 10 not in v
    assert next(reversed(v)) == 48
    assert repr(pyffi.create_array(4, 12)) == "Vector([4, 8, 12])"
    assert repr(v) == "Vector([3, 6, 9, 12, 15, ...] (length 16))"
    with pytest.raises(TypeError):
        hash(v)


def test_create_array_edges() -> None:
    assert list(pyffi.create_array(1, 0)) == []
    assert list(pyffi.create_array(5, -10)) == []
    assert list(pyffi.create_array(-4, 12)) == [4, 8, 12]
    assert list(pyffi.create_array(2**63 - 1, 2**63 - 1)) == [2**63 - 1]
    assert list(pyffi.create_array(-(2**63), 2**63 - 1)) == []
    assert len(pyffi.create_array(1, 10**6)) == 10**6


def test_create_array_errors() -> None:
    with pytest.raises(pyffi.DivisionByZeroError, match=r"^create_array: divisor is 0$"):
        pyffi.create_array(0)
    with pytest.raises(ZeroDivisionError):
        pyffi.create_array(0, 10)
    with pytest.raises(
        TypeError, match=r"^create_array\(\) argument 'divisor' must be int, not float$"
    ):
        pyffi.create_array(1.5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^create_array\(\) argument 'upto' must be int, not NoneType$"
    ):
        pyffi.create_array(1, None)  # type: ignore[arg-type]
    with pytest.raises(
        OverflowError,
        match=r"^create_array\(\) argument 'upto' = 9223372036854775808 does not fit int64_t",
    ):
        pyffi.create_array(1, 2**63)
    with pytest.raises(pyffi.NoMemoryError, match=r"^create_array: "):
        pyffi.create_array(1, 2**62)  # 32 EiB


def test_vector_index_errors() -> None:
    v = pyffi.create_array(3, 9)
    for i in (3, -4, 2**70):
        with pytest.raises(IndexError, match=r"Vector index out of range|cannot fit"):
            v[i]
    with pytest.raises(TypeError, match=r"^Vector indices must be integers or slices, not str$"):
        v["0"]  # type: ignore[call-overload]


def test_buffer_protocol_without_copy() -> None:
    v = pyffi.create_array(2, 10)
    m = memoryview(v)
    assert (m.format, m.itemsize, m.shape, m.readonly) == ("q", 8, (5,), True)
    assert m.tolist() == [2, 4, 6, 8, 10]
    a = np.asarray(v)
    assert a.dtype == np.int64 and a.tolist() == [2, 4, 6, 8, 10]
    assert not a.flags.owndata and not a.flags.writeable
    assert np.shares_memory(a, np.frombuffer(m, dtype=np.int64))
    with pytest.raises(TypeError):
        m[0] = 1  # read-only
    with pytest.raises(BufferError, match=r"^cannot close Vector: 2 exported buffer"):
        v.close()
    assert v[0] == 2  # still open and intact
    m.release()
    del a
    gc.collect()
    v.close()
    assert v.closed


def test_empty_vector_exports_an_empty_buffer() -> None:
    with memoryview(pyffi.create_array(1, 0)) as m:
        assert m.tolist() == [] and m.nbytes == 0


def test_writable_buffer_request_is_refused() -> None:
    import ctypes

    v = pyffi.create_array(1, 3)
    with pytest.raises((TypeError, BufferError)):
        (ctypes.c_int64 * 3).from_buffer(v)


def test_use_after_close_is_a_value_error() -> None:
    v = pyffi.create_array()
    with v as same:
        assert same is v
    assert v.closed and repr(v) == "<Vector (closed)>"
    v.close()  # a second close does nothing
    for use in (
        len,
        list,
        memoryview,
        lambda v: v[0],
        lambda v: v.tolist(),
        lambda v: v == [],
        lambda v: 3 in v,
        np.asarray,
    ):
        with pytest.raises(ValueError, match=r"^Vector has been closed$"):
            use(v)
    with pytest.raises(ValueError, match=r"^Vector has been closed$"), v:
        pass


def test_iteration_is_a_snapshot() -> None:
    v = pyffi.create_array(1, 5)
    it = iter(v)
    v.close()
    assert list(it) == [1, 2, 3, 4, 5]


# ---------------------------------------------------------------- process_dict


def test_process_dict_sorts_by_utf8_key_bytes() -> None:
    d = {"b": 2, "a": 1, "é": 3, "": 0, "ab": -(2**63), "a\0": 2**63 - 1, "\ud800": 7}
    got = pyffi.process_dict(d)
    assert got == sorted(d.items(), key=lambda kv: kv[0].encode("utf-8", "surrogatepass"))
    assert pyffi.process_dict({}) == []


@settings(max_examples=examples(200), deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), max_size=30))
def test_process_dict_matches_python(d: dict[str, int]) -> None:
    assert pyffi.process_dict(d) == sorted(d.items(), key=lambda kv: kv[0].encode())


def test_process_dict_errors() -> None:
    with pytest.raises(TypeError, match=r"^process_dict\(\) keys must be str, not int \(1\)$"):
        pyffi.process_dict({"a": 1, 1: 2})  # type: ignore[dict-item]
    with pytest.raises(
        TypeError, match=r"^process_dict\(\) value of key 'a' must be int, not float$"
    ):
        pyffi.process_dict({"a": 1.0})  # type: ignore[dict-item]
    with pytest.raises(
        OverflowError,
        match=r"^process_dict\(\) value of key 'x' = 9223372036854775808 does not fit int64_t",
    ):
        pyffi.process_dict({"x": 2**63})
    with pytest.raises(TypeError, match=r"^process_dict\(\) argument must be a dict, not list$"):
        pyffi.process_dict([("a", 1)])  # type: ignore[arg-type]


def test_struct_layout_of_an_entry() -> None:
    from pyffi._chapters.backend import ffi

    assert ffi.sizeof("pyffi_entry") == struct.calcsize("PNq")


def test_vector_attach_refuses_unknown_formats():
    with pytest.raises(ValueError, match="_attach: format must be 'q' or 'd'"):
        pyffi.Vector()._attach(object(), 0, 0, "x")


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint32", "uint64", "float32", "float64"])
@pytest.mark.parametrize("values", ["full", "narrow", "equal"])
def test_big_arrays_sorted_by_several_threads_match_numpy(dtype, values):
    # 2^18 + 7 elements and more are cut into slices for several threads
    # (as many as this process may run on); some digits are the same for
    # every element in "narrow", all are in "equal".
    rng = np.random.default_rng(18)
    n = (1 << 18) + 7
    if dtype.startswith("float"):
        x = rng.standard_normal(n).astype(dtype) * (1e30 if values == "full" else 1.0)
        x[::1000] = np.nan
        x[1::1000] = -0.0
    else:
        info = np.iinfo(dtype)
        low, high = (info.min, info.max) if values == "full" else (-3 if info.min else 0, 900)
        x = rng.integers(low, high, n, dtype=dtype, endpoint=True)
    if values == "equal":
        x[:] = x[0]
    y = x.copy()
    pyffi.sort_array(y)
    expected = np.sort(x)
    assert np.array_equal(y, expected, equal_nan=dtype.startswith("float"))
    if dtype.startswith("float"):  # -0.0 before 0.0, bit for bit
        assert np.array_equal(np.signbit(y), np.signbit(expected))


def test_generated_network_tables_match_their_script(checkout: Path) -> None:
    regenerated = subprocess.run(
        [sys.executable, str(checkout / "tools" / "gen_sort_net.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert regenerated == (checkout / "lib" / "sort_net_tables.h").read_text(encoding="utf-8")
