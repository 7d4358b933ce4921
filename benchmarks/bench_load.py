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
* a scalar ``demo_add(int32, int32)`` through ``pyffi.load`` in both modes,
  raw cffi ABI mode (``ffi.dlopen``), raw cffi API mode (an extension of
  that one declaration, compiled here: ``set_source`` + ``emit_c_code`` +
  cc, as a hand-written build script would) and ctypes (argtypes/restype).
"""

from __future__ import annotations

import ctypes
import importlib.util
import shutil
import statistics
import subprocess
import sys
import sysconfig
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


def raw_api_module(cc: str, tmp: Path, so: Path) -> object:
    """The cffi API-mode extension a user would write by hand for ``demo_add``."""
    ffi = cffi.FFI()
    ffi.cdef("int32_t demo_add(int32_t a, int32_t b);")
    ffi.set_source("_bench_raw_api", '#include "demo.h"')
    c_file = tmp / "_bench_raw_api.c"
    ffi.emit_c_code(str(c_file))
    out = tmp / f"_bench_raw_api{sysconfig.get_config_var('EXT_SUFFIX')}"
    paths = sysconfig.get_paths()
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O1",
            f"-I{paths['include']}",
            f"-I{paths['platinclude']}",
            f"-I{DEMO}",
            f"-I{pyffi.get_include()}",
            str(c_file),
            "-o",
            str(out),
            str(so),
        ],
        check=True,
        capture_output=True,
    )
    spec = importlib.util.spec_from_file_location("_bench_raw_api", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_raw_api"] = module
    spec.loader.exec_module(module)
    return module.lib  # type: ignore[attr-defined]


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
        api = pyffi.load(so, DEMO / "demo.h", mode="api")

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
        raw_api = raw_api_module(cc, Path(tmp), so)

        a, b = [1] * 10, [1] * 10
        lib.demo_describe("name", a)
        ctypes_describe("name", b)
        assert a == b == [5] * 10
        assert lib.demo_add(2, 3) == raw.demo_add(2, 3) == add(2, 3) == 5
        assert api.demo_add(2, 3) == raw_api.demo_add(2, 3) == 5

        xs, ys = list(range(10)), list(range(10))
        table(
            "lib.demo_describe(str, list of 10 ints), written back",
            median_ns(
                {
                    "pyffi.load": lambda: lib.demo_describe("some name", xs),
                    'pyffi.load(mode="api")': lambda: api.demo_describe("some name", xs),
                    "ctypes, marshalling written by hand": lambda: ctypes_describe("some name", ys),
                },
                inner=5000,
            ),
            "pyffi.load",
        )
        scalar = median_ns(
            {
                "pyffi.load": lambda: lib.demo_add(11, 22),
                'pyffi.load(mode="api")': lambda: api.demo_add(11, 22),
                "raw cffi ABI mode (ffi.dlopen)": lambda: raw.demo_add(11, 22),
                "raw cffi API mode (set_source, compiled)": lambda: raw_api.demo_add(11, 22),
                "ctypes (argtypes, restype)": lambda: add(11, 22),
            }
        )
        table("demo_add(int32, int32)", scalar, "pyffi.load")
        api_vs_raw = (
            scalar['pyffi.load(mode="api")'] / scalar["raw cffi API mode (set_source, compiled)"]
        )
        ctypes_vs_api = scalar["ctypes (argtypes, restype)"] / scalar['pyffi.load(mode="api")']
        print(
            f'  pyffi.load(mode="api") costs {api_vs_raw:.2f}x the raw cffi API call '
            f"(target: at most 1.3x) and is {ctypes_vs_api:.2f}x faster than ctypes"
        )


if __name__ == "__main__":
    main()
