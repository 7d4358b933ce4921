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


def test_functions_declared_from_their_parts_are_what_cdef_declares() -> None:
    ffi = cffi.FFI()
    ffi.cdef("typedef struct h h_t;")
    args = tuple(private.parameter_type(ffi, p) for p in ("const char *name", "int a[4]"))
    entry = private.declare_function(ffi, "f", args, private.result_type(ffi, "h_t *"), True)
    private.declare_function_type(ffi, "g", entry)  # another of the same type: one entry
    reference = cffi.FFI()
    reference.cdef("typedef struct h h_t; h_t *f(const char *name, int a[4], ...);")
    want = private.function_type(reference, "f").get_c_name()
    assert private.function_type(ffi, "f").get_c_name() == want
    assert private.declarations(ffi)["function g"] is entry
    # declared again with another type: a conflict, the later one kept (override)
    other = private.declare_function(ffi, "f", (), private.result_type(ffi, "int"), False)
    assert private.conflicts(ffi)["f"][1] is other[0]
    with pytest.raises(cffi.CDefError):
        private.parameter_type(ffi, "no_such_t x")


def test_built_types_are_forgotten_and_const_globals_read() -> None:
    ffi = cffi.FFI()
    ffi.cdef("struct s { int a; }; extern const int the_answer;")
    tp = private.declarations(ffi)["struct s"][0]
    assert ffi.sizeof(private.ctype(ffi, tp)) == 4
    private.forget_built_types(ffi)
    tp.fldnames = tp.fldtypes = tp.fldbitsize = tp.fldquals = None  # made opaque
    with pytest.raises(ValueError, match="unknown size"):
        ffi.sizeof(private.ctype(ffi, tp))  # built again, from the changed model
    lib = private.open_backend_library(ffi, "c")
    with pytest.raises(KeyError, match="the_answer"):  # read from the library (tests/
        private.read_constant_global(ffi, lib, "the_answer")  # test_exact_c.py: a real one)
