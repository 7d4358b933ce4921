"""Helpers shared by the test modules (conftest.py puts this directory on sys.path)."""

from __future__ import annotations

import os

#: Set by scripts/valgrind: every hypothesis test runs a few examples only.
UNDER_VALGRIND = os.environ.get("PYFFI_TEST_UNDER_VALGRIND") == "1"
#: The ASan run of scripts/test preloads libasan; its allocator keeps freed memory.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def examples(n: int) -> int:
    """Hypothesis example count: ``n``, or a handful under valgrind (~50x slower)."""
    return min(n, 10) if UNDER_VALGRIND else n
