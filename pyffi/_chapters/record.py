"""Structs: ``Point`` (a plain value struct) and ``Person`` (a struct owning heap memory).

Ownership: a Person's C memory has exactly one owner, the Person object. It is
released by ``close()`` / ``with`` at once, or by its ``ffi.gc`` destructor when
the object is collected; ``ffi.release`` makes sure it is released only once.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self  # mypy's own copy; never imported at run time


from .._core.errors import OutOfRangeError
from .backend import ffi, lib, raise_status
from .call import argument_error, encode_utf8, index_argument, param_ctypes

__all__ = ["Person", "Point", "create_struct", "point_distance"]


def _set_field(
    cdata: Any, owner: str, field: str, value: object, expected: str, c_range: str
) -> None:
    """Assign a struct field, turning cffi's errors into ones that name the field."""
    if value is None:  # cffi would take None as 0 for some types
        raise TypeError(f"{owner}.{field} must be {expected}, not NoneType")
    try:
        setattr(cdata, field, value)
    except TypeError:
        raise TypeError(f"{owner}.{field} must be {expected}, not {type(value).__name__}") from None
    except OverflowError:
        raise OutOfRangeError(
            f"{owner}.{field} = {value!r} does not fit {c_range}", int(lib.PYFFI_OVERFLOW)
        ) from None


class Point:
    """A C ``pyffi_point {double x, y}``; distances are computed in C.

    >>> pyffi.Point(0, 0).distance(pyffi.Point(3, 4))
    5.0
    """

    __slots__ = ("_c",)

    def __init__(self, x: float, y: float) -> None:
        self._c = ffi.new("pyffi_point *")
        self.x = x
        self.y = y

    @property
    def x(self) -> float:
        """The x coordinate (a float; ints are accepted on assignment)."""
        return self._c.x  # type: ignore[no-any-return]

    @x.setter
    def x(self, value: float) -> None:
        _set_field(self._c, "Point", "x", value, "float", "a double")

    @property
    def y(self) -> float:
        """The y coordinate (a float; ints are accepted on assignment)."""
        return self._c.y  # type: ignore[no-any-return]

    @y.setter
    def y(self, value: float) -> None:
        _set_field(self._c, "Point", "y", value, "float", "a double")

    def distance(self, other: Point) -> float:
        """Distance to ``other``, both passed to C by pointer.

        >>> pyffi.Point(1, 1).distance(pyffi.Point(4, 5))
        5.0
        """
        if not isinstance(other, Point):
            raise TypeError(f"Point.distance() argument must be Point, not {type(other).__name__}")
        return lib.pyffi_point_distance_ptr(self._c, other._c)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return self.x == other.x and self.y == other.y

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __reduce__(self) -> tuple[type[Point], tuple[float, float]]:
        """Pickle as the two coordinates.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(pyffi.Point(1.5, 2)))
        Point(x=1.5, y=2.0)
        """
        return Point, (self.x, self.y)

    def __repr__(self) -> str:
        return f"Point(x={self.x!r}, y={self.y!r})"


def point_distance(p: Point, q: Point) -> float:
    """Distance between two points, both passed to C by value.

    >>> pyffi.point_distance(pyffi.Point(0, 0), pyffi.Point(3, 4))
    5.0
    """
    for name, value in (("p", p), ("q", q)):
        if not isinstance(value, Point):
            raise TypeError(
                f"point_distance() argument '{name}' must be Point, not {type(value).__name__}"
            )
    return lib.pyffi_point_distance(p._c[0], q._c[0])  # type: ignore[no-any-return]


_AGE_CTYPES = param_ctypes(lib.pyffi_person_new, skip=3)


class Person:
    """A C ``pyffi_person {char *name; uint8_t age}`` that owns its name on the C heap.

    Release it with ``close()`` or ``with``; otherwise it is released when
    collected. Any use after release raises ValueError.

    >>> with pyffi.Person("Ann", 30) as p: p.name, p.age
    ('Ann', 30)
    """

    __slots__ = ("_c",)

    def __init__(self, name: str, age: int) -> None:
        data = encode_utf8(name, "Person", "name")
        if age.__class__ is not int:
            age = index_argument("Person", "age", age)
        out = ffi.new("pyffi_person **")
        try:
            status = lib.pyffi_person_new(out, data, len(data), age)
        except (TypeError, OverflowError) as exc:
            raise argument_error("Person", ("age",), _AGE_CTYPES, (age,), exc) from None
        if status:
            raise_status(status)
        self._c = ffi.gc(out[0], lib.pyffi_person_free)

    @classmethod
    def _adopt_value(cls, value: Any) -> Person:
        """Own a person C returned BY VALUE: its name is freed by pyffi_person_clear."""
        self = cls.__new__(cls)
        self._c = ffi.gc(ffi.new("pyffi_person *", value), lib.pyffi_person_clear)
        return self

    def _live(self) -> Any:
        if self._c is None:
            raise ValueError("Person has been closed")
        return self._c

    @property
    def name(self) -> str:
        """The name (str; a NUL character is refused). Assigning frees the old one in C."""
        return ffi.string(self._live().name).decode("utf-8")  # type: ignore[no-any-return]

    @name.setter
    def name(self, value: str) -> None:
        c = self._live()
        data = encode_utf8(value, "Person.name", "value")
        status = lib.pyffi_person_set_name(c, data, len(data))
        if status:
            raise_status(status)

    @property
    def age(self) -> int:
        """The age, 0..255 (uint8_t); anything else raises OverflowError."""
        return self._live().age  # type: ignore[no-any-return]

    @age.setter
    def age(self, value: int) -> None:
        if value.__class__ is not int and value is not None:
            try:
                value = operator.index(value)
            except TypeError:
                raise TypeError(f"Person.age must be int, not {type(value).__name__}") from None
        _set_field(self._live(), "Person", "age", value, "int", "uint8_t [0, 255]")

    @property
    def closed(self) -> bool:
        """True once the C memory has been released."""
        return self._c is None

    def close(self) -> None:
        """Release the C memory now; later calls do nothing."""
        c, self._c = self._c, None
        if c is not None:
            ffi.release(c)  # runs the destructor once; the gc hook is then disarmed

    def __enter__(self) -> Self:
        self._live()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[type[Person], tuple[str, int]]:
        """Pickle as name and age; the copy owns C memory of its own. Closed: ValueError.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(pyffi.Person("Ann", 30)))
        Person(name='Ann', age=30)
        """
        return Person, (self.name, self.age)

    def __repr__(self) -> str:
        if self._c is None:
            return "<Person (closed)>"
        return f"Person(name={self.name!r}, age={self.age!r})"


_CREATE_AGE_CTYPES = param_ctypes(lib.pyffi_person_create, skip=2)


def create_struct(name: str, age: int) -> Person:
    """Build a person in C and return it BY VALUE; Python then owns its heap name.

    >>> pyffi.create_struct("Bob", 42)
    Person(name='Bob', age=42)
    """
    data = encode_utf8(name, "create_struct", "name")
    if age.__class__ is not int:
        age = index_argument("create_struct", "age", age)
    try:
        result = lib.pyffi_person_create(data, len(data), age)
    except (TypeError, OverflowError) as exc:
        raise argument_error("create_struct", ("age",), _CREATE_AGE_CTYPES, (age,), exc) from None
    if result.status:
        raise_status(result.status)
    return Person._adopt_value(result.value)


# Shown and pickled as pyffi.X, where users find them.
Point.__module__ = Person.__module__ = "pyffi"
