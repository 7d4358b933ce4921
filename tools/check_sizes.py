#!/usr/bin/env python3
"""Fail when a module of pyffi/ grows past 600 lines or a function past 80.

Big files and long functions hide what depends on what; the limits keep each
module one concern and each function one job (docs/development.md).

    python tools/check_sizes.py [DIR]      (scripts/lint runs it on pyffi/)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80


def problems(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            found.append(f"{path}: {lines} lines (at most {MAX_FILE_LINES})")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(
                        f"{path}:{node.lineno}: {node.name}() is {length} lines "
                        f"(at most {MAX_FUNCTION_LINES})"
                    )
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "pyffi"
    found = problems(root)
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print(
            f"check_sizes: no file over {MAX_FILE_LINES} lines, no function over "
            f"{MAX_FUNCTION_LINES}, in {root.name}/"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
