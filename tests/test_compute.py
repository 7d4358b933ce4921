"""compute_heavy: C threads, the GIL released, progress callbacks (run once per backend)."""

from __future__ import annotations

import array
import math
import random
import sys
import threading

import numpy as np
import pytest
from support import UNDER_VALGRIND

import pyffi

BLOCK = 1 << 14  # lib/compute.c's unit of work and of progress
# Under valgrind (~50x slower) the inputs shrink; every code path stays.
SCALE = 10 if UNDER_VALGRIND else 1


def reference(xs) -> float:
    return math.fsum(math.tan(math.cos(math.sin(x))) for x in xs)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(2026)
    xs = rng.uniform(-1e3, 1e3, 300_001 // SCALE)
    xs[:6] = [0.0, -0.0, 1e-300, -1e300, math.pi, 5e-324]
    return xs


def test_matches_a_python_reference(data):
    assert pyffi.compute_heavy(data, threads=1) == pytest.approx(reference(data), rel=1e-9)
    small = [0.0, 1.0, -2.5, 1e10]
    assert pyffi.compute_heavy(small) == pytest.approx(reference(small), rel=1e-12)


def test_result_does_not_depend_on_the_thread_count(data):
    one = pyffi.compute_heavy(data, threads=1)
    for threads in (2, 3, 7, 16, 256):
        assert pyffi.compute_heavy(data, threads=threads) == one  # same block order: exact
    assert pyffi.compute_heavy(data) == one  # default: os.cpu_count()


def test_every_input_kind_gives_the_same_sum(data):
    xs = data[:5000]
    expected = pyffi.compute_heavy(xs)
    assert pyffi.compute_heavy(xs.tolist()) == expected
    assert pyffi.compute_heavy(tuple(xs.tolist())) == expected
    assert pyffi.compute_heavy(array.array("d", xs.tolist())) == expected
    assert pyffi.compute_heavy(memoryview(xs).toreadonly()) == expected
    assert pyffi.compute_heavy(iter(xs.tolist())) == expected
    assert pyffi.compute_heavy(xs.reshape(50, 100)) == expected  # any C-contiguous shape


def test_buffers_are_read_in_place():
    xs = np.zeros(BLOCK * 2)
    xs.flags.writeable = False  # read-only is fine: nothing is written
    assert pyffi.compute_heavy(xs) == pytest.approx(2 * BLOCK * math.tan(1.0), rel=1e-12)


def test_special_values():
    assert pyffi.compute_heavy([]) == 0.0
    assert pyffi.compute_heavy(np.zeros(0)) == 0.0
    assert math.isnan(pyffi.compute_heavy([1.0, float("nan")]))
    assert math.isnan(pyffi.compute_heavy([float("inf")]))
    assert pyffi.compute_heavy([1, 2]) == pytest.approx(reference([1, 2]), rel=1e-12)


@pytest.mark.parametrize("threads", [0, -1, 257, 1 << 70])
def test_threads_out_of_range_is_a_value_error(threads):
    with pytest.raises(
        ValueError,
        match=rf"argument 'threads' must be in 1\.\.256, "
        rf"not {threads}$",
    ) as info:
        pyffi.compute_heavy([1.0], threads=threads)
    assert isinstance(info.value, pyffi.InvalidArgumentError)


@pytest.mark.parametrize("threads", ["2", 2.0, True])
def test_threads_of_wrong_type_is_a_type_error(threads):
    with pytest.raises(TypeError, match="argument 'threads' must be int"):
        pyffi.compute_heavy([1.0], threads=threads)


def test_data_errors():
    with pytest.raises(TypeError, match="must be a buffer of float64, not format 'f'"):
        pyffi.compute_heavy(array.array("f", [1.0]))
    with pytest.raises(ValueError, match="must be a contiguous buffer"):
        pyffi.compute_heavy(np.zeros((4, 4))[:, 1])
    with pytest.raises(TypeError, match="item 2 must be a number, not NoneType"):
        pyffi.compute_heavy([1.0, 2.0, None])
    with pytest.raises(TypeError, match="not dict"):
        pyffi.compute_heavy({1.0: 2.0})
    with pytest.raises(TypeError, match="argument 'progress' must be callable or None, not int"):
        pyffi.compute_heavy([1.0], progress=1)  # type: ignore[arg-type]


@pytest.mark.skipif(UNDER_VALGRIND, reason="valgrind runs one thread at a time, GIL or not")
def test_the_gil_is_released_during_the_computation():
    """A Python thread counts while C computes; with the GIL held it could not run at all."""
    xs = np.random.default_rng(1).uniform(-1, 1, 4_000_000)
    counter = 0
    running = threading.Event()
    stop = False

    def count() -> None:
        nonlocal counter
        running.set()
        while not stop:
            counter += 1

    old = sys.getswitchinterval()
    # A long interval: while this thread holds the GIL in Python, the counter
    # gets no turn before the C call; only a released GIL lets it run.
    sys.setswitchinterval(0.05)
    thread = threading.Thread(target=count)
    try:
        thread.start()
        running.wait()
        gains = []
        for _ in range(3):
            before = counter
            pyffi.compute_heavy(xs, threads=1)
            gains.append(counter - before)
    finally:
        stop = True
        thread.join()
        sys.setswitchinterval(old)
    assert max(gains) > 1000, gains


def test_progress_reports_in_order_at_most_about_100_times(data):
    calls: list[tuple[int, int]] = []
    total = pyffi.compute_heavy(data, threads=2, progress=lambda d, t: calls.append((d, t)))
    assert total == pyffi.compute_heavy(data, threads=1)
    n = len(data)
    assert 1 <= len(calls) <= 100
    assert all(t == n for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(set(done))  # strictly increasing
    assert done[-1] == n


def test_progress_of_a_big_input_is_capped_at_100_calls():
    xs = np.ones(BLOCK * (300 if SCALE == 1 else 110))
    calls: list[int] = []
    pyffi.compute_heavy(xs, threads=2, progress=lambda d, t: calls.append(d))
    assert 90 <= len(calls) <= 100 and calls[-1] == len(xs)


def test_progress_small_input_reports_once():
    calls: list[tuple[int, int]] = []
    pyffi.compute_heavy([1.0, 2.0], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 2)]
    pyffi.compute_heavy([], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 2)]  # nothing to do, nothing reported


def test_progress_return_value_is_ignored():
    # The same value as without progress (which is tan(1.0), to libmvec's precision: its
    # vector tan where glibc >= 2.35 has one, sin / cos with its vector sin and cos before).
    alone = pyffi.compute_heavy([0.0])
    assert pyffi.compute_heavy([0.0], progress=lambda d, t: "anything") == alone
    assert alone == pytest.approx(math.tan(1.0), rel=1e-15)


@pytest.mark.parametrize("threads", [1, 2, 8])
def test_progress_exception_stops_the_work_and_propagates(threads, capfd):
    xs = np.ones(BLOCK * 200)
    raised = RuntimeError("stop here")
    calls: list[int] = []

    def progress(done, total):
        calls.append(done)
        raise raised

    with pytest.raises(RuntimeError) as info:
        pyffi.compute_heavy(xs, threads=threads, progress=progress)
    assert info.value is raised
    assert len(calls) == 1  # no report after the failure
    assert capfd.readouterr() == ("", "")


def test_progress_keyboard_interrupt_propagates(capfd):
    interrupt = KeyboardInterrupt()

    def progress(done, total):
        if done > total // 2:
            raise interrupt

    with pytest.raises(KeyboardInterrupt) as info:
        pyffi.compute_heavy(np.ones(BLOCK * 20), threads=2, progress=progress)
    assert info.value is interrupt
    assert capfd.readouterr() == ("", "")


def test_progress_runs_on_the_c_threads():
    """Reports come from the C worker threads (cffi gives each a Python thread state)."""
    idents: set[int] = set()

    def progress(done, total):
        idents.add(threading.get_ident())

    for _ in range(20):
        pyffi.compute_heavy(np.ones(BLOCK * 64 // SCALE), threads=4, progress=progress)
        if len(idents) > 1:
            break
    assert len(idents) > 1


def test_concurrent_calls_from_python_threads(data):
    expected = pyffi.compute_heavy(data, threads=1)
    results: list[float] = []
    rng = random.Random(3)
    threads = [
        threading.Thread(target=lambda k=k: results.append(pyffi.compute_heavy(data, threads=k)))
        for k in (rng.randint(1, 4) for _ in range(6))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 6
