"""pyffi's values pickle (for multiprocessing, dask, caches): Vector, Record, Point, Person, errors.

Both backends.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import pyffi

PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)


def roundtrip(value: object, protocol: int = pickle.HIGHEST_PROTOCOL) -> object:
    return pickle.loads(pickle.dumps(value, protocol=protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_vector_pickles_as_its_data_into_memory_of_its_own(protocol: int) -> None:
    v = pyffi.create_array(3, 3 * 1000)
    copy = roundtrip(v, protocol)
    assert isinstance(copy, pyffi.Vector)
    assert copy == v and len(copy) == 1000 and copy[-1] == 3000
    assert memoryview(copy).format == "q"
    v.close()  # the copy does not share the original's memory
    assert copy[0] == 3 and copy.tolist() == list(range(3, 3001, 3))
    copy.close()
    assert copy.closed


def test_vector_extremes_and_empty() -> None:
    xs = np.array([-(2**63), -1, 0, 2**63 - 1], dtype=np.int64)
    pyffi.sort_array(xs)
    v = pyffi.create_array(1, 0)  # empty
    assert roundtrip(v) == []
    typed = pyffi.csv.read_columns(b"a\n" + b"\n".join(str(x).encode() for x in xs) + b"\n")
    copy = roundtrip(typed["a"])
    assert copy == xs.tolist()


def test_float_column_pickles_as_float64() -> None:
    cols = pyffi.csv.read_columns(b"x,name\n1.5,a\n-2.25,b\n")
    copy = roundtrip(cols)
    assert isinstance(copy, dict)
    assert memoryview(copy["x"]).format == "d"
    assert copy["x"].tolist() == [1.5, -2.25] and copy["name"] == ["a", "b"]
    assert np.asarray(copy["x"]).dtype == np.float64


def test_closed_vector_refuses_to_pickle() -> None:
    v = pyffi.create_array(2, 4)
    v.close()
    with pytest.raises(ValueError, match="closed"):
        pickle.dumps(v)


def test_unpickling_something_else_than_an_int64_array_is_a_type_error() -> None:
    import array

    from pyffi._chapters.array import _vector_from_array

    with pytest.raises(TypeError, match="int64 or float64 array"):
        _vector_from_array(array.array("i", [1, 2]))
    with pytest.raises(TypeError, match="int64 or float64 array"):
        _vector_from_array([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_point_and_person_pickle_by_value(protocol: int) -> None:
    p = pyffi.Point(1.5, -2)
    assert roundtrip(p, protocol) == p
    with pyffi.Person("Ann 古明地", 30) as person:
        copy = roundtrip(person, protocol)
    assert isinstance(copy, pyffi.Person)
    assert (copy.name, copy.age) == ("Ann 古明地", 30)  # the original is closed: its own memory
    copy.close()
    by_value = pyffi.create_struct("Bob", 42)
    assert repr(roundtrip(by_value)) == "Person(name='Bob', age=42)"


def test_closed_person_refuses_to_pickle() -> None:
    person = pyffi.Person("Ann", 30)
    person.close()
    with pytest.raises(ValueError, match=r"^Person has been closed$"):
        pickle.dumps(person)


def test_record_pickles() -> None:
    r = pyffi.Record("pair", a=1, b=2.5, name="x")
    copy = roundtrip(r)
    assert copy == r and repr(copy) == "pair(a=1, b=2.5, name='x')"


def raised(call: object) -> pyffi.Error:
    try:
        call()  # type: ignore[operator]
    except pyffi.Error as exc:
        return exc
    raise AssertionError("no pyffi.Error raised")


@pytest.mark.parametrize(
    "call",
    [
        lambda: pyffi.divide(1, 0),
        lambda: pyffi.add(2**31 - 1, 1),
        lambda: pyffi.get_unicode("\ud800"),
        lambda: pyffi.to_uppercase(b"ab\xff"),
        lambda: pyffi.csv.read(b'a,"b"c\n'),
        lambda: pyffi.load("libc.so.6", cdef="int f(;", strict=True),
    ],
    ids=["division", "overflow", "invalid", "utf8", "csv", "declaration"],
)
def test_errors_pickle_with_type_message_status_and_name(call: object) -> None:
    exc = raised(call)
    copy = roundtrip(exc)
    assert type(copy) is type(exc)
    assert str(copy) == str(exc) and copy.args == exc.args
    assert (copy.status, copy.name) == (exc.status, exc.name)


def test_base_error_with_an_explicit_status_keeps_it() -> None:
    exc = pyffi.Error("custom", 4)
    copy = roundtrip(exc)
    assert (copy.status, copy.name, str(copy)) == (4, "PYFFI_DIVISION_BY_ZERO", "custom")
