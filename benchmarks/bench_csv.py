#!/usr/bin/env python3
"""pyffi.csv against csv.reader, pandas, pyarrow, polars and duckdb, on files of ~100 MB.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_csv.py [--quick] [--big]

Files are written to a temporary directory and removed afterwards.
* (a) mixed text/number data, every field as text: ``pyffi.csv.read`` vs
  ``list(csv.reader(f))``, ``pandas.read_csv(engine="c", dtype=str)``, duckdb's
  ``read_csv(all_varchar=True).fetchall()`` (Python objects per cell, as pyffi), and
  ``pyarrow.csv.read_csv`` / ``polars.read_csv`` into Arrow string columns (no Python
  object per cell; both multi-threaded);
* (b) numeric data: ``pyffi.csv.read_columns`` vs ``pandas.read_csv(engine="c")``,
  ``numpy.loadtxt``, ``pyarrow.csv.read_csv``, ``polars.read_csv`` and duckdb's
  ``read_csv(...).fetchnumpy()``;
* (c) the C tokenizer alone (``pyffi_csv_parse``, no Python objects) in MB/s
  next to this machine's memcpy bandwidth (``ffi.memmove`` of the same bytes);
* (d) with ``--big``: peak RSS of ``iter_rows`` over a 1 GB file, measured in
  a child process (``VmHWM``).
``--quick`` uses ~10 MB files. Medians of interleaved rounds.
"""

from __future__ import annotations

import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pyffi
from pyffi._chapters.backend import ffi, lib


def median_s(cases: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def mixed_file(path: Path, target: int) -> None:
    rng = random.Random(2026)
    words = ["alpha", "beta", "gamma", "delta", "Zürich", "東京", "naïve café", "x"]
    rows = []
    for i in range(20000):
        note = rng.choice(words) + " " + rng.choice(words)
        if i % 7 == 0:
            note = f'she said "{note}", twice'
        rows.append(
            [
                str(i),
                f"{rng.uniform(-1e6, 1e6):.6f}",
                note,
                str(rng.randrange(10**9)),
                rng.choice(words),
                "",
            ]
        )
    import io

    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    block = buf.getvalue().encode()
    with open(path, "wb") as f:
        f.write(b"id,value,note,count,word,empty\r\n")
        written = 0
        while written < target:
            f.write(block)
            written += len(block)


def numeric_file(path: Path, target: int) -> None:
    rng = random.Random(7)
    lines = [
        ",".join(
            [str(rng.randrange(-(10**6), 10**6)) for _ in range(4)]
            + [f"{rng.uniform(-1e3, 1e3):.4f}" for _ in range(4)]
        )
        for _ in range(20000)
    ]
    block = ("\n".join(lines) + "\n").encode()
    with open(path, "wb") as f:
        f.write(b"a,b,c,d,e,f,g,h\n")
        while f.tell() < target:
            f.write(block)


def tokenizer_mb_s(data: bytes, rounds: int) -> tuple[float, float]:
    """(C tokenizer MB/s, memcpy MB/s) over the same bytes."""
    options = ffi.new(
        "pyffi_csv_options *", {"delimiter": b",", "quotechar": b'"', "trim": False, "strict": True}
    )
    out = ffi.new("pyffi_csv_table **")
    src = ffi.from_buffer(data)
    dst = ffi.new("char[]", len(data))

    def parse() -> None:
        assert lib.pyffi_csv_parse(out, src, len(data), options, True, 1, 0) == 0
        lib.pyffi_csv_table_free(out[0])

    def copy() -> None:
        ffi.memmove(dst, src, len(data))

    t = median_s({"parse": parse, "memcpy": copy}, rounds)
    mb = len(data) / 1e6
    return mb / t["parse"], mb / t["memcpy"]


def rss_of_iter_rows(path: Path) -> tuple[int, int]:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent
    # across fork and exec, and the parent here holds a whole parsed file.
    code = (
        "import pyffi\n"
        f"n = sum(1 for _ in pyffi.csv.iter_rows({str(path)!r}))\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(n, hwm.split()[1])"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", code], capture_output=True, text=True, check=True
    )
    rows, kb = done.stdout.split()
    return int(rows), int(kb)


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    size = 10 * 2**20 if quick else 100 * 2**20
    rounds = 5 if quick else 3
    # The peers: pip install ".[bench]" (pyproject.toml bounds their versions).
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.csv as pacsv

    print(
        "peers: "
        + ", ".join(
            f"{m.__name__} {m.__version__}" for m in (pd, pa, pl, duckdb, __import__("numpy"))
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.csv"
        mixed_file(path, size)
        data = path.read_bytes()
        mb = len(data) / 1e6
        expected = pyffi.csv.read(path)
        with open(path, newline="", encoding="utf-8") as f:
            assert list(csv.reader(f)) == expected

        def stdlib() -> object:
            with open(path, newline="", encoding="utf-8") as f:
                return list(csv.reader(f))

        cases: dict[str, Callable[[], object]] = {
            "pyffi.csv.read(path)": lambda: pyffi.csv.read(path),
            "list(csv.reader(f))": stdlib,
        }
        cases["pandas.read_csv(engine='c', dtype=str)"] = lambda: pd.read_csv(
            path, engine="c", dtype=str, keep_default_na=False
        )
        cases["duckdb read_csv(all_varchar).fetchall()"] = lambda: duckdb.read_csv(
            str(path), all_varchar=True
        ).fetchall()
        as_text = pacsv.ConvertOptions(
            column_types=dict.fromkeys(expected[0], pa.string()), strings_can_be_null=False
        )
        cases["pyarrow.csv.read_csv, string columns"] = lambda: pacsv.read_csv(
            path, convert_options=as_text
        )
        cases["polars.read_csv(infer_schema=False)"] = lambda: pl.read_csv(path, infer_schema=False)
        result = median_s(cases, rounds)
        ours = result["pyffi.csv.read(path)"]
        print(
            f"\n(a) mixed text/numbers, {mb:.0f} MB, {len(expected):,} rows "
            "(ratio = time / pyffi time; > 1: pyffi is faster)"
        )
        for name, t in result.items():
            print(f"  {name:<46} {t * 1e3:9.0f} ms  {t / ours:5.2f}x")

        numeric = Path(tmp) / "numeric.csv"
        numeric_file(numeric, size)
        import numpy as np

        cols = pyffi.csv.read_columns(numeric)
        cases = {"pyffi.csv.read_columns(path)": lambda: pyffi.csv.read_columns(numeric)}
        frame = pd.read_csv(numeric, engine="c")
        assert (np.asarray(cols["a"]) == frame["a"].to_numpy()).all()
        assert (np.asarray(cols["h"]) == frame["h"].to_numpy()).all()
        cases["pandas.read_csv(engine='c')"] = lambda: pd.read_csv(numeric, engine="c")
        cases["pyarrow.csv.read_csv"] = lambda: pacsv.read_csv(numeric)
        cases["polars.read_csv"] = lambda: pl.read_csv(numeric)
        cases["duckdb read_csv().fetchnumpy()"] = lambda: duckdb.read_csv(str(numeric)).fetchnumpy()
        cases["numpy.loadtxt(delimiter=',')"] = lambda: np.loadtxt(
            numeric, delimiter=",", skiprows=1
        )
        result = median_s(cases, rounds)
        ours = result["pyffi.csv.read_columns(path)"]
        print(
            f"\n(b) numeric, {numeric.stat().st_size / 1e6:.0f} MB, 4 int + 4 float columns "
            "(ratio = time / pyffi time)"
        )
        for name, t in result.items():
            print(f"  {name:<46} {t * 1e3:9.0f} ms  {t / ours:5.2f}x")

        print(
            "\n(c) the C tokenizer alone (pyffi_csv_parse: UTF-8 check, fields and rows "
            "found, no Python objects), single thread"
        )
        for name, text in (("mixed", data), ("numeric", numeric.read_bytes())):
            parse, copy = tokenizer_mb_s(text, rounds + 4)
            print(
                f"  {name:<8} {len(text) / 1e6:4.0f} MB: {parse:7,.0f} MB/s; memcpy of the "
                f"same bytes: {copy:,.0f} MB/s ({parse / copy:.2f} of memcpy)"
            )

        if "--big" in sys.argv[1:]:
            big = Path(tmp) / "big.csv"
            with open(big, "wb") as f:
                while f.tell() < 2**30:
                    f.write(data)
            rows, kb = rss_of_iter_rows(big)
            print(
                f"\n(d) iter_rows over {big.stat().st_size / 2**30:.2f} GiB: {rows:,} rows, "
                f"peak RSS {kb / 1024:.0f} MiB"
            )


if __name__ == "__main__":
    main()
