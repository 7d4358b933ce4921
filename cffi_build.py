#!/usr/bin/env python3
"""Generate pyffi's cffi declarations and API-mode extension from include/pyffi.h.

The header is the single source of every declaration. This script runs it
through the C compiler's preprocessor with ``-DPYFFI_CDEF`` (which drops the
system includes and the visibility macro) and writes:

* ``--cdef``:    the declarations as plain text, installed as ``pyffi/_cdef.h``
                 and read by ``pyffi.abi`` (cffi ABI mode, no compiler needed);
* ``--source``:  the C source of the out-of-line API-mode module
                 ``pyffi._pyffi``, compiled by meson against the static core;
* ``--exports``: a C include listing every declared function name, used by the
                 C test that checks what the shared library exports;
* ``--python``:  ``pyffi/_core/_header.py``, the leaf core's data: each status
                 value's enumerator name (``pyffi_status``, made from
                 ``PYFFI_STATUS_MAP``) and the slice types' declarations, so
                 that importing pyffi's errors or the loader loads no C library.

Run on ``include/pyffi_embed.h`` (the embedding library's header, which
includes pyffi.h) without ``--source``, it writes that library's cdef
(``pyffi/_embed_cdef.h``, read by ``pyffi.embed``) and export list.

Usage (meson runs this; see meson.build)::

    cffi_build.py --header include/pyffi.h --cdef _cdef.h --source _pyffi.c \\
        --exports pyffi_exports.h -- cc [compiler args...]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import cffi

MODULE_NAME = "pyffi._pyffi"

# A callback type in the header: `typedef R (*pyffi_name)(params);`.
CALLBACK_TYPEDEF = re.compile(
    r"typedef\s+([^;()]+?)\s*\(\s*\*\s*(pyffi_\w+)\s*\)\s*\(([^()]*)\)\s*;"
)


def python_entry_points(cdef: str) -> str:
    """API-mode only: one `extern "Python"` function per callback typedef.

    For `typedef R (*pyffi_x)(P);` this declares `extern "Python" R
    pyffi_py_x(P);`, the C entry point through which C calls back into
    Python (pyffi/_callback.py attaches the Python side with
    @ffi.def_extern). Derived from the header's typedefs, so the signature
    is never written twice; ABI mode uses ffi.callback on the typedef itself.
    """
    lines = []
    for ret, name, params in CALLBACK_TYPEDEF.findall(cdef):
        entry = "pyffi_py_" + name[len("pyffi_") :]
        lines.append(f'extern "Python" {ret} {entry}({params});\n')
    return "".join(lines)


def read_declarations(header: Path, cc: list[str]) -> str:
    """Return the declarations of ``header`` as cffi reads them."""
    cmd = [*cc, "-E", "-P", "-DPYFFI_CDEF", "-x", "c", str(header)]
    try:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise SystemExit(f"cffi_build.py: no C compiler: {exc}") from None
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"cffi_build.py: preprocessing {header} failed:\n{exc.stderr}") from None
    # Drop blank lines so the installed file reads as a plain list.
    return "\n".join(line for line in done.stdout.splitlines() if line.strip()) + "\n"


def function_names(cdef: str) -> list[str]:
    """The names of the functions declared in ``cdef``, in order.

    cffi itself parses the text first, so anything cffi cannot read fails the
    build here with cffi's message.
    """
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    # A declaration is `<type> name(<params>);` at top level; cffi has just
    # validated the text, so a regex over it is enough to list the names.
    names = re.findall(r"\b([A-Za-z_]\w*)\s*\([^()]*\)\s*;", cdef)
    return names


def check_names(cdef: str, functions: list[str]) -> None:
    """Every public identifier must carry the pyffi_ / PYFFI_ prefix."""
    names = set(functions)
    names |= set(re.findall(r"\b(?:struct|enum|union)\s+(\w+)", cdef))
    names |= set(re.findall(r"\b(\w+)\s*=", cdef))  # enum constants
    # Typedef names: the last word of each top-level statement (bodies removed,
    # nested ones first).
    flat, previous = cdef, None
    while flat != previous:
        previous, flat = flat, re.sub(r"\{[^{}]*\}", "", flat)
    for statement in flat.split(";"):
        if statement.strip().startswith("typedef"):
            names |= set(re.findall(r"(\w+)\s*$", statement))
    bad = sorted(n for n in names if not n.lower().startswith("pyffi_"))
    if bad:
        raise SystemExit(f"cffi_build.py: public names without the pyffi_/PYFFI_ prefix: {bad}")


# The slice types (pyffi_str, pyffi_bytes, pyffi_vec_*): {ptr, len} structs.
SLICE_TYPEDEF = re.compile(r"typedef struct (pyffi_(?:str|bytes|vec_\w+)) \{[^}]*\} \1;")


def python_data(cdef: str, header: Path) -> str:
    """The text of ``pyffi/_core/_header.py``: statuses and slice declarations."""
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    statuses = ffi.typeof("pyffi_status").elements  # value -> enumerator name
    if 0 not in statuses or statuses[0] != "PYFFI_OK":
        raise SystemExit(f"cffi_build.py: {header.name}: pyffi_status has no PYFFI_OK = 0")
    names = "".join(f"    {value}: {name!r},\n" for value, name in sorted(statuses.items()))
    slices = "".join(m.group(0) + "\n" for m in SLICE_TYPEDEF.finditer(cdef))
    if not slices:
        raise SystemExit(f"cffi_build.py: {header.name} declares no slice type")
    return (
        f'"""Generated by cffi_build.py from include/{header.name}: do not edit."""\n\n'
        "#: pyffi_status: each value's enumerator name (from PYFFI_STATUS_MAP).\n"
        f"STATUS_NAMES = {{\n{names}}}\n\n"
        "#: The slice types' declarations, as cffi reads them.\n"
        f"SLICE_CDEF = {slices!r}\n"
    )


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("cffi_build.py: give the C compiler command after '--'")
    split = argv.index("--")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--header", type=Path, required=True)
    parser.add_argument("--cdef", type=Path, required=True)
    parser.add_argument("--source", type=Path, help="omit for a header with no API-mode module")
    parser.add_argument("--exports", type=Path, required=True)
    parser.add_argument("--python", type=Path, help="the leaf core's generated module")
    args = parser.parse_args(argv[:split])
    cc = argv[split + 1 :]
    if not cc:
        raise SystemExit("cffi_build.py: empty C compiler command")

    cdef = read_declarations(args.header, cc)
    functions = function_names(cdef)
    check_names(cdef, functions)

    args.cdef.write_text(cdef)

    exports = "".join(f'    "{name}",\n' for name in functions)
    args.exports.write_text(
        f"/* Generated by cffi_build.py from include/{args.header.name}: do not edit. */\n"
        "static const char *const pyffi_exported_functions[] = {\n"
        f"{exports}}};\n"
    )

    if args.python is not None:
        args.python.write_text(python_data(cdef, args.header))
    if args.source is None:
        return 0
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(cdef + python_entry_points(cdef))
    ffibuilder.set_source(MODULE_NAME, '#include "pyffi.h"\n')
    ffibuilder.emit_c_code(str(args.source))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
