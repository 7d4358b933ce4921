#!/usr/bin/env python3
"""ns per call of a Python ``add(a, b)`` from C: pyffi's embedding API against the raw C API.

Builds ``benchmarks/bench_embed.c`` against the installed wheel
(``python -m pyffi flags --cflags --libs``) and this Python's headers, runs it (every
way timed in each round, in one program and one interpreter) and prints the
median round with ratios to the raw CPython C API. Never a timed test::

    .venv/bin/python -P benchmarks/bench_embed.py [CALLS] [ROUNDS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from collections import defaultdict
from pathlib import Path

from pyffi import embed

HERE = Path(__file__).resolve().parent

WAYS = [
    ("raw", "raw C API: PyGILState_Ensure + PyObject_CallFunction + PyLong_AsLongLong + Release"),
    ("values", "pyffi_embed_call_values: 2 int64 in, an int64 out, one step"),
    ("scope", "pyffi handles: enter, 2 x int64, call, to_int64, 3 x release, leave"),
    ("plain", "pyffi: the same 7 calls without a scope (each takes the GIL)"),
    ("raw_held", "raw C API, GIL held across the loop (no Ensure/Release per call)"),
    ("pyffi_held", "pyffi, GIL held across the loop (pyffi_embed_enter once)"),
]


def main() -> int:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 9
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        print("bench_embed: no C compiler", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        prog = Path(tmp) / "bench_embed"
        subprocess.run(
            [
                cc,
                "-O2",
                str(HERE / "bench_embed.c"),
                "-o",
                str(prog),
                f"-I{sysconfig.get_paths()['include']}",
                *embed.cflags(),
                *embed.libs(),
            ],
            check=True,
        )
        out = subprocess.run(
            [str(prog), str(calls), str(rounds)], check=True, capture_output=True, text=True
        ).stdout
    samples: dict[str, list[float]] = defaultdict(list)
    for line in out.splitlines():
        way, ns = line.split()
        samples[way].append(float(ns))
    median = {way: statistics.median(v) for way, v in samples.items()}
    print(
        f"add(a, b) called from C: median of {rounds} rounds x {calls} calls, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"{'way':<88} {'ns/call':>8} {'vs raw':>7}")
    for key, label in WAYS:
        base = median["raw_held" if key.endswith("_held") else "raw"]
        print(f"{label:<88} {median[key]:>8.0f} {median[key] / base:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
