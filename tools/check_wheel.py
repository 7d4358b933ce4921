"""Check a repaired wheel: manylinux_2_28 or older, nothing grafted in, no outside library.

    python tools/check_wheel.py dist/pyffi-...-manylinux_2_28_x86_64.whl

auditwheel copies into ``pyffi.libs/`` any library outside the manylinux
policy; pyffi must need none (utf8proc is linked in statically). Every ELF
file of the wheel may only need the glibc libraries the policy allows, and
no glibc symbol version newer than 2.28 (RHEL 8, Ubuntu 20.04, Debian 10 and
later: lib/common/glibc.h pins what a newer glibc would bind newer).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# The manylinux policy's libraries that pyffi's C code may need (glibc's own).
ALLOWED = {
    "libc.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}
#: The newest glibc the wheel may need: manylinux_2_28.
NEWEST_GLIBC = (2, 28)


def glibc_versions(path: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y symbol versions an ELF file references."""
    symbols = subprocess.run(
        ["objdump", "-T", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return {
        tuple(int(part) for part in m.split("."))
        for m in re.findall(r"\bGLIBC_([0-9.]+[0-9])\b", symbols)
    }


def tag_glibc(tag: str) -> list[tuple[int, int]]:
    """The glibc versions of a platform tag (manylinux_2_28_x86_64, or several joined by .)."""
    return [(int(a), int(b)) for a, b in re.findall(r"manylinux_(\d+)_(\d+)_", tag)]


def needed(path: Path) -> list[str]:
    dynamic = subprocess.run(
        ["readelf", "-d", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return [
        line.split("[", 1)[1].split("]", 1)[0]
        for line in dynamic.splitlines()
        if "(NEEDED)" in line
    ]


def problems(wheel: Path) -> list[str]:
    found: list[str] = []
    tag = wheel.name.rsplit("-", 1)[-1]
    if not tag.startswith("manylinux"):
        found.append(f"{wheel.name}: platform tag {tag!r} is not a manylinux tag")
    elif not tag_glibc(tag) or min(tag_glibc(tag)) > NEWEST_GLIBC:
        found.append(f"{wheel.name}: platform tag {tag!r} needs a glibc newer than 2.28")
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        names = zf.namelist()
        found += [f"{n}: grafted in by auditwheel" for n in names if ".libs/" in n]
        elves = [n for n in names if n.endswith(".so")]
        if not any(Path(n).name == "libpyffi.so" for n in elves):
            found.append("libpyffi.so is missing")
        for name in elves:
            path = Path(zf.extract(name, tmp))
            for lib in needed(path):
                if lib not in ALLOWED:
                    found.append(f"{name} needs {lib}, outside the manylinux policy")
            newer = sorted(v for v in glibc_versions(path) if v > NEWEST_GLIBC)
            if newer:
                versions = ", ".join("GLIBC_" + ".".join(map(str, v)) for v in newer)
                found.append(f"{name} needs {versions} (newer than manylinux_2_28)")
    return found


def main() -> int:
    wheel = Path(sys.argv[1])
    found = problems(wheel)
    for problem in found:
        print(f"check_wheel: {problem}", file=sys.stderr)
    if not found:
        print(f"check_wheel: {wheel.name}: manylinux_2_28 or older, nothing grafted, glibc only")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
