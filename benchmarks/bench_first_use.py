#!/usr/bin/env python3
"""pyffi.load's first use of each function: declaring it to cffi and making its wrapper.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_first_use.py

For each library (its -dev package installed; glib's is libglib2.0-dev), in a
fresh interpreter: ``pyffi.load`` (from a warm declaration cache), then every
declared function touched once (``getattr``), each timed. Prints the total and
the median per function, in ABI mode (and in API mode where the extension
builds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

LIBRARIES = [
    ("z", "/usr/include/zlib.h", []),
    ("sqlite3", "/usr/include/sqlite3.h", []),
    ("git2", "/usr/include/git2.h", []),
    (
        "glib-2.0",
        "/usr/include/glib-2.0/glib.h",
        ["/usr/include/glib-2.0", "/usr/lib/x86_64-linux-gnu/glib-2.0/include"],
    ),
]

CODE = """
import json, statistics, sys, time
import pyffi
name, header, dirs, mode = json.loads(sys.argv[1])
lib = pyffi.load(name, header, include_dirs=dirs, mode=mode)  # warms the cache
names = lib.functions()
lib = pyffi.load(name, header, include_dirs=dirs, mode=mode)  # a new Library: nothing declared
times = []
for n in names:
    t = time.perf_counter()
    try:
        getattr(lib, n)
    except AttributeError:
        pass
    times.append(time.perf_counter() - t)
print(json.dumps([len(names), sum(times), statistics.median(times)]))
"""


def main() -> None:
    print(f"{'library':<10} {'mode':<4} {'functions':>9} {'all':>9} {'median':>10}")
    for name, header, dirs in LIBRARIES:
        if not os.path.exists(header):
            print(f"{name:<10} (no {header}: skipped)")
            continue
        for mode in ("abi", "api"):
            done = subprocess.run(
                [sys.executable, "-P", "-c", CODE, json.dumps([name, header, dirs, mode])],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                said = [ln for ln in done.stderr.splitlines() if "Error" in ln] or ["?"]
                print(f"{name:<10} {mode:<4} failed: {said[-1][:80]}")
                continue
            count, total, median = json.loads(done.stdout)
            print(f"{name:<10} {mode:<4} {count:>9} {total:>8.2f}s {median * 1e3:>8.3f}ms")


if __name__ == "__main__":
    main()
