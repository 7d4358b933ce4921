"""Shared fixtures. The suite runs once per backend: PYFFI_BACKEND=api, then abi."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyffi

CHECKOUT = Path(__file__).resolve().parent.parent
# Test modules share helpers through tests/support.py (importlib mode puts
# nothing on sys.path by itself).
sys.path.insert(0, str(CHECKOUT / "tests"))

from support import SAFE_PATH  # noqa: E402 - needs the path above


def pytest_report_header(config: pytest.Config) -> str:
    return f"pyffi {pyffi.__version__} from {Path(pyffi.__file__).parent}, backend: {pyffi.backend}"


@pytest.fixture(scope="session")
def checkout() -> Path:
    """The source checkout (for reading the header; never for importing pyffi)."""
    return CHECKOUT


def _run_python(
    code: str,
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (-P: never the checkout's pyffi)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, *SAFE_PATH, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def run_python():  # type: ignore[no-untyped-def]
    """``run_python(code, env=..., cwd=...)``: a child interpreter's CompletedProcess."""
    return _run_python


# Compilers run without the sanitizer run's LD_PRELOAD=libasan (rustc crashes under it).
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
DEMO = CHECKOUT / "tests" / "load"


@pytest.fixture(scope="session")
def c_library(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler to build the test library")
    out = tmp_path_factory.mktemp("cdemo") / "libdemo.so"
    subprocess.run(
        [
            cc,
            "-shared",
            "-fPIC",
            "-O1",
            "-fvisibility=hidden",
            "-I",
            pyffi.get_include(),
            str(DEMO / "demo.c"),
            "-o",
            str(out),
            "-lm",
        ],
        check=True,
        env=BUILD_ENV,
    )
    return out
