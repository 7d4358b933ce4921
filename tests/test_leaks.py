"""Owned returns do not leak: 10**5 calls each, RSS stays flat.

Each function runs in a fresh interpreter: warm up, read RSS, call it 10**5
times, collect, read RSS again. The growth must stay within a few MB (a leak
of even 16 bytes per call would show 1.6 MB plus allocator overhead; the
owned results here are larger than that).
"""

from __future__ import annotations

import pytest
from support import UNDER_ASAN, UNDER_VALGRIND

CALLS = 10**5
LIMIT_KB = 3 * 1024

CASES = {
    "to_uppercase str": "pyffi.to_uppercase('straße 古明地覺 ' * 8)",
    "to_lowercase bytes": "pyffi.to_lowercase(b'HELLO \\xce\\xa3 WORLD' * 8)",
    "sum_as_string": "pyffi.sum_as_string(123456789, 987654321)",
    "create_array, collected": "pyffi.create_array(3, 300)",
    "create_array, closed": "pyffi.create_array(3, 300).close()",
    "create_array, viewed": "memoryview(pyffi.create_array(3, 300)).tolist()",
    "create_struct": "pyffi.create_struct('a name of some length', 42)",
    "Person, collected": "pyffi.Person('a name of some length', 42)",
    "Person, closed, renamed": "p = pyffi.Person('x', 1); p.name = 'a longer name ' * 4; p.close()",
    "process_dict": "pyffi.process_dict({'k%d' % i: i for i in range(8)})",
    "sort_array list": "pyffi.sort_array(list(range(60, 0, -1)))",
    "Utf8Error": "try: pyffi.to_uppercase(b'abc\\xff' * 20)\nexcept pyffi.Utf8Error: pass",
    "calc": "pyffi.calc(3, 4, lambda a, b: a * b)",
    "calc, op raises": "try: pyffi.calc(3, 4, lambda a, b: 1 // 0)\nexcept ZeroDivisionError: pass",
    "sort_by, compare raises": "try: pyffi.sort_by([3, 2, 1] * 10, lambda a, b: [][0])\n"
    "except IndexError: pass",
    "map_f64": "pyffi.map_f64(abs, [-1.0] * 20)",
    "compute_heavy with progress": "pyffi.compute_heavy([0.5] * 100, threads=2, "
    "progress=lambda d, t: None)",
    "compute_heavy, progress raises": "try: pyffi.compute_heavy([0.5] * 100, "
    "progress=lambda d, t: {}['x'])\n"
    "except KeyError: pass",
}

PROGRAM = """
import gc, os, pyffi
def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
def body():
{body}
for _ in range(2000):
    body()
gc.collect()
before = rss_kb()
for _ in range({calls}):
    body()
gc.collect()
print(rss_kb() - before)
"""


@pytest.mark.skipif(
    UNDER_ASAN or UNDER_VALGRIND, reason="ASan's and valgrind's allocators hold freed memory back"
)
@pytest.mark.parametrize("name", sorted(CASES))
def test_rss_stays_flat(name: str, run_python) -> None:  # type: ignore[no-untyped-def]
    body = "\n".join("    " + line for line in CASES[name].splitlines())
    done = run_python(PROGRAM.format(body=body, calls=CALLS))
    assert done.returncode == 0, done.stderr
    growth_kb = int(done.stdout)
    assert growth_kb < LIMIT_KB, f"{name}: RSS grew {growth_kb} KB over {CALLS} calls"


def test_the_check_sees_a_real_leak(run_python) -> None:  # type: ignore[no-untyped-def]
    # The same harness on a deliberate leak (results never released) must fail.
    if UNDER_ASAN or UNDER_VALGRIND:
        pytest.skip("ASan's and valgrind's allocators hold freed memory back")
    leak = (
        "from pyffi._chapters.backend import ffi, lib\n"
        "out = ffi.new('int64_t **'); n = ffi.new('size_t *')\n"
        "lib.pyffi_create_array(out, n, 1, 8)"
    )
    body = "\n".join("    " + line for line in leak.splitlines())
    done = run_python(PROGRAM.format(body=body, calls=CALLS))
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= LIMIT_KB
