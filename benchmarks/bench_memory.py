#!/usr/bin/env python3
"""Owned memory chapter: sort_array, to_uppercase, create_array against their peers.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_memory.py [--quick]

Every row times pyffi and its peers in the same process, round-robin (each
round runs every candidate once on fresh input), and reports the median
round in milliseconds plus the peer/pyffi ratio (> 1: pyffi is faster).
Sorts are timed alone: every call gets its own fresh copy of the input,
made (and its pages touched) before the clock starts. ``--quick`` skips
the 10**7-element and 10 MB rows; ``--sort`` runs only the sorts.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Callable

import numpy as np

import pyffi


def median_ms(
    cases: dict[str, Callable[..., object]], rounds: int, fresh: Callable[[], object] | None = None
) -> dict[str, float]:
    """Median milliseconds per case; with ``fresh``, each call gets its own
    new input from it, made outside the timed part."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, run in cases.items():
            args = () if fresh is None else (fresh(),)
            start = time.perf_counter()
            run(*args)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def show(ms: float) -> str:
    return f"{ms:9.2f} ms" if ms >= 1 else f"{ms * 1e3:9.2f} us"


def row(label: str, ours: str, result: dict[str, float]) -> None:
    mine = result[ours]
    peers = "  ".join(
        f"{name} {show(ms)} ({ms / mine:5.2f}x)" for name, ms in result.items() if name != ours
    )
    print(f"{label:<28} pyffi {show(mine)}   {peers}")


def bench_sort(sizes: list[int]) -> None:
    print("\nsort_array (ratio = peer time / pyffi time)")
    rng = np.random.default_rng(2026)
    for n in sizes:
        rounds = 15 if n <= 10**6 else 7
        for dtype in ("int32", "int64", "float64"):
            if dtype.startswith("float"):
                x = rng.standard_normal(n).astype(dtype)
            else:
                info = np.iinfo(dtype)
                x = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)

            def one_cpu(y: np.ndarray) -> None:
                # the same sort confined to one CPU: pyffi's single-thread speed
                cpus = os.sched_getaffinity(0)
                os.sched_setaffinity(0, {min(cpus)})
                try:
                    pyffi.sort_array(y)
                finally:
                    os.sched_setaffinity(0, cpus)

            row(
                f"{dtype} x {n:.0e} ndarray",
                "pyffi",
                median_ms(
                    {
                        "pyffi": pyffi.sort_array,
                        "ndarray.sort": np.ndarray.sort,
                        "pyffi on 1 CPU": one_cpu,
                    },
                    rounds,
                    fresh=x.copy,
                ),
            )
        # Lists: pyffi sorts as int64 and writes back; the peer is sorted().
        xs = rng.integers(-(2**63), 2**63 - 1, n, endpoint=True).tolist()
        row(
            f"int list x {n:.0e}",
            "pyffi",
            median_ms(
                {
                    "pyffi": lambda xs=xs: pyffi.sort_array(xs[:]),
                    "sorted()": lambda xs=xs: sorted(xs),
                },
                rounds if n <= 10**6 else 1,
            ),
        )


def bench_upper(big: bool) -> None:
    print("\nto_uppercase (ratio = str.upper time / pyffi time)")
    ascii_unit = "The quick brown fox jumps over the lazy dog. "
    mixed_unit = "東方Project 古明地覺 straße Ærøskøbing 你好世界 Größe "
    sizes = [("20 B", 20), ("1 KB", 1000)] + ([("10 MB", 10**7)] if big else [])
    for kind, unit in (("ASCII", ascii_unit), ("CJK/Latin", mixed_unit)):
        for label, nbytes in sizes:
            reps = nbytes // len(unit.encode()) + 1
            text = (unit * reps).encode()[:nbytes].decode("utf-8", "ignore")
            number = max(1, 200_000 // max(nbytes, 1))
            rounds = 31 if nbytes < 10**6 else 11

            def ours(text: str = text, number: int = number) -> None:
                for _ in range(number):
                    pyffi.to_uppercase(text)

            def peer(text: str = text, number: int = number) -> None:
                for _ in range(number):
                    text.upper()

            result = median_ms({"pyffi": ours, "str.upper": peer}, rounds)
            per_call = {k: v / number for k, v in result.items()}
            row(f"{kind} {label}", "pyffi", per_call)


def bench_create(big: bool) -> None:
    print("\ncreate_array(1, n) (ratio = peer time / pyffi time)")
    for n in [10**5] + ([10**7] if big else []):
        rounds = 15
        row(
            f"n = {n:.0e}",
            "pyffi",
            median_ms(
                {
                    "pyffi": lambda n=n: pyffi.create_array(1, n).close(),
                    "list(range)": lambda n=n: list(range(1, n + 1)),
                    "numpy.arange": lambda n=n: np.arange(1, n + 1),
                },
                rounds,
            ),
        )


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    print(
        f"pyffi {pyffi.__version__} ({pyffi.backend} backend), numpy {np.__version__}, "
        f"Python {sys.version.split()[0]}; medians of interleaved rounds"
    )
    # What numpy's sorts can use here (x86-simd-sort: AVX-512 or AVX2 kernels).
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    print(
        "CPU: "
        + ", ".join(
            f"{f} {'yes' if features.get(f) else 'no'}" for f in ("AVX2", "AVX512F", "AVX512_SKX")
        )
    )
    bench_sort([10**6] if quick else [10**6, 10**7])
    if "--sort" in sys.argv[1:]:
        return
    bench_upper(big=not quick)
    bench_create(big=not quick)


if __name__ == "__main__":
    main()
