#!/usr/bin/env python3
"""Callbacks and C threads: calc against ctypes, compute_heavy against numpy.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_callback.py [--quick]
    PYFFI_BACKEND=abi .venv/bin/python -P benchmarks/bench_callback.py

Every table times pyffi and its peers in the same process, round-robin, and
reports medians plus the peer/pyffi ratio (> 1: pyffi is faster).

* calc: one call ``calc(a, b, op)`` where C calls the Python ``op`` back.
  Peers: the same C function (``pyffi_calc`` in the bundled libpyffi.so)
  through ctypes with a ``CFUNCTYPE`` callback: made per call (the usual
  ctypes way to pass a different op each call); one trampoline made once
  with the op passed as a ``py_object`` user pointer (pyffi's own design,
  in ctypes); and a ``CFUNCTYPE`` made once for one fixed op (the floor for
  ctypes, which a per-call op cannot use). Neither ctypes variant carries
  exceptions out (ctypes prints and swallows them). And ``op(a, b)``
  called directly in Python.
* compute_heavy: sum of tan(cos(sin(x))) over 10**7 float64, threads=1 and
  2, against ``numpy.tan(numpy.cos(numpy.sin(x))).sum()`` and a Python loop
  (timed on 10**5 values and scaled, as the full loop takes seconds).
``--quick`` uses 10**6 values.
"""

from __future__ import annotations

import ctypes
import math
import statistics
import sys
import time
from typing import Callable

import numpy as np

import pyffi
from pyffi import abi


def median_s(
    cases: dict[str, Callable[[], object]], rounds: int, inner: int = 1
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                run()
            times[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(t) for name, t in times.items()}


def show(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds * 1e6:8.2f} us" if seconds >= 1e-6 else f"{seconds * 1e9:8.0f} ns"


def table(title: str, ours: str, result: dict[str, float]) -> None:
    print(f"\n{title} (ratio = time / pyffi time; > 1: pyffi is faster)")
    mine = result[ours]
    for name, t in result.items():
        print(f"  {name:<44} {show(t)}  {t / mine:6.2f}x")


class I32Result(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("value", ctypes.c_int32)]


BINOP = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)
)


def ctypes_calc() -> Callable[[int, int, Callable[[int, int], int]], int]:
    """calc through ctypes, done as carefully as ctypes allows (errors still lost)."""
    lib = ctypes.CDLL(abi.library_path)
    fn = lib.pyffi_calc
    fn.argtypes = [ctypes.c_int32, ctypes.c_int32, BINOP, ctypes.c_void_p]
    fn.restype = I32Result

    def wrap(op: Callable[[int, int], int]) -> object:
        def entry(user: object, a: int, b: int, out: ctypes._Pointer) -> int:  # type: ignore[type-arg]
            out[0] = op(a, b)
            return 0

        return BINOP(entry)

    def calc(a: int, b: int, op: Callable[[int, int], int]) -> int:
        return fn(a, b, wrap(op), None).value

    # pyffi's own design in ctypes: one trampoline made once, the op passed
    # per call as user data (a py_object pointer), exceptions not carried.
    as_object = ctypes.py_object

    @BINOP
    def trampoline(user: int, a: int, b: int, out: ctypes._Pointer) -> int:  # type: ignore[type-arg]
        out[0] = ctypes.cast(user, as_object).value(a, b)
        return 0

    def calc_user_data(a: int, b: int, op: Callable[[int, int], int]) -> int:
        return fn(a, b, trampoline, id(op)).value  # op is alive: the caller holds it

    calc.wrap = wrap  # type: ignore[attr-defined]
    calc.fn = fn  # type: ignore[attr-defined]
    calc.user_data = calc_user_data  # type: ignore[attr-defined]
    return calc


def bench_calc() -> None:
    def op(a: int, b: int) -> int:
        return a + b

    calc = ctypes_calc()
    fn = calc.fn  # type: ignore[attr-defined]
    wrapped = calc.wrap(op)  # type: ignore[attr-defined]
    user_data = calc.user_data  # type: ignore[attr-defined]
    assert pyffi.calc(10, 2, op) == calc(10, 2, op) == fn(10, 2, wrapped, None).value == 12
    assert user_data(10, 2, op) == 12
    result = median_s(
        {
            "pyffi.calc(a, b, op)": lambda: pyffi.calc(10, 2, op),
            "ctypes, CFUNCTYPE made per call": lambda: calc(10, 2, op),
            "ctypes, one CFUNCTYPE + op as py_object user": lambda: user_data(10, 2, op),
            "ctypes, CFUNCTYPE bound to this one op": lambda: fn(10, 2, wrapped, None),
            "op(a, b) called directly in Python": lambda: op(10, 2),
        },
        rounds=15,
        inner=20000,
    )
    table(
        f"calc: one C call that calls a Python op back ({pyffi.backend} backend)",
        "pyffi.calc(a, b, op)",
        result,
    )


def bench_compute(n: int) -> None:
    x = np.random.default_rng(2026).uniform(-10, 10, n)
    reference = np.tan(np.cos(np.sin(x))).sum()
    assert math.isclose(pyffi.compute_heavy(x, threads=1), reference, rel_tol=1e-9)
    small = x[:100_000].tolist()

    def python_loop() -> float:
        tan, cos, sin = math.tan, math.cos, math.sin
        return sum(tan(cos(sin(v))) for v in small)

    result = median_s(
        {
            "compute_heavy(threads=1)": lambda: pyffi.compute_heavy(x, threads=1),
            "compute_heavy(threads=2)": lambda: pyffi.compute_heavy(x, threads=2),
            "numpy.tan(numpy.cos(numpy.sin(x))).sum()": lambda: np.tan(np.cos(np.sin(x))).sum(),
        },
        rounds=11,
    )
    loop = median_s({"loop": python_loop}, rounds=5)["loop"] * (n / len(small))
    result["Python loop (math.*, scaled from 1e5)"] = loop
    table(
        f"compute_heavy on {n:.0e} float64 ({pyffi.backend} backend, "
        f"{__import__('os').cpu_count()} cores)",
        "compute_heavy(threads=1)",
        result,
    )
    speedup = result["compute_heavy(threads=1)"] / result["compute_heavy(threads=2)"]
    print(f"  threads=2 speed-up over threads=1: {speedup:.2f}x")


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    bench_calc()
    bench_compute(10**6 if quick else 10**7)


if __name__ == "__main__":
    main()
