"""C calling Python: calc, sort_by, map_f64 (run once per backend)."""

from __future__ import annotations

import array
import functools
import random
import threading
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import examples

import pyffi

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


class Boom(Exception):
    pass


def frames(exc: BaseException) -> list[str]:
    return [f.name for f in traceback.extract_tb(exc.__traceback__)]


# --- calc -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        (lambda a, b: a + b, 12),
        (lambda a, b: a - b, 8),
        (lambda a, b: a * b, 20),
        (lambda a, b: a // b, 5),
    ],
)
def test_calc_applies_the_python_op(op, expected):
    assert pyffi.calc(10, 2, op) == expected


def test_calc_accepts_any_callable():
    import operator

    class Op:
        def __call__(self, a, b):
            return a**b

    assert pyffi.calc(7, 3, operator.mod) == 1
    assert pyffi.calc(2, 10, Op()) == 1024
    assert pyffi.calc(2, 3, functools.partial(lambda k, a, b: k * (a + b), 3)) == 15
    assert pyffi.calc(I32_MIN, I32_MAX, lambda a, b: a) == I32_MIN
    assert pyffi.calc(0, 0, lambda a, b: True) == 1  # bool is an int


def test_calc_propagates_the_same_exception_with_its_traceback(capfd):
    raised = Boom("from the op")

    def op(a, b):
        raise raised

    with pytest.raises(Boom) as info:
        pyffi.calc(1, 2, op)
    assert info.value is raised
    assert "op" in frames(info.value)  # the frame that raised is kept
    assert capfd.readouterr() == ("", "")


def test_calc_propagates_keyboard_interrupt(capfd):
    interrupt = KeyboardInterrupt()

    def op(a, b):
        raise interrupt

    with pytest.raises(KeyboardInterrupt) as info:
        pyffi.calc(1, 2, op)
    assert info.value is interrupt
    assert capfd.readouterr() == ("", "")


def test_calc_op_with_the_wrong_signature_raises_its_type_error(capfd):
    with pytest.raises(TypeError, match="positional argument"):
        pyffi.calc(1, 2, lambda a: a)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("value", [1.5, None, "3", [1], 3 + 0j])
def test_calc_result_of_wrong_type_is_a_type_error(value, capfd):
    with pytest.raises(
        TypeError,
        match=rf"^calc\(\): op\(1, 2\) returned "
        rf"{type(value).__name__}, expected int$",
    ):
        pyffi.calc(1, 2, lambda a, b: value)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("value", [I32_MAX + 1, I32_MIN - 1, 1 << 100])
def test_calc_result_out_of_int32_is_an_overflow_error(value, capfd):
    with pytest.raises(OverflowError, match=rf"returned {value}, which does not fit int32_t"):
        pyffi.calc(1, 2, lambda a, b: value)
    assert capfd.readouterr() == ("", "")


def test_calc_argument_errors_name_the_parameter():
    with pytest.raises(OverflowError, match="argument 'a' = 2147483648 does not fit int32_t"):
        pyffi.calc(I32_MAX + 1, 0, lambda a, b: 0)
    with pytest.raises(TypeError, match="argument 'b' must be int, not str"):
        pyffi.calc(0, "1", lambda a, b: 0)
    with pytest.raises(TypeError, match="argument 'op' must be callable, not int"):
        pyffi.calc(1, 2, 3)  # type: ignore[arg-type]


def test_calc_nested_inside_its_own_op():
    assert pyffi.calc(3, 4, lambda a, b: pyffi.calc(a, b, lambda x, y: x * y) + 1) == 13


def test_calc_from_threads_never_mixes_ops():
    """Each call's op travels in its own handle: no thread sees another's op."""
    barrier = threading.Barrier(4)
    failures: list[str] = []

    def run(k: int) -> None:
        op = lambda a, b: a * k + b  # noqa: E731 - one op per thread
        barrier.wait()
        for i in range(2000):
            got = pyffi.calc(i, k, op)
            if got != i * k + k:
                failures.append(f"thread {k}: calc({i}, {k}) = {got}")
                return

    threads = [threading.Thread(target=run, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_calc_exception_in_one_thread_stays_in_that_thread():
    barrier = threading.Barrier(2)
    seen: dict[str, object] = {}

    def failing() -> None:
        barrier.wait()
        for _ in range(500):
            try:
                pyffi.calc(1, 2, lambda a, b: 1 // 0)
            except ZeroDivisionError:
                continue
            seen["failing"] = "no exception"
            return

    def fine() -> None:
        barrier.wait()
        for i in range(500):
            if pyffi.calc(i, 1, lambda a, b: a + b) != i + 1:
                seen["fine"] = "wrong result"
                return

    threads = [threading.Thread(target=failing), threading.Thread(target=fine)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {}


# --- sort_by ----------------------------------------------------------------


def by_value(a: int, b: int) -> int:
    return (a > b) - (a < b)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=300))
def test_sort_by_matches_sorted(xs):
    ys = list(xs)
    pyffi.sort_by(ys, by_value)
    assert ys == sorted(xs)


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=200))
def test_sort_by_is_stable(xs):
    """Compare by tens only: values with equal keys keep their order, as sorted()."""
    ys = list(xs)
    pyffi.sort_by(ys, lambda a, b: a // 10 - b // 10)
    assert ys == sorted(xs, key=lambda x: x // 10)


def test_sort_by_uses_the_sign_of_any_int():
    xs = [5, 1, 4]
    pyffi.sort_by(xs, lambda a, b: (b - a) << 100)  # descending, huge ints
    assert xs == [5, 4, 1]
    xs = [3, 1, 2]
    pyffi.sort_by(xs, lambda a, b: (a > b) - (a < b) + 0 * True)
    assert xs == [1, 2, 3]


def test_sort_by_edge_sizes():
    for n in (0, 1, 2, 15, 16, 17, 31, 32, 33, 1000):
        xs = random.Random(n).sample(range(-5000, 5000), n)
        ys = list(xs)
        pyffi.sort_by(ys, by_value)
        assert ys == sorted(xs)


def test_sort_by_inconsistent_compare_gives_a_permutation():
    rng = random.Random(7)
    xs = [rng.randrange(100) for _ in range(500)]
    ys = list(xs)
    pyffi.sort_by(ys, lambda a, b: rng.choice((-1, 0, 1)))
    assert sorted(ys) == sorted(xs)


@pytest.mark.parametrize("fail_at", [1, 5, 50, 400])
def test_sort_by_exception_propagates_and_the_list_is_unchanged(fail_at, capfd):
    xs = list(range(300, 0, -1))
    original = list(xs)
    raised = Boom(f"call {fail_at}")
    calls = 0

    def compare(a, b):
        nonlocal calls
        calls += 1
        if calls == fail_at:
            raise raised
        return a - b

    with pytest.raises(Boom) as info:
        pyffi.sort_by(xs, compare)
    assert info.value is raised
    assert calls == fail_at  # C stopped at once
    assert xs == original
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("value", [0.5, None, "1"])
def test_sort_by_compare_result_of_wrong_type(value, capfd):
    xs = [2, 1]
    with pytest.raises(
        TypeError,
        match=rf"^sort_by\(\): compare\(\d, \d\) returned "
        rf"{type(value).__name__}, expected int$",
    ):
        pyffi.sort_by(xs, lambda a, b: value)
    assert xs == [2, 1]
    assert capfd.readouterr() == ("", "")


def test_sort_by_argument_errors():
    with pytest.raises(TypeError, match="argument 'xs' must be a list of ints, not tuple"):
        pyffi.sort_by((2, 1), by_value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 'compare' must be callable, not NoneType"):
        pyffi.sort_by([2, 1], None)  # type: ignore[arg-type]
    xs = [3, "2", 1]
    with pytest.raises(TypeError, match=r"^sort_by\(\) list item 1 must be int, not str$"):
        pyffi.sort_by(xs, by_value)  # type: ignore[list-item]
    assert xs == [3, "2", 1]
    xs = [3, 1 << 63, 1]
    with pytest.raises(OverflowError, match=r"list item 1 = 9223372036854775808 does not fit"):
        pyffi.sort_by(xs, by_value)
    assert xs == [3, 1 << 63, 1]


def test_sort_by_list_modified_by_compare_is_a_value_error():
    xs = [3, 2, 1]

    def compare(a, b):
        if len(xs) == 3:
            xs.append(0)
        return a - b

    with pytest.raises(ValueError, match="modified during the sort"):
        pyffi.sort_by(xs, compare)
    assert xs == [3, 2, 1, 0]  # the caller's change is kept, not overwritten

    ys = [3, 2, 1]

    def swap(a, b):
        ys[0] = 99
        return a - b

    with pytest.raises(ValueError, match="modified during the sort"):
        pyffi.sort_by(ys, swap)
    assert ys == [99, 2, 1]


# --- map_f64 ----------------------------------------------------------------


def test_map_f64_on_sequences_and_buffers():
    import numpy as np

    expected = [2.0, 5.0, -1.0]
    sources = [
        [1.0, 2.5, -0.5],
        (1, 2.5, -0.5),
        array.array("d", [1, 2.5, -0.5]),
        np.array([1, 2.5, -0.5]),
        (x for x in [1, 2.5, -0.5]),
        memoryview(array.array("d", [1, 2.5, -0.5])).toreadonly(),
    ]
    for xs in sources:
        assert pyffi.map_f64(lambda x: 2 * x, xs) == expected
    assert pyffi.map_f64(lambda x: 1, [0.0, 0.0]) == [1.0, 1.0]  # ints become floats
    assert pyffi.map_f64(abs, []) == []
    nan = pyffi.map_f64(lambda x: x, [float("nan")])[0]
    assert nan != nan


def test_map_f64_calls_fn_in_order_once_per_element():
    seen: list[float] = []
    pyffi.map_f64(lambda x: seen.append(x) or x, [3.0, 1.0, 2.0])
    assert seen == [3.0, 1.0, 2.0]


def test_map_f64_exception_propagates(capfd):
    raised = Boom()
    seen: list[float] = []

    def fn(x):
        seen.append(x)
        if x == 2.0:
            raise raised
        return x

    with pytest.raises(Boom) as info:
        pyffi.map_f64(fn, [1.0, 2.0, 3.0])
    assert info.value is raised
    assert seen == [1.0, 2.0]  # stopped at once
    assert capfd.readouterr() == ("", "")


def test_map_f64_result_errors(capfd):
    with pytest.raises(TypeError, match=r"^map_f64\(\): fn\(1\.0\) returned str, expected float$"):
        pyffi.map_f64(lambda x: "x", [1.0])
    with pytest.raises(OverflowError, match=r"fn\(1\.0\) returned 1000.*does not fit a double"):
        pyffi.map_f64(lambda x: 10**400, [1.0])
    assert capfd.readouterr() == ("", "")


def test_map_f64_argument_errors():
    import numpy as np

    with pytest.raises(TypeError, match="argument 'fn' must be callable, not list"):
        pyffi.map_f64([1.0], [1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a buffer of float64, not format 'i'"):
        pyffi.map_f64(abs, array.array("i", [1]))
    with pytest.raises(TypeError, match="must be a buffer of float64, not format 'f'"):
        pyffi.map_f64(abs, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="must be a buffer of float64"):
        pyffi.map_f64(abs, np.zeros(3, dtype=">f8"))
    with pytest.raises(ValueError, match="must be a contiguous buffer"):
        pyffi.map_f64(abs, np.zeros(6)[::2])
    with pytest.raises(TypeError, match=r"argument 'xs' item 1 must be a number, not str"):
        pyffi.map_f64(abs, [1.0, "2"])
    with pytest.raises(OverflowError, match=r"argument 'xs' item 0 = 1000.*does not fit"):
        pyffi.map_f64(abs, [10**400])
    with pytest.raises(
        TypeError, match="must be a sequence of floats or a float64 buffer, not int"
    ):
        pyffi.map_f64(abs, 3)
    with pytest.raises(TypeError, match="not str"):
        pyffi.map_f64(abs, "1.0")
