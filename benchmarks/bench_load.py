#!/usr/bin/env python3
"""pyffi.load against hand-written ctypes and raw cffi ABI mode, per call.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_load.py

Builds tests/load/demo.c into a temporary shared library, then times, in
one process, round-robin, median of rounds:

* a marshalled call ``lib.demo_describe(name, values)`` (``const pyffi_str *``
  from a str, ``pyffi_vec_i64 *`` from a list of 10 ints, written back into
  the same list) through ``pyffi.load``, against the same call through
  ctypes with the structs, the copy in and the write-back loop written by
  hand;
* a scalar ``demo_add(int32, int32)`` through ``pyffi.load``, raw cffi ABI
  mode (``ffi.dlopen``) and ctypes (argtypes/restype set).
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

import cffi

import pyffi

DEMO = Path(__file__).resolve().parent.parent / "tests" / "load"


def median_ns(
    cases: dict[str, Callable[[], object]], rounds: int = 21, inner: int = 20000
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                run()
            times[name].append((time.perf_counter() - start) / inner * 1e9)
    return {name: statistics.median(t) for name, t in times.items()}


def table(title: str, result: dict[str, float], ours: str) -> None:
    print(f"\n{title} (ratio = time / pyffi.load time; > 1: pyffi.load is faster)")
    for name, ns in result.items():
        print(f"  {name:<52} {ns:8.0f} ns  {ns / result[ours]:5.2f}x")


class PyStr(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_char_p), ("len", ctypes.c_size_t)]


class PyVecI64(ctypes.Structure):
    _fields_ = [("ptr", ctypes.POINTER(ctypes.c_int64)), ("len", ctypes.c_size_t)]


def main() -> None:
    cc = shutil.which("cc")
    if cc is None:
        raise SystemExit("bench_load.py needs a C compiler to build the demo library")
    with tempfile.TemporaryDirectory() as tmp:
        so = Path(tmp) / "libdemo.so"
        subprocess.run(
            [
                cc,
                "-shared",
                "-fPIC",
                "-O2",
                "-fvisibility=hidden",
                "-I",
                pyffi.get_include(),
                str(DEMO / "demo.c"),
                "-o",
                str(so),
                "-lm",
            ],
            check=True,
        )
        lib = pyffi.load(so, DEMO / "demo.h")

        # ctypes, written by hand: the argtypes, the structs, the copy and the write-back.
        cdll = ctypes.CDLL(str(so))
        describe = cdll.demo_describe
        describe.argtypes = [ctypes.POINTER(PyStr), ctypes.POINTER(PyVecI64)]
        describe.restype = None
        add = cdll.demo_add
        add.argtypes = [ctypes.c_int32, ctypes.c_int32]
        add.restype = ctypes.c_int32

        def ctypes_describe(name: str, values: list[int]) -> None:
            data = name.encode("utf-8")
            s = PyStr(data, len(data))
            n = len(values)
            arr = (ctypes.c_int64 * n)(*values)
            v = PyVecI64(arr, n)
            describe(ctypes.byref(s), ctypes.byref(v))
            values[:] = arr  # the write-back loop

        raw_ffi = cffi.FFI()
        raw_ffi.cdef("int32_t demo_add(int32_t a, int32_t b);")
        raw = raw_ffi.dlopen(str(so))

        a, b = [1] * 10, [1] * 10
        lib.demo_describe("name", a)
        ctypes_describe("name", b)
        assert a == b == [5] * 10
        assert lib.demo_add(2, 3) == raw.demo_add(2, 3) == add(2, 3) == 5

        xs, ys = list(range(10)), list(range(10))
        table(
            "lib.demo_describe(str, list of 10 ints), written back",
            median_ns(
                {
                    "pyffi.load": lambda: lib.demo_describe("some name", xs),
                    "ctypes, marshalling written by hand": lambda: ctypes_describe("some name", ys),
                },
                inner=5000,
            ),
            "pyffi.load",
        )
        table(
            "demo_add(int32, int32)",
            median_ns(
                {
                    "pyffi.load": lambda: lib.demo_add(11, 22),
                    "raw cffi ABI mode (ffi.dlopen)": lambda: raw.demo_add(11, 22),
                    "ctypes (argtypes, restype)": lambda: add(11, 22),
                }
            ),
            "pyffi.load",
        )


if __name__ == "__main__":
    main()
