"""Print the requirements pyproject.toml declares, one per line, for pip.

    python tools/requirements.py            # [project] dependencies
    python tools/requirements.py test dev   # plus those extras (pyffi[...] expanded)

For environments that get pyffi from elsewhere than pip (the sanitizer build
is installed by meson): pyproject.toml stays the one place that names them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib


def requirements(extras: list[str]) -> list[str]:
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())[
        "project"
    ]
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    out: list[str] = list(project["dependencies"])
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop(0)
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"requirements.py: no extra {extra!r} in pyproject.toml")
        seen.add(extra)
        for req in optional[extra]:
            own = re.fullmatch(r"pyffi\[([\w,\s-]+)\]", req)
            if own:
                todo.extend(e.strip() for e in own.group(1).split(","))
            elif req not in out:
                out.append(req)
    return out


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
