"""pyffi.load on real headers: the first load (preprocess, extract, cache) and a cached one.

Each load runs in a fresh interpreter (`from pyffi import load` done: the
loader is imported on first use, not by `import pyffi`), then the timed
`load` call, so the cached figure is what a script pays at start-up beyond
its imports.
The libraries are the ones tests/test_load_libs.py checks. Medians of 3.

    .venv/bin/python -P benchmarks/bench_headers.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_load_libs import LIBRARIES, header

CODE = """
import json, sys, time
from pyffi import load
name, hdr, kw = json.loads(sys.argv[1])
t = time.perf_counter()
lib = load(name, hdr, **kw)
dt = time.perf_counter() - t
print(dt, len(lib.functions()), len(lib.constants), len(lib.skipped))
"""


def once(args: str, cache: str) -> list[str]:
    env = {**os.environ, "PYFFI_CACHE_DIR": cache}
    out = subprocess.run(
        [sys.executable, "-P", "-c", CODE, args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def main() -> None:
    print(
        f"{'library':12} {'header':24} {'functions':>9} {'constants':>9} {'skipped':>7} "
        f"{'first ms':>9} {'cached ms':>9}"
    )
    for key in sorted(LIBRARIES):
        libname, hdr, kw, _check, _ = LIBRARIES[key]
        args = json.dumps([libname, str(header(hdr)), kw])
        firsts, cached = [], []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as cache:
                first = once(args, cache)
                firsts.append(float(first[0]))
                cached.append(float(once(args, cache)[0]))
        print(
            f"{key:12} {hdr:24} {first[1]:>9} {first[2]:>9} {first[3]:>7} "
            f"{statistics.median(firsts) * 1e3:9.0f} {statistics.median(cached) * 1e3:9.1f}"
        )


if __name__ == "__main__":
    main()
