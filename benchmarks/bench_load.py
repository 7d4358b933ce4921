#!/usr/bin/env python3
"""pyffi.load per call, in both modes, against every other way of making the same call.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_load.py [--rounds N]

Builds tests/load/demo.c into a temporary shared library and a hand-written
cffi API-mode extension (``set_source``, compiled here as a build script
would) of the same declarations, then times each row's ways in one process,
round-robin, median of rounds, as a ratio to the raw cffi ABI call
(``ffi.dlopen`` and a hand-written ``cdef``; lower is faster):

* zlib ``crc32(0, data, 16)`` with bytes, and with a bytearray;
* a scalar getter, ``sqlite3_libversion_number()``;
* a struct by value, ``demo_point_norm(p)`` with a struct made by ``ffi.new``;
* a struct from a dict, ``demo_point_norm({"x": 3, "y": 4})`` (the raw ways
  make the struct from the dict with ``ffi.new`` in the timed call);
* a list written back, ``demo_vec_double(xs)`` on a list of 10 ints;
* a callback, ``demo_apply(op, 6, 7)`` calling a Python ``op`` back (a fresh
  ``ffi.callback`` per call in ABI mode by hand; ``@ffi.def_extern`` in API mode).

Columns: pyffi.load (default, mode="abi"), pyffi.load(mode="api"), ctypes by
hand, raw cffi ABI, raw cffi API by hand, and cppyy where it is installed.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib.util
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cffi

import pyffi

DEMO = Path(__file__).resolve().parent.parent / "tests" / "load"
ZLIB_H = "/usr/include/zlib.h"
SQLITE_H = "/usr/include/sqlite3.h"

CDEF = """
unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len);
int sqlite3_libversion_number(void);
typedef struct demo_point { double x; double y; } demo_point;
double demo_point_norm(demo_point p);
typedef struct pyffi_vec_i64 { int64_t *ptr; size_t len; } pyffi_vec_i64;
void demo_vec_double(pyffi_vec_i64 *v);
int32_t demo_apply(int32_t (*op)(int32_t a, int32_t b), int32_t a, int32_t b);
"""
API_CDEF = """
unsigned long crc32(unsigned long crc, const unsigned char *buf, unsigned int len);
int sqlite3_libversion_number(void);
double demo_point_norm(demo_point p);
void demo_vec_double(pyffi_vec_i64 *v);
int32_t demo_apply(int32_t (*op)(int32_t a, int32_t b), int32_t a, int32_t b);
extern "Python" int32_t bench_op(int32_t a, int32_t b);
"""
API_TYPES = """
typedef struct demo_point { double x; double y; } demo_point;
typedef struct pyffi_vec_i64 { int64_t *ptr; size_t len; } pyffi_vec_i64;
"""


def median_ns(cases: dict[str, Callable[[], object]], rounds: int, inner: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            for _ in range(inner):
                run()
            times[name].append((time.perf_counter() - start) / inner * 1e9)
    return {name: statistics.median(t) for name, t in times.items()}


def build(cc: str, tmp: Path) -> tuple[Path, Any, Any]:
    """libdemo.so, and the hand-written API-mode extension (ffi, lib) over demo, z, sqlite3."""
    so = tmp / "libdemo.so"
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O2",
            "-I",
            pyffi.get_include(),
            str(DEMO / "demo.c"),
            "-o",
            str(so),
            "-lm",
        ],
        check=True,
    )
    ffi = cffi.FFI()
    ffi.cdef(API_TYPES + API_CDEF)
    ffi.set_source(
        "_bench_raw_api",
        '#include "demo.h"\n#include <zlib.h>\n#include <sqlite3.h>\n',
    )
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
            "-lz",
            "-lsqlite3",
            f"-Wl,-rpath,{tmp}",
        ],
        check=True,
        capture_output=True,
    )
    spec = importlib.util.spec_from_file_location("_bench_raw_api", out)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_bench_raw_api"] = module
    spec.loader.exec_module(module)
    return so, module.ffi, module.lib  # type: ignore[attr-defined]


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]


class VecI64(ctypes.Structure):
    _fields_ = [("ptr", ctypes.POINTER(ctypes.c_int64)), ("len", ctypes.c_size_t)]


OP = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_int32, ctypes.c_int32)


def ctypes_ways(so: Path) -> dict[str, Callable[..., Any]]:
    """Each row's call written by hand with ctypes."""
    z = ctypes.CDLL(ctypes.util.find_library("z"))
    z.crc32.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_uint]
    z.crc32.restype = ctypes.c_ulong
    s = ctypes.CDLL(ctypes.util.find_library("sqlite3"))
    s.sqlite3_libversion_number.restype = ctypes.c_int
    d = ctypes.CDLL(str(so))
    d.demo_point_norm.argtypes = [Point]
    d.demo_point_norm.restype = ctypes.c_double
    d.demo_vec_double.argtypes = [ctypes.POINTER(VecI64)]
    d.demo_apply.argtypes = [OP, ctypes.c_int32, ctypes.c_int32]
    d.demo_apply.restype = ctypes.c_int32
    u8 = ctypes.c_char * 16

    def vec_double(xs: list[int]) -> None:
        arr = (ctypes.c_int64 * len(xs))(*xs)
        d.demo_vec_double(ctypes.byref(VecI64(arr, len(xs))))
        xs[:] = arr

    return {
        "crc32": lambda data: z.crc32(0, data, 16),
        "crc32_ba": lambda data: z.crc32(0, u8.from_buffer(data), 16),
        "version": s.sqlite3_libversion_number,
        "struct": lambda: d.demo_point_norm(Point(3.0, 4.0)),
        "dict": lambda p: d.demo_point_norm(Point(p["x"], p["y"])),
        "vec": vec_double,
        "callback": lambda op: d.demo_apply(OP(op), 6, 7),
    }


def cppyy_ways(so: Path) -> dict[str, Callable[..., Any]] | None:
    try:
        import cppyy  # type: ignore[import-not-found]
    except ImportError:
        return None
    cppyy.add_include_path(pyffi.get_include())
    cppyy.add_include_path(str(DEMO))
    # cppyy resolves symbols in the global scope: a library another binding opened
    # (RTLD_LOCAL) is made global first, then loaded, then its header read
    ctypes.CDLL(str(so), mode=ctypes.RTLD_GLOBAL)
    for lib in ("z", "sqlite3", str(so)):
        cppyy.load_library(lib)
    cppyy.include("zlib.h")
    cppyy.include("sqlite3.h")
    cppyy.cppdef('extern "C" {\n#include "demo.h"\n}')  # a C header, C linkage
    g = cppyy.gbl
    point = g.demo_point()
    point.x, point.y = 3.0, 4.0
    crc32 = g.crc32
    return {
        # cppyy takes no bytes for a const unsigned char *: a memoryview of them
        "crc32": lambda data: crc32(0, memoryview(data), 16),
        "crc32_ba": lambda data: crc32(0, data, 16),
        "version": g.sqlite3_libversion_number,
        "struct": lambda: g.demo_point_norm(point),
    }


def rows(so: Path, api_ffi: Any, api_lib: Any) -> list[tuple[str, dict[str, Callable[[], Any]]]]:
    """Each row: its title and its ways, every way making the same call."""
    cp = cppyy_ways(so)
    abi_z = pyffi.load("z", ZLIB_H)
    api_z = pyffi.load("z", ZLIB_H, mode="api")
    abi_s = pyffi.load("sqlite3", SQLITE_H)
    api_s = pyffi.load("sqlite3", SQLITE_H, mode="api")
    abi_d = pyffi.load(so, DEMO / "demo.h")
    api_d = pyffi.load(so, DEMO / "demo.h", mode="api")
    # The callback row has Libraries of its own: once a Library has made a trampoline,
    # mode="api" sends all its calls through the Python wrapper (which takes the
    # callbacks' exceptions), and the other rows would measure that instead.
    abi_cb = pyffi.load(so, DEMO / "demo.h")
    api_cb = pyffi.load(so, DEMO / "demo.h", mode="api")
    raw_ffi = cffi.FFI()
    raw_ffi.cdef(CDEF)
    z, s, d = (raw_ffi.dlopen(n) for n in ("libz.so.1", "libsqlite3.so.0", str(so)))
    ct = ctypes_ways(so)
    data, ba = b"x" * 16, bytearray(b"x" * 16)
    by_hand = raw_ffi.new("demo_point *", {"x": 3.0, "y": 4.0})[0]
    api_by_hand = api_ffi.new("demo_point *", {"x": 3.0, "y": 4.0})[0]
    pyffi_point = abi_d.ffi.new("demo_point *", {"x": 3.0, "y": 4.0})[0]
    api_point = api_d.ffi.new("demo_point *", {"x": 3.0, "y": 4.0})[0]
    point = {"x": 3.0, "y": 4.0}
    xs = [1] * 10

    def mul(a: int, b: int) -> int:
        return a * b

    @api_ffi.def_extern()  # type: ignore[misc]
    def bench_op(a: int, b: int) -> int:
        return mul(a, b)

    def raw_vec(lib: Any, ffi: Any) -> Callable[[], None]:
        def call() -> None:
            arr = ffi.new("int64_t[]", xs)
            lib.demo_vec_double(ffi.new("pyffi_vec_i64 *", (arr, len(xs))))
            xs[:] = ffi.unpack(arr, len(xs))

        return call

    found = [
        (
            "zlib crc32(0, bytes of 16, 16)",
            {
                "pyffi.load": lambda: abi_z.crc32(0, data, 16),
                'mode="api"': lambda: api_z.crc32(0, data, 16),
                "ctypes": lambda: ct["crc32"](data),
                "raw cffi ABI": lambda: z.crc32(0, data, 16),
                "raw cffi API": lambda: api_lib.crc32(0, data, 16),
                **({"cppyy": lambda: cp["crc32"](data)} if cp else {}),
            },
        ),
        (
            "crc32 with a bytearray",
            {
                "pyffi.load": lambda: abi_z.crc32(0, ba, 16),
                'mode="api"': lambda: api_z.crc32(0, ba, 16),
                "ctypes": lambda: ct["crc32_ba"](ba),
                "raw cffi ABI": lambda: z.crc32(0, raw_ffi.from_buffer("unsigned char[]", ba), 16),
                "raw cffi API": lambda: api_lib.crc32(
                    0, api_ffi.from_buffer("unsigned char[]", ba), 16
                ),
            },
        ),
        (
            "sqlite3_libversion_number()",
            {
                "pyffi.load": abi_s.sqlite3_libversion_number,
                'mode="api"': api_s.sqlite3_libversion_number,
                "ctypes": ct["version"],
                "raw cffi ABI": s.sqlite3_libversion_number,
                "raw cffi API": api_lib.sqlite3_libversion_number,
                **({"cppyy": cp["version"]} if cp else {}),
            },
        ),
        (
            "demo_point_norm(p), a struct by value (made by ffi.new)",
            {
                "pyffi.load": lambda: abi_d.demo_point_norm(pyffi_point),
                'mode="api"': lambda: api_d.demo_point_norm(api_point),
                "ctypes": ct["struct"],
                "raw cffi ABI": lambda: d.demo_point_norm(by_hand),
                "raw cffi API": lambda: api_lib.demo_point_norm(api_by_hand),
                **({"cppyy": cp["struct"]} if cp else {}),
            },
        ),
        (
            'demo_point_norm({"x": 3, "y": 4}), a struct from a dict',
            {
                "pyffi.load": lambda: abi_d.demo_point_norm(point),
                'mode="api"': lambda: api_d.demo_point_norm(point),
                "ctypes": lambda: ct["dict"](point),
                "raw cffi ABI": lambda: d.demo_point_norm(raw_ffi.new("demo_point *", point)[0]),
                "raw cffi API": lambda: api_lib.demo_point_norm(
                    api_ffi.new("demo_point *", point)[0]
                ),
            },
        ),
        (
            "demo_vec_double(list of 10 ints), written back",
            {
                "pyffi.load": lambda: abi_d.demo_vec_double(xs),
                'mode="api"': lambda: api_d.demo_vec_double(xs),
                "ctypes": lambda: ct["vec"](xs),
                "raw cffi ABI": raw_vec(d, raw_ffi),
                "raw cffi API": raw_vec(api_lib, api_ffi),
            },
        ),
        (
            "demo_apply(op, 6, 7), a Python callback",
            {
                "pyffi.load": lambda: abi_cb.demo_apply(mul, 6, 7),
                'mode="api"': lambda: api_cb.demo_apply(mul, 6, 7),
                "ctypes": lambda: ct["callback"](mul),
                "raw cffi ABI": lambda: d.demo_apply(
                    raw_ffi.callback("int32_t(*)(int32_t, int32_t)", mul), 6, 7
                ),
                "raw cffi API": lambda: api_lib.demo_apply(api_lib.bench_op, 6, 7),
            },
        ),
    ]
    for title, ways in found:  # every way gives the same answer
        answers = {name: run() for name, run in ways.items()}
        assert len({repr(v) for v in answers.values()}) == 1, (title, answers)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--inner", type=int, default=5000)
    args = parser.parse_args()
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        raise SystemExit("bench_load.py needs a C compiler")
    with tempfile.TemporaryDirectory() as tmp:
        so, api_ffi, api_lib = build(cc, Path(tmp))
        print(
            f"pyffi {pyffi.__version__}, Python {platform.python_version()}, "
            f"cffi {cffi.__version__}; ns per call, median of {args.rounds} rounds; "
            "ratio = time / raw cffi ABI time (lower is faster)"
        )
        for title, ways in rows(so, api_ffi, api_lib):
            result = median_ns(ways, args.rounds, args.inner)
            base = result["raw cffi ABI"]
            print(f"\n{title}")
            for name, ns in result.items():
                print(f"  {name:<16} {ns:8.0f} ns  {ns / base:5.2f}x")


if __name__ == "__main__":
    main()
