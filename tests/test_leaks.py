"""Owned returns do not leak: 10**5 calls each, memory stays flat.

Each function runs in a fresh interpreter: warm up, measure, call it 10**5
times, collect, measure again. With the GIL, the measure is RSS, and the growth
must stay within a few MB (a leak of even 16 bytes per call would show 1.6 MB
plus allocator overhead; the owned results here are larger than that).

On a free-threaded CPython RSS is no measure: Python's objects live in
mimalloc's per-thread heaps, which keep pages and hand them back in their own
time (RSS moves by +-4 MB between windows of 20,000 calls, more than the leak
to find). There the two allocators are counted instead, each exactly: glibc
malloc's bytes in use (mallinfo2: the C side's allocations, pyffi's core and
cffi's) and Python's allocated blocks (sys.getallocatedblocks: objects).
"""

from __future__ import annotations

import pytest
from support import FREE_THREADED, UNDER_ASAN, UNDER_VALGRIND

CALLS = 10**5
LIMIT_KB = 3 * 1024  # RSS, with the GIL
LIMIT_MALLOC_KB = 64  # malloc's bytes in use, free-threaded
LIMIT_BLOCKS = 1000  # Python's allocated blocks, free-threaded (a leak of one object a call: 10**5)

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
import ctypes, gc, os, sys, pyffi
def rss_kb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
if {free_threaded}:
    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost").split()]
    mallinfo2 = ctypes.CDLL(None).mallinfo2
    mallinfo2.restype = Mallinfo2
    def measure():
        return (mallinfo2().uordblks + mallinfo2().hblkhd) // 1024, sys.getallocatedblocks()
else:
    def measure():
        return rss_kb(), 0
def body():
{body}
for _ in range(2000):
    body()
gc.collect()
before = measure()
for _ in range({calls}):
    body()
gc.collect()
after = measure()
print(after[0] - before[0], after[1] - before[1])
"""


def _growth(run_python, body: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(KB, blocks) the body grew over CALLS calls: RSS with the GIL; free-threaded,
    malloc's bytes in use and Python's allocated blocks."""
    indented = "\n".join("    " + line for line in body.splitlines())
    done = run_python(PROGRAM.format(body=indented, calls=CALLS, free_threaded=FREE_THREADED))
    assert done.returncode == 0, done.stderr
    kb, blocks = map(int, done.stdout.split())
    return kb, blocks


@pytest.mark.skipif(
    UNDER_ASAN or UNDER_VALGRIND, reason="ASan's and valgrind's allocators hold freed memory back"
)
@pytest.mark.parametrize("name", sorted(CASES))
def test_memory_stays_flat(name: str, run_python) -> None:  # type: ignore[no-untyped-def]
    kb, blocks = _growth(run_python, CASES[name])
    if FREE_THREADED:
        assert kb < LIMIT_MALLOC_KB, (
            f"{name}: malloc's bytes in use grew {kb} KB over {CALLS} calls"
        )
        assert blocks < LIMIT_BLOCKS, f"{name}: {blocks} more Python blocks after {CALLS} calls"
    else:
        assert kb < LIMIT_KB, f"{name}: RSS grew {kb} KB over {CALLS} calls"


def test_the_check_sees_a_real_leak(run_python) -> None:  # type: ignore[no-untyped-def]
    # The same harness on deliberate leaks must fail: C results never released, and
    # (free-threaded) a Python object kept per call.
    if UNDER_ASAN or UNDER_VALGRIND:
        pytest.skip("ASan's and valgrind's allocators hold freed memory back")
    leak = (
        "from pyffi._chapters.backend import ffi, lib\n"
        "out = ffi.new('int64_t **'); n = ffi.new('size_t *')\n"
        "lib.pyffi_create_array(out, n, 1, 8)"
    )
    kb, _ = _growth(run_python, leak)
    assert kb >= (LIMIT_MALLOC_KB if FREE_THREADED else LIMIT_KB)
    if FREE_THREADED:
        _, blocks = _growth(
            run_python, "sys.modules.setdefault('kept', []).append(pyffi.Person('x' * 9, 1))"
        )
        assert blocks >= LIMIT_BLOCKS
