"""pyffi.load gives what a C compiler gives: each case is a small header, and a C
program built from the same header prints the values gcc computes; both modes must
agree with it (issue: exact C)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BUILD_ENV

import pyffi

CC = shutil.which(os.environ.get("CC", "cc"))
pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")

CONSTANTS = r"""
#define F_SUFFIX 35.2e+0f
#define F_THIRD (1.0f / 3)
#define F_PLUS (1 + 0.5)
#define F_TIMES (1.5 * 2)
#define F_FLOAT_TIMES (2.5f * 2)
#define F_MINUS (10 - 0.25)
#define F_CAST ((float)0.1)
#define F_MIXED (0.1f + 0.2)
#define F_NEG (-1.5f)
#define F_HEX 0x1.8p1f
#define F_COMPARE (1.5 > 1)
#define C_U16 u'é'
#define C_WIDE L'Z'
#define C_U32 U'x'
#define C_U16_ESCAPE u'\u00e9'
#define C_WIDE_HEX L'\x41'
#define C_PLAIN 'a'
int exact_constants_anchor(int);
"""


def _gcc_prints(tmp_path: Path, header: Path, printf: list[tuple[str, str]]) -> dict[str, str]:
    """name -> what a gcc-built program prints for ``printf(fmt, value)``."""
    src = tmp_path / "print.c"
    lines = "".join(
        f'    printf("{name} {fmt}\\n", {expr});\n' for name, (fmt, expr) in dict(printf).items()
    )
    src.write_text(f'#include <stdio.h>\n#include "{header}"\nint main(void) {{\n{lines}}}\n')
    exe = tmp_path / "print"
    subprocess.run([CC, str(src), "-o", str(exe)], check=True, env=BUILD_ENV)  # type: ignore[list-item]
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def _spelt(value: object) -> str:
    return f"{value:.17g}" if isinstance(value, float) else str(value)


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_constants_are_what_gcc_computes(tmp_path: Path, mode: str) -> None:
    header = tmp_path / "constants.h"
    header.write_text(CONSTANTS, encoding="utf-8")
    names = [line.split()[1] for line in CONSTANTS.splitlines() if line.startswith("#define")]
    printf = [
        (
            n,
            ("%.17g", f"(double)({n})")
            if n.startswith("F_") and n != "F_COMPARE"
            else ("%lld", f"(long long)({n})"),
        )
        for n in names
    ]
    expected = _gcc_prints(tmp_path, header, printf)
    lib = pyffi.load("c", header, mode=mode)
    got = {n: _spelt(lib.constants.get(n)) for n in names}
    assert got == expected
