"""Helpers shared by the test modules (conftest.py puts this directory on sys.path)."""

from __future__ import annotations

import os
import sys
import sysconfig

#: Set by scripts/valgrind: every hypothesis test runs a few examples only.
UNDER_VALGRIND = os.environ.get("PYFFI_TEST_UNDER_VALGRIND") == "1"
#: The ASan run of scripts/test preloads libasan; its allocator keeps freed memory.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def examples(n: int) -> int:
    """Hypothesis example count: ``n``, or a handful under valgrind (~50x slower)."""
    return min(n, 10) if UNDER_VALGRIND else n


#: ``python`` options that keep the working directory off sys.path: -P on 3.11+. Older
#: Pythons have no such flag; scripts/test-wheel runs them from a directory outside
#: the checkout, so the installed pyffi is the one imported there too.
SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else []

#: A free-threaded CPython (3.13t, 3.14t): the suite runs there with the GIL off.
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
#: The thread stress tests run this many times in a row: again and again where threads
#: truly run at once (the GIL off), once elsewhere.
STRESS_ROUNDS = 3 if FREE_THREADED else 1
