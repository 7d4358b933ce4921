"""atheris (libFuzzer for Python) on pyffi.load's declaration reading.

Each input is C declarations: read as ``cdef=`` text, or (an input of odd
length) written to a header that the C preprocessor runs on first, the path
``pyffi.load(path, header)`` takes. pyffi's loader is instrumented for
coverage. An exception other than :class:`pyffi.DeclarationError`, a crash,
or one input taking more than 2 CPU seconds is a failure: libFuzzer keeps the
input (``crash-*``) and exits non-zero. The slowest input's time is written
to ``$PYFFI_FUZZ_REPORT`` as it grows.

    python -P tests/fuzz/fuzz_declarations.py -max_total_time=60 corpus_dir seeds_dir
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["pyffi"]):
    import pyffi
    import pyffi._loader  # the loader's modules, instrumented

LIMIT = 2.0  # seconds for one input
os.environ["PYFFI_CACHE_DIR"] = ""  # no cache: every input is read afresh
HEADER = os.path.join(tempfile.mkdtemp(prefix="pyffi-fuzz-"), "input.h")
REPORT = os.environ.get("PYFFI_FUZZ_REPORT")
slowest = [0.0]


def read(data: bytes) -> None:
    if len(data) % 2:
        with open(HEADER, "wb") as f:
            f.write(data)
        pyffi.load("c", HEADER)
    else:
        pyffi.load("c", cdef=data.decode("utf-8", "replace"))


def cpu() -> float:
    """CPU seconds of this process and its children (the preprocessor, the layout
    program): what an input costs, however busy the machine is."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def one(data: bytes) -> None:
    start = cpu()
    with contextlib.suppress(pyffi.DeclarationError):  # the one exception allowed
        read(data)
    took = cpu() - start
    if took > slowest[0]:
        slowest[0] = took
        if REPORT:
            with open(REPORT, "w", encoding="utf-8") as f:
                f.write(f"{took:.3f} s for an input of {len(data)} bytes\n")
    if took > LIMIT:
        raise TimeoutError(f"one input took {took:.2f} s (the limit is {LIMIT} s)")


def main() -> None:
    for warm in (b"int warm(int);", b"int warm(int);\n"):  # imports, libc, cc: once
        read(warm)
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
