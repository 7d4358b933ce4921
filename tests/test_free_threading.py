"""Free-threaded CPython (3.14t): pyffi runs with the GIL off and keeps it off.

The rest of the suite runs there too (scripts/test sets PYTHON_GIL=0 for that run, so a
test dependency that does not declare free-threading support cannot turn the GIL back on);
the thread stress tests repeat (support.STRESS_ROUNDS). Here: the suite really runs with
the GIL off, and importing pyffi's modules, on both backends, never turns it on by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support import FREE_THREADED, SAFE_PATH

pytestmark = pytest.mark.skipif(not FREE_THREADED, reason="a free-threaded CPython only")

# Every extension module pyffi ships or builds: the chapters' (api backend: pyffi._pyffi;
# abi: libpyffi.so through cffi's backend), pyffi._rows (csv), pyffi._buffer (Vector),
# pyffi._loader._caller (pyffi.load, ABI mode), a cffi extension pyffi.load compiles
# (mode="api"), and the embedding library (pyffi.embed).
IMPORTS = """
import sys
import pyffi, pyffi._rows, pyffi._buffer, pyffi._loader._caller
assert pyffi.to_uppercase("straße") == "STRASSE"
assert pyffi.csv.read(b"a,b\\n") == [["a", "b"]]
assert pyffi.create_array(3, 9).tolist() == [3, 6, 9]
m = pyffi.load("m", cdef="double cos(double);")
assert m.cos(0.0) == 1.0
m = pyffi.load("m", cdef="double sin(double);", mode="api")
assert m.sin(0.0) == 0.0
assert pyffi.embed.lib is not None
print(pyffi.backend, sys._is_gil_enabled())
"""


def test_the_suite_runs_with_the_gil_off() -> None:
    assert not sys._is_gil_enabled()  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", ["api", "abi"])
def test_importing_pyffi_keeps_the_gil_off(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # No PYTHON_GIL: the interpreter's default, which a module without
    # Py_MOD_GIL_NOT_USED would switch (with a RuntimeWarning, an error under -W error).
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    env.update(PYFFI_BACKEND=backend, PYFFI_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, *SAFE_PATH, "-W", "error", "-c", IMPORTS],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [backend, "False"]
