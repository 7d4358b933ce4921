"""pyffi.load's one module of cffi internals: the versions it was checked against, and each
accessor doing what the loader relies on (a cffi release that moves them fails here first)."""

from __future__ import annotations

from pathlib import Path

import cffi
import pytest
from cffi import model

from pyffi._loader import _cffi_private as private


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:2] if p.isdigit())


def test_the_installed_cffi_is_one_this_module_was_checked_against() -> None:
    low, high = private.CHECKED
    assert low <= _version(cffi.__version__) < high, cffi.__version__


def test_the_pinned_range_is_the_one_pyproject_allows(checkout: Path) -> None:
    text = (checkout / "pyproject.toml").read_text(encoding="utf-8")
    low, high = private.CHECKED
    pin = f'"cffi>={".".join(map(str, low))},<{high[0]}"'
    assert text.count(pin) == 2, pin  # the build requirement and the run-time dependency


def test_declarations_constants_and_types_of_a_cdef() -> None:
    ffi = cffi.FFI()
    ffi.cdef("enum e { A = 3 }; struct s { const char *p; }; int f(const char *x);")
    decls = private.declarations(ffi)
    assert {"function f", "struct s"} <= set(decls)
    assert private.int_constants(ffi)["A"] == 3
    tp = private.function_type(ffi, "f")
    assert isinstance(tp, model.FunctionPtrType)
    assert private.type_text(tp.args[0]) == "char const *"  # const kept
    assert private.c_name(tp.args[0]) == "char *"


def test_a_failed_cdef_is_undone_by_restore() -> None:
    ffi = cffi.FFI()
    ffi.cdef("struct s; int f(struct s *);")
    snap = private.snapshot(ffi)
    with pytest.raises(cffi.FFIError, match="multiple declarations of typedef T"):
        ffi.cdef("struct s { int a; }; typedef int T; typedef long T;")  # fails halfway
    assert private.declarations(ffi)["struct s"][0].fldnames == ("a",)
    private.restore(ffi, snap)
    assert "typedef T" not in private.declarations(ffi)
    assert private.declarations(ffi)["struct s"][0].fldnames is None  # incomplete again
    ffi.cdef("struct s { double b; };")  # completed afresh, with the other layout
    assert ffi.sizeof("struct s") == 8


def test_the_backend_module_makes_and_reads_arrays() -> None:
    b = private.backend
    ints = b.new_array_type(b.new_pointer_type(b.new_primitive_type("int")), None)
    arr = b.newp(ints, [1, 2, 3])
    assert b.unpack(arr, 3) == [1, 2, 3]


def test_make_c_source_writes_an_extension_source(tmp_path: Path) -> None:
    ffi = cffi.FFI()
    ffi.cdef("int abs(int);")
    target = tmp_path / "_m.c"
    private.make_c_source(ffi, "_m", "#include <stdlib.h>\n", str(target))
    assert "_cffi_f_abs" in target.read_text()
