"""What the manual's doctests need besides pyffi: the C library of ``tests/load/``.

``sphinx-build -b doctest`` imports this (``docs/conf.py``); the library is
built once per process into a temporary directory, as the tests build it.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyffi

DEMO = Path(__file__).resolve().parent.parent / "tests" / "load"


@functools.cache
def demo_library() -> tuple[str, str]:
    """(the built libdemo.so, its header demo.h)."""
    out = Path(tempfile.mkdtemp(prefix="pyffi-docs-"))
    atexit.register(shutil.rmtree, out, True)
    lib = out / "libdemo.so"
    cc = os.environ.get("CC", "cc")
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O1",
            "-I",
            pyffi.get_include(),
            str(DEMO / "demo.c"),
            "-o",
            str(lib),
            "-lm",
        ],
        check=True,
    )
    return str(lib), str(DEMO / "demo.h")
