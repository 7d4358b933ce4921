"""Python values that would crash the interpreter through C: a list or tuple whose
``__len__`` says more, or fewer, items than it holds (C gets the items the object holds,
and only those are written back), and a numpy array of Python objects passed as memory
(refused with a TypeError).

Each case runs in a child interpreter with a timeout: a crash (C reading past the
array) is a failed test, never a dead test run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO

LIARS = """
import json, sys
import pyffi

class Liar(list):
    def __init__(self, items, says):
        super().__init__(items)
        self.says = says
    def __len__(self):
        return self.says

class TupleLiar(tuple):
    def __new__(cls, items, says):
        self = super().__new__(cls, items)
        self.says = says
        return self
    def __len__(self):
        return self.says

out = {}
"""

CHAPTERS = """
for says in (0, 1, 1000, 10**6):
    xs = Liar([3, -1, 2], says)
    pyffi.sort_array(xs)
    out[f"sort_array {says}"] = [*list.__iter__(xs)]
    ys = Liar([3, 1, 2], says)
    pyffi.sort_by(ys, lambda a, b: a - b)
    out[f"sort_by {says}"] = [*list.__iter__(ys)]
    out[f"map_f64 {says}"] = list(pyffi.map_f64(lambda x: x * 2, Liar([1.0, 2.0], says)))
    out[f"compute_heavy {says}"] = pyffi.compute_heavy(Liar([0.0, 1.0], says), threads=1)
    out[f"compute_heavy tuple {says}"] = pyffi.compute_heavy(TupleLiar((0.0, 1.0), says), threads=1)
print(json.dumps(out))
"""

# The same calls with plain lists and tuples, for comparison.
HONEST = """
def Liar(items, says):
    return list(items)

def TupleLiar(items, says):
    return tuple(items)
"""

LOADER = """
lib = pyffi.load(sys.argv[1], sys.argv[2], mode=sys.argv[3])
for says in (0, 1, 1000, 10**6):
    xs = Liar([1, 2, 3], says)
    lib.demo_vec_double(xs)
    out[f"vec_double {says}"] = [*list.__iter__(xs)]
    out[f"vec_sum {says}"] = lib.demo_vec_sum(TupleLiar((1, 2, 3), says))
    out[f"vec_sum list {says}"] = lib.demo_vec_sum(Liar([1, 2, 3], says))
print(json.dumps(out))
"""


def _run(run_python, code: str, *args: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    argv = ", ".join(repr(a) for a in ("-", *args))
    done = run_python(f"import sys; sys.argv = [{argv}]\n" + LIARS + code)
    assert done.returncode == 0, f"the child died ({done.returncode}):\n{done.stderr[-2000:]}"
    found: dict[str, object] = json.loads(done.stdout)
    return found


def test_the_chapters_take_the_items_a_list_holds(run_python) -> None:  # type: ignore[no-untyped-def]
    out = _run(run_python, CHAPTERS)
    honest = _run(run_python, HONEST + CHAPTERS)
    assert out == honest  # whatever __len__ says
    assert out["sort_array 0"] == [-1, 2, 3]
    assert out["sort_by 1000"] == [1, 2, 3]
    assert out["map_f64 1"] == [2.0, 4.0]


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_pyffi_load_takes_the_items_a_list_holds(  # type: ignore[no-untyped-def]
    run_python, c_library: Path, mode: str
) -> None:
    out = _run(run_python, LOADER, str(c_library), str(DEMO / "demo.h"), mode)
    for says in (0, 1, 1000, 10**6):
        assert out[f"vec_double {says}"] == [2, 4, 6]
        assert out[f"vec_sum {says}"] == out[f"vec_sum list {says}"] == 6


OBJECTS = """
import numpy
lib = pyffi.load(sys.argv[1], sys.argv[2], mode=sys.argv[3])
objs = numpy.array([object(), "x", 3], dtype=object)
for name, call in [
    ("opaque_free", lambda: lib.demo_opaque_free(objs)),
    ("bytes_fill", lambda: lib.demo_bytes_fill(objs, 7)),
    ("bytes_sum", lambda: lib.demo_bytes_sum(objs)),
]:
    try:
        call()
        out[name] = "accepted"
    except TypeError as exc:
        out[name] = str(exc)
print(json.dumps(out))
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_a_buffer_of_python_objects_is_refused(  # type: ignore[no-untyped-def]
    run_python, c_library: Path, mode: str
) -> None:
    pytest.importorskip("numpy")
    out = _run(run_python, OBJECTS, str(c_library), str(DEMO / "demo.h"), mode)
    assert out["opaque_free"] == (
        "demo_opaque_free() argument 'p' (void *) cannot take a buffer of Python objects "
        "(format 'O')"
    )
    assert "demo_bytes_fill() argument 'b' (pyffi_bytes *) cannot take" in str(out["bytes_fill"])
    assert "demo_bytes_sum() argument 'b' (pyffi_bytes) cannot take" in str(out["bytes_sum"])


class _IndexOnly:
    def __index__(self) -> int:
        return 5


class _IntOnly:
    def __int__(self) -> int:
        return 6


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_integers_come_through_index_only(c_library: Path, mode: str) -> None:
    import decimal
    import fractions

    import pyffi

    lib = pyffi.load(c_library, DEMO / "demo.h", mode=mode)
    for value in (decimal.Decimal("2.7"), fractions.Fraction(7, 2), _IntOnly(), 2.5, "3"):
        with pytest.raises(TypeError, match=r"demo_add\(\) argument 'a' \(int32_t\) must be int"):
            lib.demo_add(value, 1)
    assert lib.demo_add(_IndexOnly(), 1) == 6  # __index__, as CPython's own C API
    assert lib.demo_add(True, 1) == 2
    with pytest.raises(OverflowError, match=r"argument 'a' = 2147483648 does not fit int32_t"):
        lib.demo_add(2**31, 1)


def _chapter_calls() -> dict[str, Any]:
    import pyffi

    def set_age(v: object) -> int:
        person = pyffi.Person("Ann", 1)
        person.age = v  # type: ignore[assignment]
        return person.age

    return {
        "add() argument 'a'": lambda v: pyffi.add(v, 1),
        "add_one() argument 'x'": pyffi.add_one,
        "add_u32() argument 'x'": pyffi.add_u32,
        "add_isize() argument 'x'": pyffi.add_isize,
        "get_square_root() argument 'v'": pyffi.get_square_root,
        "sum_as_string() argument 'b'": lambda v: pyffi.sum_as_string(1, v),
        "calc() argument 'a'": lambda v: pyffi.calc(v, 1, lambda a, b: a + b),
        "create_struct() argument 'age'": lambda v: pyffi.create_struct("Bo", v).age,
        "Person() argument 'age'": lambda v: pyffi.Person("Bo", v).age,
        "Person.age": set_age,
    }


@pytest.mark.parametrize("what", list(_chapter_calls()))
def test_the_chapters_take_integers_through_index_only(what: str) -> None:
    import decimal
    import fractions

    call = _chapter_calls()[what]
    for value in (decimal.Decimal("2.7"), fractions.Fraction(7, 2), _IntOnly()):
        with pytest.raises(TypeError, match=rf"^{re.escape(what)} must be int, not "):
            call(value)
    assert call(_IndexOnly()) == call(5)  # __index__, as CPython's own C API


def test_sorting_a_list_takes_integers_through_index_only() -> None:
    import decimal

    import pyffi

    for sort in (pyffi.sort_array, lambda xs: pyffi.sort_by(xs, lambda a, b: a - b)):
        xs = [3, decimal.Decimal("2.7"), 1]
        with pytest.raises(TypeError, match=r"list item 1 must be int, not Decimal"):
            sort(xs)
        assert xs[1] == decimal.Decimal("2.7")  # nothing truncated, nothing written back
        ys = [3, _IndexOnly(), True]
        sort(ys)
        assert ys == [1, 3, 5]
