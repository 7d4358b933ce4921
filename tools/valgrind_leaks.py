#!/usr/bin/env python3
"""Read valgrind --xml=yes output; fail if a lost block was allocated by pyffi.

Counts definitely and indirectly lost blocks, and fails (exit 1) on any
that pyffi's own code allocated: the innermost frame of the allocation stack
outside the allocator, libc and the interpreter belongs to pyffi (the C
core in libpyffi.so or linked into pyffi/_pyffi*.so, the buffer exporter
pyffi/_buffer*.so, or a function named pyffi_*). Blocks that cffi's backend
allocates (e.g. while cffi's generated module init runs, once per process)
or CPython itself keeps are counted but are not ours. Any invalid read,
write or free fails the run too.

Usage: tools/valgrind_leaks.py LOG.xml [LOG.xml ...]
"""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET

LOST = {"Leak_DefinitelyLost", "Leak_IndirectlyLost"}


RUNTIME = ("vgpreload_", "libc.so", "ld-linux", "python3", "libpython3")


def is_pyffi(frame: ET.Element) -> bool:
    obj = os.path.basename(frame.findtext("obj", ""))
    fn = frame.findtext("fn", "")
    return obj.startswith(("libpyffi.so", "_pyffi.", "_buffer.")) or fn.startswith("pyffi_")


def allocated_by_pyffi(frames: list[ET.Element]) -> bool:
    """Whether the innermost non-runtime frame is pyffi's."""
    for frame in frames:
        obj = os.path.basename(frame.findtext("obj", ""))
        if is_pyffi(frame):
            return True
        if obj and not obj.startswith(RUNTIME):
            return False  # e.g. _cffi_backend: its allocation, not ours
    return False


def main(paths: list[str]) -> int:
    bad = 0
    for path in paths:
        root = ET.parse(path).getroot()
        total_blocks = total_bytes = ours = 0
        for error in root.iter("error"):
            if error.findtext("kind") not in LOST:
                continue
            leak = error.find("xwhat")
            blocks = int(leak.findtext("leakedblocks", "0")) if leak is not None else 0
            size = int(leak.findtext("leakedbytes", "0")) if leak is not None else 0
            total_blocks += blocks
            total_bytes += size
            frames = error.findall("./stack/frame")
            if allocated_by_pyffi(frames):
                ours += 1
                text = leak.findtext("text", "") if leak is not None else ""
                print(f"{path}: {text}")
                for f in frames[:12]:
                    print(
                        f"    {f.findtext('fn', '?')} ({os.path.basename(f.findtext('obj', '?'))})"
                    )
        errors = sum(
            1
            for e in root.iter("error")
            if e.findtext("kind") not in LOST and not (e.findtext("kind") or "").startswith("Leak_")
        )
        print(
            f"{path}: {total_blocks} blocks ({total_bytes} bytes) definitely or indirectly "
            f"lost in all, {ours} loss record(s) with a pyffi frame; "
            f"{errors} memory error(s)"
        )
        bad += ours + errors
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
