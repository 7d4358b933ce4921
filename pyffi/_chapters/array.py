"""Arrays: sorting in place without copying, C-allocated vectors, dict marshalling.

Ownership: ``sort_array`` borrows the caller's memory for the call only.
A :class:`Vector` owns the array C returned through an ``ffi.gc`` cdata; it is
released once, by ``close()`` / ``with`` or by the garbage collector.
"""

from __future__ import annotations

import array
import sys
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from typing_extensions import Self  # mypy's own copy; never imported at run time


from .._buffer import Int64View
from .._core.errors import OutOfRangeError
from .._core.sequences import real_len
from .backend import ffi, lib, raise_status
from .call import exact_ints

__all__ = ["Vector", "create_array", "process_dict", "sort_array"]

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

# (kind, itemsize) -> (C element type, C sort function)
_SORTS: dict[tuple[str, int], tuple[str, Callable[[Any, int], int]]] = {
    ("signed", 4): ("int32_t", lib.pyffi_sort_i32),
    ("signed", 8): ("int64_t", lib.pyffi_sort_i64),
    ("unsigned", 4): ("uint32_t", lib.pyffi_sort_u32),
    ("unsigned", 8): ("uint64_t", lib.pyffi_sort_u64),
    ("float", 4): ("float", lib.pyffi_sort_f32),
    ("float", 8): ("double", lib.pyffi_sort_f64),
}
_KINDS = {
    **dict.fromkeys("bhilqn", "signed"),
    **dict.fromkeys("BHILQN", "unsigned"),
    "f": "float",
    "d": "float",
}
# Byte-order prefixes that mean this machine's order.
_NATIVE = ("@", "=", "<" if sys.byteorder == "little" else ">")


def _buffer_sort(fmt: str, itemsize: int) -> tuple[str, Callable[[Any, int], int]] | None:
    code = fmt[1:] if fmt[:1] in _NATIVE else fmt
    kind = _KINDS.get(code)
    return _SORTS.get((kind, itemsize)) if kind else None


def _list_error(xs: list[Any], exc: Exception) -> Exception:
    """Which list item cffi refused, and why."""
    for i, x in enumerate(xs):
        if not isinstance(x, int):
            return TypeError(f"sort_array() list item {i} must be int, not {type(x).__name__}")
        if not _INT64_MIN <= x <= _INT64_MAX:
            return OutOfRangeError(
                f"sort_array() list item {i} = {x} does not fit int64_t "
                f"[{_INT64_MIN}, {_INT64_MAX}]",
                int(lib.PYFFI_OVERFLOW),
            )
    return exc


def _sort_list(xs: list[Any]) -> None:
    n = real_len(xs)  # the items it holds: a subclass's __len__ may say anything
    try:
        data = ffi.new("int64_t[]", exact_ints("sort_array", "list item", xs))
    except (TypeError, OverflowError) as exc:
        raise _list_error(xs, exc) from None
    status = lib.pyffi_sort_i64(data, n)
    if status:
        raise_status(status)
    xs[:] = ffi.unpack(data, n)  # written back only once everything succeeded


def sort_array(xs: Any) -> None:
    """Sort ``xs`` ascending, in place, in C.

    ``xs`` is a writable one-dimensional buffer of int32, int64, uint32,
    uint64, float32 or float64 (``array.array``, a numpy array, a memoryview),
    sorted where it lies without a copy (floats: NaNs last, like numpy), or a
    list of ints, sorted as int64 and written back into the same list (left
    unchanged on any error). Radix sorts, with the GIL released; arrays of
    2**18 elements or more are sorted by as many threads as the process may
    run on (at most 4).

    >>> xs = [3, -1, 2]; pyffi.sort_array(xs); xs
    [-1, 2, 3]
    >>> a = array.array("d", [2.5, float("nan"), -1.0]); pyffi.sort_array(a); a
    array('d', [-1.0, 2.5, nan])
    """
    if isinstance(xs, list):
        _sort_list(xs)
        return
    try:
        view = memoryview(xs)
    except TypeError:
        raise TypeError(
            "sort_array() argument must be a list of ints or a writable buffer "
            f"of numbers, not {type(xs).__name__}"
        ) from None
    with view:
        if view.readonly:
            raise TypeError(
                f"sort_array() needs a writable buffer; the {type(xs).__name__} given is read-only"
            )
        sort = _buffer_sort(view.format, view.itemsize)
        if sort is None:
            raise TypeError(
                f"sort_array() cannot sort buffers of format {view.format!r}; "
                "supported: int32, int64, uint32, uint64, float32, float64 "
                "in native byte order"
            )
        if view.ndim != 1:
            raise ValueError(f"sort_array() sorts one-dimensional buffers, not {view.ndim}-D")
        if not view.c_contiguous:
            raise ValueError("sort_array() needs a contiguous buffer (e.g. not a[::2])")
        ctype, cfunc = sort
        data = ffi.from_buffer(ctype + "[]", view, require_writable=True)
        try:
            status = cfunc(data, view.shape[0])  # type: ignore[index]
        finally:
            ffi.release(data)
        if status:
            raise_status(status)


class Vector(Int64View):
    """A read-only sequence of int64 (or float64) over an array C allocated and pyffi owns.

    Supports ``len``, indexing (negative too) and slicing (to a list),
    iteration, ``==`` with lists and Vectors, and the buffer protocol
    (format ``'q'``, or ``'d'`` for a float64 CSV column), so
    ``memoryview(v)`` and ``numpy.asarray(v)`` see the
    C memory without a copy. ``close()`` / ``with`` release the memory at
    once; while a memoryview or numpy array still uses it, ``close()``
    raises BufferError and keeps it. After release any use raises ValueError.

    >>> with pyffi.create_array(3, 20) as v: list(v), v[-1], len(v)
    ([3, 6, 9, 12, 15, 18], 18, 6)
    """

    __slots__ = ()

    @classmethod
    def _adopt(cls, ptr: Any, length: int, free: Any = None, format: str = "q") -> Vector:
        """Own ``ptr``: released once through ``free`` (default pyffi_array_free).

        ``format`` is the items' buffer format: "q" (int64) or "d" (float64).
        """
        owner = ffi.gc(ptr, free or lib.pyffi_array_free, size=length * 8)
        self = cls()
        self._attach(owner, int(ffi.cast("uintptr_t", ptr)), length, format)
        return self

    def close(self) -> None:
        """Release the C memory now (BufferError while a view exists); later calls do nothing."""
        owner = self._detach()
        if owner is not None:
            ffi.release(owner)  # runs pyffi_array_free once; the gc hook is disarmed

    def __enter__(self) -> Self:
        len(self)  # ValueError if already closed
        return self

    def __reduce__(self) -> tuple[Any, tuple[array.array[Any]]]:
        """Pickle as the items themselves (an ``array.array``, portable across byte orders).

        The copy made on unpickling owns memory of its own. A closed Vector raises ValueError.

        >>> import pickle
        >>> pickle.loads(pickle.dumps(pyffi.create_array(3, 9)))
        Vector([3, 6, 9])
        """
        view = memoryview(self)  # ValueError once closed
        return _vector_from_array, (array.array(view.format, view),)

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __array__(self, dtype: Any = None) -> Any:
        """numpy's fallback when the buffer protocol failed (a closed Vector).

        numpy would otherwise wrap the closed Vector in an object array; going
        through memoryview() raises the ValueError instead.
        """
        import numpy  # only reached from numpy itself

        return numpy.asarray(memoryview(self), dtype=dtype)

    def __iter__(self) -> Iterator[int]:
        """Iterate over a snapshot: closing the Vector meanwhile is safe."""
        return iter(self.tolist())

    def __contains__(self, value: object) -> bool:
        return value in self.tolist()

    def __reversed__(self) -> Iterator[int]:
        return reversed(self.tolist())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Vector):
            return self.tolist() == other.tolist()
        if isinstance(other, list):
            return self.tolist() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.closed:
            return "<Vector (closed)>"
        n = len(self)
        if n <= 10:
            return f"Vector({self.tolist()!r})"
        head = ", ".join(map(str, self[:5]))
        return f"Vector([{head}, ...] (length {n}))"


_ITEM_CTYPE = {"q": "int64_t[]", "d": "double[]"}


def _vector_from_array(items: array.array[Any]) -> Vector:
    """Unpickle a Vector: a fresh C array holding ``items`` (typecode "q" or "d")."""
    if not isinstance(items, array.array) or items.typecode not in _ITEM_CTYPE:
        raise TypeError(f"a pickled Vector holds an int64 or float64 array, not {items!r:.60}")
    owner = ffi.new(_ITEM_CTYPE[items.typecode], len(items))  # freed with its owner, once
    ffi.memmove(owner, items, len(items) * items.itemsize)
    self = Vector()
    self._attach(owner, int(ffi.cast("uintptr_t", owner)), len(items), items.typecode)
    return self


def create_array(divisor: int = 3, upto: int = 50) -> Vector:
    """The multiples of ``divisor`` in 1..``upto``, computed and allocated by C.

    >>> pyffi.create_array() == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48]
    True
    >>> pyffi.create_array(0)
    Traceback (most recent call last):
    pyffi.DivisionByZeroError: create_array: divisor is 0
    """
    out = ffi.new("int64_t **")
    out_len = ffi.new("size_t *")
    for name, value in (("divisor", divisor), ("upto", upto)):
        if not isinstance(value, int):
            raise TypeError(
                f"create_array() argument '{name}' must be int, not {type(value).__name__}"
            )
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OutOfRangeError(
                f"create_array() argument '{name}' = {value} does not fit "
                f"int64_t [{_INT64_MIN}, {_INT64_MAX}]",
                int(lib.PYFFI_OVERFLOW),
            )
    status = lib.pyffi_create_array(out, out_len, divisor, upto)
    if status:
        raise_status(status)
    return Vector._adopt(out[0], out_len[0])


def process_dict(d: Mapping[str, int]) -> list[tuple[str, int]]:
    """Marshal a str -> int mapping into C ``{key, key_len, int64 value}`` structs;
    C sorts them by key bytes (UTF-8).

    >>> pyffi.process_dict({"b": 2, "a": 1, "é": 3})
    [('a', 1), ('b', 2), ('é', 3)]
    """
    if not isinstance(d, Mapping):
        raise TypeError(f"process_dict() argument must be a dict, not {type(d).__name__}")
    items = list(d.items())
    entries = ffi.new("pyffi_entry[]", len(items))
    keys = []  # the key buffers must outlive the C call
    for i, (key, value) in enumerate(items):
        if not isinstance(key, str):
            raise TypeError(f"process_dict() keys must be str, not {type(key).__name__} ({key!r})")
        if not isinstance(value, int):
            raise TypeError(
                f"process_dict() value of key {key!r} must be int, not {type(value).__name__}"
            )
        entry = entries[i]
        try:
            entry.value = value
        except OverflowError:
            raise OutOfRangeError(
                f"process_dict() value of key {key!r} = {value} does not "
                f"fit int64_t [{_INT64_MIN}, {_INT64_MAX}]",
                int(lib.PYFFI_OVERFLOW),
            ) from None
        data = key.encode("utf-8", "surrogatepass")
        keys.append(buf := ffi.from_buffer(data))
        entry.key = buf
        entry.key_len = len(data)
    status = lib.pyffi_entries_sort(entries, len(items))
    if status:
        raise_status(status)
    return [
        (ffi.unpack(e.key, e.key_len).decode("utf-8", "surrogatepass"), e.value) for e in entries
    ]


Vector.__module__ = "pyffi"  # shown and pickled as pyffi.Vector, where users find it
