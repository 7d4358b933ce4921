"""python -m pyffi stubs: .pyi files for a C test library and two real ones, checked by mypy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import BUILD_ENV, DEMO

import pyffi

pytest.importorskip("mypy", reason="mypy is in the test extra")


# The suite runs once per backend; generating stubs and mypy never use pyffi's
# backend, so this module runs on api only (CI time: mypy is slow to start).
pytestmark = pytest.mark.skipif(
    pyffi.backend != "api", reason="backend-independent: run once, on api"
)


def _run_stubs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyffi", "stubs", *args],
        check=False,
        capture_output=True,
        text=True,
        cwd="/",
    )


def _stubs(out: Path, *args: str) -> str:
    done = _run_stubs(*args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def stub_dir(tmp_path_factory, c_library: Path) -> Path:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("stubs")
    assert "functions" in _stubs(d / "demo_stubs.pyi", str(c_library), str(DEMO / "demo.h"))
    _stubs(d / "zlib_stubs.pyi", "z", "/usr/include/zlib.h")
    _stubs(d / "sqlite_stubs.pyi", "sqlite3", "/usr/include/sqlite3.h")
    return d


def _mypy(stub_dir: Path, code: str) -> tuple[int, str]:
    script = stub_dir / "use.py"
    script.write_text(textwrap.dedent(code))
    out, err, status = subprocess_mypy(stub_dir, script)
    return status, out + err


def subprocess_mypy(stub_dir: Path, script: Path) -> tuple[str, str, int]:
    """mypy in a child process (no sanitizer preload), the stubs on MYPYPATH."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(stub_dir / ".mypy_cache"),
            str(script),
        ],
        check=False,
        capture_output=True,
        text=True,
        env=dict(BUILD_ENV, MYPYPATH=str(stub_dir)),
        cwd=stub_dir,
    )
    return done.stdout, done.stderr, done.returncode


PRELUDE = """
    from __future__ import annotations
    import os
    from typing import TYPE_CHECKING, cast
    import pyffi
    DEMO_LIB, DEMO_H = os.environ["DEMO_LIB"], os.environ["DEMO_H"]
    if TYPE_CHECKING:
        from demo_stubs import Library as Demo
        from sqlite_stubs import Library as Sqlite
        from zlib_stubs import Library as Zlib
    demo = cast("Demo", pyffi.load(DEMO_LIB, DEMO_H))
    z = cast("Zlib", pyffi.load("z", "/usr/include/zlib.h"))
    db = cast("Sqlite", pyffi.load("sqlite3", "/usr/include/sqlite3.h"))
"""


def test_correct_uses_pass_and_run(stub_dir: Path, c_library: Path) -> None:
    status, out = _mypy(
        stub_dir,
        PRELUDE
        + """
    total: int = demo.demo_add(2, 3)
    scaled: float = demo.demo_scale(1.5, 2.0)
    flag: bool = demo.demo_negate(True)
    n: int = demo.demo_strlen("text") + demo.demo_strlen(b"bytes")
    count: int = demo.demo_vec_sum([1, 2, 3])
    version: str | None = demo.demo_version()
    bound: int = z.compressBound(100)
    crc: int = z.crc32(0, b"abc", 3)
    zv: str | None = z.zlibVersion()
    level: int = z.Z_BEST_COMPRESSION
    sv: str | None = db.sqlite3_libversion()
    ok: int = db.SQLITE_OK
    assert (total, scaled, flag, n, count, ok) == (5, 3.0, False, 9, 6, 0)
    assert bound >= 100 and crc == 0x352441C2 and zv and sv
    print("ran")
    """,
    )
    assert status == 0, out
    # What mypy accepts also runs: the stubs describe the real marshalling.
    done = subprocess.run(
        [sys.executable, str(stub_dir / "use.py")],
        check=False,
        capture_output=True,
        text=True,
        env=dict(os.environ, DEMO_LIB=str(c_library), DEMO_H=str(DEMO / "demo.h")),
        cwd="/",
    )
    assert (done.returncode, done.stdout) == (0, "ran\n"), done.stderr


def test_wrong_argument_and_result_uses_are_reported(stub_dir: Path) -> None:
    status, out = _mypy(
        stub_dir,
        PRELUDE
        + """
    a = demo.demo_add("2", 3)
    b: str = z.compressBound(100)
    c = z.crc32(0, 12, 3)
    d: int = db.sqlite3_libversion()
    e = demo.demo_no_such_function()
    """,
    )
    assert status == 1, out
    script = (stub_dir / "use.py").read_text().splitlines()

    def line_of(text: str) -> str:
        return f"use.py:{next(k + 1 for k, ln in enumerate(script) if text in ln)}:"

    errors = [ln for ln in out.splitlines() if ": error:" in ln]
    expected = {
        'demo.demo_add("2", 3)': "arg-type",
        "b: str = z.compressBound": "assignment",
        "z.crc32(0, 12, 3)": "arg-type",
        "d: int = db.sqlite3_libversion": "assignment",
        "demo.demo_no_such_function": "attr-defined",
    }
    for code, kind in expected.items():
        assert any(ln.startswith(line_of(code)) and f"[{kind}]" in ln for ln in errors), (code, out)
    assert len(errors) == len(expected), out


def _preprocessed_declaration(header: str, name: str) -> str:
    """The declaration of function ``name`` as the C preprocessor gives it from ``header``,
    white space folded: the expectation comes from the header installed on this machine
    (zlib.h spells compressBound differently on Debian 12 and 13)."""
    done = subprocess.run(
        [os.environ.get("CC", "cc"), "-E", "-P", header],
        check=True,
        capture_output=True,
        text=True,
    )
    found = re.search(r"[^;{}]*\b" + name + r"\s*\([^;]*;", done.stdout)
    assert found, f"{name} is not declared in {header}"
    return " ".join(found.group(0).split())


def test_stub_text_carries_c_declarations_and_constants(stub_dir: Path) -> None:
    text = (stub_dir / "zlib_stubs.pyi").read_text()
    declaration = _preprocessed_declaration("/usr/include/zlib.h", "compressBound")
    assert declaration.startswith("extern uLong compressBound"), declaration
    assert f'"""``{declaration}``"""' in text
    assert "    Z_OK: int\n" in text
    assert "    def deflate(self, strm: " in text
    demo = (stub_dir / "demo_stubs.pyi").read_text()
    assert "def demo_version(self) -> str | None:" in demo
    assert "def demo_add(self, a: int, b: int) -> int:" in demo


def test_stubs_of_a_library_that_does_not_load_fail_clearly(tmp_path: Path) -> None:
    done = _run_stubs("no_such_lib_here", "/usr/include/zlib.h", "-o", str(tmp_path / "x.pyi"))
    assert done.returncode == 1
    assert "python -m pyffi stubs: cannot load library 'no_such_lib_here'" in done.stderr
    assert not (tmp_path / "x.pyi").exists()


def test_stubs_owned_option_is_checked(tmp_path: Path) -> None:
    done = _run_stubs(
        "z", "/usr/include/zlib.h", "--owned", "nofree", "-o", str(tmp_path / "x.pyi")
    )
    assert done.returncode == 2
    assert "--owned 'nofree': expected FUNCTION=FREE" in done.stderr


def test_api_mode_stubs_add_inline_functions_and_macros(tmp_path: Path, c_library: Path) -> None:
    out = tmp_path / "demo_api.pyi"
    _stubs(out, str(c_library), str(DEMO / "demo.h"), "--mode", "api")
    text = out.read_text()
    assert "def demo_twice(self, x: int) -> int:" in text
    assert "def demo_add_ten(self, x: int) -> int:" in text
    assert '"""``int32_t demo_add_ten(int32_t x);``"""' in text
    abi = tmp_path / "demo_abi.pyi"
    _stubs(abi, str(c_library), str(DEMO / "demo.h"))
    assert "demo_twice" not in abi.read_text()
