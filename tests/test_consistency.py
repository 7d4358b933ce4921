"""The header, the shared library and both backends agree, function for function.

The function list is read from the installed header with pycparser, independently
of cffi_build.py, so a generator bug cannot hide itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pycparser import c_ast, c_parser

import pyffi
from pyffi import abi

# Types cffi knows natively but pycparser does not; declared only to parse.
_PRELUDE = "".join(
    f"typedef int {t};\n"
    for t in (
        "bool",
        "size_t",
        "ssize_t",
        "intptr_t",
        "uintptr_t",
        "ptrdiff_t",
        "int8_t",
        "int16_t",
        "int32_t",
        "int64_t",
        "uint8_t",
        "uint16_t",
        "uint32_t",
        "uint64_t",
    )
)


def _header_functions() -> list[str]:
    header = Path(pyffi.get_include()) / "pyffi.h"
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed to preprocess the header"
    text = subprocess.run(
        [cc, "-E", "-P", "-DPYFFI_CDEF", "-x", "c", str(header)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ast = c_parser.CParser().parse(_PRELUDE + text)
    return [
        node.name
        for node in ast.ext
        if isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)
    ]


HEADER_FUNCTIONS = _header_functions()


def _exported_symbols() -> set[str]:
    nm = subprocess.run(
        ["nm", "-D", "--defined-only", abi.library_path], check=True, capture_output=True, text=True
    ).stdout
    return {
        line.split()[-1] for line in nm.splitlines() if re.match(r"^[0-9a-f]+ [TtWDdBbRr] ", line)
    }


def test_the_header_declares_functions() -> None:
    assert len(HEADER_FUNCTIONS) >= 17
    assert "pyffi_scalar_add" in HEADER_FUNCTIONS


def test_the_shared_library_exports_exactly_the_header_functions() -> None:
    exported = _exported_symbols()
    assert exported == set(HEADER_FUNCTIONS), (
        f"exported but not declared: {sorted(exported - set(HEADER_FUNCTIONS))}; "
        f"declared but not exported: {sorted(set(HEADER_FUNCTIONS) - exported)}"
    )


@pytest.mark.parametrize("name", HEADER_FUNCTIONS)
def test_every_header_function_is_callable_in_abi_mode(name: str) -> None:
    func = getattr(abi.lib, name)
    assert callable(func)
    assert abi.ffi.typeof(func).kind == "function"


@pytest.mark.parametrize("name", HEADER_FUNCTIONS)
def test_every_header_function_is_on_the_api_mode_lib(name: str) -> None:
    from pyffi._pyffi import ffi, lib

    func = getattr(lib, name)
    assert callable(func)
    assert ffi.typeof(func).kind == "function"


def _signature(ffi: object, func: object) -> str:
    # API mode spells typedef'd tags "enum pyffi_status", ABI mode "pyffi_status".
    cname = ffi.typeof(func).cname  # type: ignore[attr-defined]
    return re.sub(r"\b(?:enum|struct) ", "", cname)


def test_both_backends_see_the_same_signatures() -> None:
    from pyffi._pyffi import ffi, lib

    for name in HEADER_FUNCTIONS:
        assert _signature(ffi, getattr(lib, name)) == _signature(abi.ffi, getattr(abi.lib, name))


def test_every_status_is_the_same_on_both_backends() -> None:
    from pyffi._pyffi import ffi

    assert ffi.typeof("pyffi_status").elements == abi.ffi.typeof("pyffi_status").elements
