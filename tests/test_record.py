"""Structs: Point by value and by pointer; Person owning C heap memory."""

from __future__ import annotations

import gc

import pytest

import pyffi


def test_point_basics() -> None:
    p = pyffi.Point(3, 4)
    assert (p.x, p.y) == (3.0, 4.0)
    assert isinstance(p.x, float)
    assert repr(p) == "Point(x=3.0, y=4.0)"
    assert pyffi.Point(0, 0).distance(pyffi.Point(3, 4)) == 5.0
    assert pyffi.point_distance(pyffi.Point(0, 0), pyffi.Point(3, 4)) == 5.0
    p.x, p.y = 1.5, -2
    assert p == pyffi.Point(1.5, -2.0)
    assert p != pyffi.Point(1.5, 2.0)
    assert p != (1.5, -2.0)


def test_point_by_value_is_a_copy() -> None:
    p, q = pyffi.Point(0, 0), pyffi.Point(6, 8)
    assert pyffi.point_distance(p, q) == 10.0
    q.x = 0
    assert pyffi.point_distance(p, q) == 8.0


def test_point_is_unhashable_because_mutable() -> None:
    with pytest.raises(TypeError):
        hash(pyffi.Point(0, 0))


def test_point_field_errors() -> None:
    p = pyffi.Point(0, 0)
    for bad, name in (("1", "str"), (None, "NoneType"), ([1], "list")):
        with pytest.raises(TypeError, match=rf"^Point\.x must be float, not {name}$"):
            p.x = bad  # type: ignore[assignment]
    with pytest.raises(OverflowError, match=r"^Point\.y = 1(0)+ does not fit a double$"):
        p.y = 10**400
    assert p == pyffi.Point(0, 0)  # nothing changed
    with pytest.raises(TypeError, match=r"^Point\.x must be float, not str$"):
        pyffi.Point("0", 0)  # type: ignore[arg-type]


def test_distance_argument_errors() -> None:
    with pytest.raises(TypeError, match=r"^Point\.distance\(\) argument must be Point, not tuple$"):
        pyffi.Point(0, 0).distance((3, 4))  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match=r"^point_distance\(\) argument 'q' must be Point, not NoneType$"
    ):
        pyffi.point_distance(pyffi.Point(0, 0), None)  # type: ignore[arg-type]


def test_person_roundtrip() -> None:
    p = pyffi.Person("Ann", 30)
    assert (p.name, p.age) == ("Ann", 30)
    assert repr(p) == "Person(name='Ann', age=30)"
    p.name = "古明地覺 é"
    p.age = 255
    assert (p.name, p.age) == ("古明地覺 é", 255)
    p.name = ""
    assert p.name == ""
    assert not p.closed
    p.close()
    assert p.closed


def test_person_errors_leave_it_unchanged() -> None:
    p = pyffi.Person("Ann", 30)
    with pytest.raises(
        pyffi.InvalidArgumentError, match=r"^Person\.name: name contains a NUL character at byte 1$"
    ):
        p.name = "A\x00n"
    with pytest.raises(ValueError):
        p.name = "A\x00n"
    with pytest.raises(
        TypeError, match=r"^Person\.name\(\) argument 'value' must be str, not bytes$"
    ):
        p.name = b"Ann"  # type: ignore[assignment]
    with pytest.raises(
        ValueError, match=r"cannot be encoded as UTF-8: surrogates not allowed at index 1"
    ):
        p.name = "A\ud800"
    for bad in (256, -1):
        with pytest.raises(
            pyffi.OutOfRangeError, match=rf"^Person\.age = {bad} does not fit uint8_t \[0, 255\]$"
        ):
            p.age = bad
    with pytest.raises(TypeError, match=r"^Person\.age must be int, not (str|float)$"):
        p.age = "3"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"^Person\.age must be int, not NoneType$"):
        p.age = None  # type: ignore[assignment]
    assert (p.name, p.age) == ("Ann", 30)
    p.close()


def test_person_constructor_errors() -> None:
    with pytest.raises(ValueError, match=r"^Person: name contains a NUL character at byte 0$"):
        pyffi.Person("\x00", 1)
    with pytest.raises(
        OverflowError, match=r"^Person\(\) argument 'age' = 256 does not fit uint8_t \[0, 255\]$"
    ):
        pyffi.Person("Ann", 256)
    with pytest.raises(TypeError, match=r"^Person\(\) argument 'age' must be int, not str$"):
        pyffi.Person("Ann", "30")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^Person\(\) argument 'name' must be str, not int$"):
        pyffi.Person(1, 30)  # type: ignore[arg-type]


def test_use_after_close_is_a_value_error_never_a_crash() -> None:
    p = pyffi.Person("Ann", 30)
    p.close()
    p.close()  # twice is fine
    for action in (
        lambda: p.name,
        lambda: p.age,
        lambda: setattr(p, "name", "B"),
        lambda: setattr(p, "age", 1),
        p.__enter__,
    ):
        with pytest.raises(ValueError, match=r"^Person has been closed$"):
            action()
    assert repr(p) == "<Person (closed)>"


def test_with_releases_at_once() -> None:
    with pyffi.Person("Ann", 30) as p:
        assert p.name == "Ann"
    assert p.closed
    with pytest.raises(ValueError):
        p.name


def test_garbage_collection_releases_unclosed_people() -> None:
    for i in range(2000):
        pyffi.Person(f"person {i}", i % 256)
        pyffi.create_struct(f"person {i}", i % 256)
    gc.collect()


def test_create_struct_returns_by_value_and_python_owns_the_name() -> None:
    p = pyffi.create_struct("Bob", 42)
    assert isinstance(p, pyffi.Person)
    assert repr(p) == "Person(name='Bob', age=42)"
    p.name = "Robert"  # the heap name is replaced through the library
    assert p.name == "Robert"
    p.close()
    assert p.closed
    with pytest.raises(ValueError, match="closed"):
        p.age


def test_create_struct_errors() -> None:
    with pytest.raises(
        pyffi.InvalidArgumentError,
        match=r"^create_struct: name contains a NUL character at byte 1$",
    ):
        pyffi.create_struct("B\x00b", 1)
    with pytest.raises(
        OverflowError, match=r"^create_struct\(\) argument 'age' = -1 does not fit uint8_t"
    ):
        pyffi.create_struct("Bob", -1)
    with pytest.raises(
        TypeError, match=r"^create_struct\(\) argument 'name' must be str, not NoneType$"
    ):
        pyffi.create_struct(None, 1)  # type: ignore[arg-type]
