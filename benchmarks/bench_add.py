#!/usr/bin/env python3
"""ns per call of ``add(11, 22)`` through every path pyffi offers, and through ctypes.

Run with the venv's interpreter (never a timed test)::

    .venv/bin/python -P benchmarks/bench_add.py

All candidates are measured in one process, round-robin (each round times every
candidate once), and the table reports the median round. The machine is shared
and noisy: read the ratios, which are taken within the same run.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import statistics
import sys
import timeit
from pathlib import Path
from types import ModuleType

import pyffi
from pyffi import abi


def load_pyffi_with_backend(backend: str) -> ModuleType:
    """A second copy of the installed package whose Pythonic layer runs on ``backend``."""
    path = Path(pyffi.__file__).parent
    name = f"pyffi_{backend}_copy"
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py", submodule_search_locations=[str(path)]
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    saved = os.environ.get("PYFFI_BACKEND")
    os.environ["PYFFI_BACKEND"] = backend
    try:
        spec.loader.exec_module(module)
        # the chapters load on first use: while PYFFI_BACKEND names this backend
        assert module.backend == backend
    finally:
        if saved is None:
            del os.environ["PYFFI_BACKEND"]
        else:
            os.environ["PYFFI_BACKEND"] = saved
    return module


I32_MIN, I32_MAX = -(2**31), 2**31 - 1


def candidates() -> dict[str, tuple[str, dict[str, object]]]:
    """name -> (timeit statement, its namespace); every statement yields 11 + 22."""
    py_api = pyffi if pyffi.backend == "api" else load_pyffi_with_backend("api")
    py_abi = pyffi if pyffi.backend == "abi" else load_pyffi_with_backend("abi")
    from pyffi._pyffi import lib as api_lib

    class I32Result(ctypes.Structure):
        _fields_ = [("status", ctypes.c_int), ("value", ctypes.c_int32)]

    c_add = ctypes.CDLL(abi.library_path).pyffi_scalar_add
    c_add.argtypes = [ctypes.c_int32, ctypes.c_int32]
    c_add.restype = I32Result

    def ctypes_add(a: int, b: int) -> int:
        """What pyffi.add does, through ctypes: c_int32 argtypes wrap silently, so check."""
        if not (I32_MIN <= a <= I32_MAX and I32_MIN <= b <= I32_MAX):
            raise OverflowError(f"add() arguments {a}, {b} do not fit int32_t")
        result = c_add(a, b)
        if result.status:
            raise OverflowError(f"add: {a} + {b} does not fit int32_t")
        return result.value  # type: ignore[no-any-return]

    table = {
        "pyffi.add (api backend)": ("add(11, 22)", {"add": py_api.add}),
        "pyffi.add (abi backend)": ("add(11, 22)", {"add": py_abi.add}),
        "raw API-mode lib call, .value": ("f(11, 22).value", {"f": api_lib.pyffi_scalar_add}),
        "raw ABI-mode lib call, .value": ("f(11, 22).value", {"f": abi.lib.pyffi_scalar_add}),
        "ctypes, bare call, .value (unsafe)": ("f(11, 22).value", {"f": c_add}),
        "ctypes, same job as pyffi.add": ("add(11, 22)", {"add": ctypes_add}),
    }
    for name, (stmt, namespace) in table.items():
        assert eval(stmt, dict(namespace)) == 33, name
    return table


def measure(
    table: dict[str, tuple[str, dict[str, object]]], number: int, rounds: int
) -> dict[str, float]:
    timers = {name: timeit.Timer(stmt, globals=dict(ns)) for name, (stmt, ns) in table.items()}
    samples: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(rounds):  # round-robin: noise hits every row alike
        for name, timer in timers.items():
            samples[name].append(timer.timeit(number) / number * 1e9)
    return {name: statistics.median(s) for name, s in samples.items()}


def main() -> None:
    number = int(os.environ.get("BENCH_NUMBER", "50000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "61"))
    ns = measure(candidates(), number, rounds)
    api = ns["pyffi.add (api backend)"]
    print(f"add(11, 22): median of {rounds} rounds x {number} calls, ns per call")
    print(f"{'path':<36} {'ns/call':>8} {'x pyffi.add(api)':>17}")
    for name, t in ns.items():
        print(f"{name:<36} {t:8.1f} {t / api:17.2f}")
    raw = ns["raw API-mode lib call, .value"]
    print()
    print(f"pyffi.add(api) / raw API-mode call          : {api / raw:.2f}x  (target <= 1.5x)")
    print(
        f"ctypes same job / pyffi.add(api)            : "
        f"{ns['ctypes, same job as pyffi.add'] / api:.2f}x  (target >= 2.5x)"
    )
    print(
        f"ctypes bare call / pyffi.add(api)           : "
        f"{ns['ctypes, bare call, .value (unsafe)'] / api:.2f}x"
    )


if __name__ == "__main__":
    main()
