"""pyffi.load: a C and a Rust library built in the session, every conversion (both backends)."""

from __future__ import annotations

import array
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import pyffi

HERE = Path(__file__).resolve().parent / "load"
# Compilers run without the sanitizer run's LD_PRELOAD=libasan (rustc crashes under it).
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


@pytest.fixture(scope="session", params=["abi", "api"])
def demo(c_library, request):  # type: ignore[no-untyped-def]
    """The demo library opened in each load mode: every conversion test runs on both."""
    return pyffi.load(
        c_library,
        HERE / "demo.h",
        mode=request.param,
        owned={
            "demo_greeting": "demo_free_greeting",
            "demo_range": "demo_free_range",
            "demo_owned_make": "demo_owned_free",
            "demo_opaque_new": "demo_opaque_free",
        },
    )


def _rustc() -> str | None:
    return shutil.which("rustc") or shutil.which(os.path.expanduser("~/.cargo/bin/rustc"))


@pytest.fixture(scope="session")
def rust(tmp_path_factory):  # type: ignore[no-untyped-def]
    rustc = _rustc()
    if rustc is None:
        pytest.skip("rustc is not installed (neither on PATH nor in ~/.cargo/bin)")
    out = tmp_path_factory.mktemp("rsdemo") / "libdemo_rs.so"
    subprocess.run(
        [rustc, "--crate-type", "cdylib", "-O", "-o", str(out), str(HERE / "demo_rs.rs")],
        check=True,
        cwd=out.parent,
        env=BUILD_ENV,
    )
    return pyffi.load(out, HERE / "demo_rs.h", owned={"rs_greet": "rs_free_string"})


# --- declarations and opening -------------------------------------------------------


def test_only_the_users_declarations_are_kept(demo):
    names = demo.functions()
    assert "demo_add" in names and "demo_not_there" in names
    assert not [n for n in names if not n.startswith("demo_")]  # no printf, no pyffi_*
    assert demo.missing() == ["demo_not_there"]
    assert "demo_add" in dir(demo)


def test_missing_function_is_an_attribute_error_on_access(demo):
    with pytest.raises(AttributeError, match="'demo_not_there' is declared but the library"):
        demo.demo_not_there
    with pytest.raises(AttributeError, match="no declared function, constant or variable 'printf'"):
        demo.printf


def test_cdef_text_needs_no_compiler(c_library, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CC", "no-such-cc")
    lib = pyffi.load(
        c_library,
        cdef="int32_t demo_add(int32_t a, int32_t b);\n"
        "int64_t demo_vec_sum(const pyffi_vec_i64 *v);",
    )
    assert lib.demo_add(2, 3) == 5
    assert lib.demo_vec_sum([1, 2, 3]) == 6
    with pytest.raises(pyffi.DeclarationError, match="no C compiler found"):
        pyffi.load(c_library, HERE / "demo.h")


def test_declaration_errors(c_library, tmp_path):
    with pytest.raises(pyffi.DeclarationError, match="needs the declarations"):
        pyffi.load(c_library)
    with pytest.raises(TypeError, match="header or cdef, not both"):
        pyffi.load(c_library, HERE / "demo.h", cdef="int f(void);")
    # What cffi cannot read is skipped, naming the file and line; strict=True refuses it.
    lib = pyffi.load(c_library, cdef="int f(void);\nint g(unknown_t *f);\nint h(void);")
    assert lib.functions() == ["f", "h"]
    assert re.fullmatch(
        r"cannot be declared \(.*\): <cdef>:2: int g\(unknown_t \*f\);", lib.skipped["g"]
    )
    with pytest.raises(AttributeError, match=r"^'g' cannot be declared .*<cdef>:2:"):
        lib.g
    with pytest.raises(
        pyffi.DeclarationError, match=r"^strict=True: 1 declaration\(s\) skipped; the first, 'g',"
    ):
        pyffi.load(c_library, cdef="int f(void);\nint g(unknown_t *f);", strict=True)
    bad = tmp_path / "bad.h"
    bad.write_text(
        "#include <stdint.h>\n\nint32_t ok(int32_t x);\n\nstatic inline int broken(int x) "
        "{ return x; }\n"
    )
    lib = pyffi.load(c_library, bad)
    assert lib.functions() == ["ok"]
    assert lib.skipped["broken"] == (
        f"is a static inline function in {bad}:5; ABI mode can only call exported symbols "
        '(mode="api" compiles a call to it)'
    )
    with pytest.raises(AttributeError, match=rf"'broken' is a static inline function in {bad}:5"):
        lib.broken
    with pytest.raises(pyffi.DeclarationError, match="strict=True: 1 declaration"):
        pyffi.load(c_library, bad, strict=True)
    latin = tmp_path / "latin.h"
    latin.write_bytes(b'#define NAME "caf\xe9"\nint f(void);\n')
    with pytest.raises(pyffi.DeclarationError, match=r"latin\.h:1: the header is not UTF-8 text"):
        pyffi.load(c_library, latin)
    with pytest.raises(pyffi.DeclarationError, match="no such header file"):
        pyffi.load(c_library, tmp_path / "absent.h")
    broken = tmp_path / "syntax.h"
    broken.write_text('#include "does-not-exist.h"\n')
    with pytest.raises(pyffi.DeclarationError, match="the preprocessor failed"):
        pyffi.load(c_library, broken)


def test_defines_and_include_dirs(c_library, tmp_path):
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "types.h").write_text("typedef int32_t my_int;\n")
    top = tmp_path / "top.h"
    top.write_text(
        '#include <stdint.h>\n#include "types.h"\n'
        "#ifdef WITH_ADD\nmy_int demo_add(my_int a, my_int b);\n#endif\n"
    )
    lib = pyffi.load(c_library, top, include_dirs=[inc], defines={"WITH_ADD": None})
    assert lib.demo_add(1, 2) == 3
    assert pyffi.load(c_library, top, include_dirs=[inc]).functions() == []


def test_missing_library_names_what_was_tried():
    with pytest.raises(
        OSError,
        match=r"cannot load library 'no_such_lib_xyz'; tried "
        r"'libno_such_lib_xyz.so', 'no_such_lib_xyz', 'no_such_lib_xyz.so'",
    ):
        pyffi.load("no_such_lib_xyz", cdef="int f(void);")
    with pytest.raises(OSError, match=r"tried '/nope/libx\.so'"):
        pyffi.load("/nope/libx.so", cdef="int f(void);")


def test_other_types_take_a_cdata_or_none():
    lib = pyffi.load("c", cdef="long strtol(const char *s, char **end, int base);")
    assert lib.strtol("42", None, 10) == 42  # None is NULL for any pointer
    text, end = lib.ffi.new("char[]", b"17xy"), lib.ffi.new("char **")  # outlive the call
    assert lib.strtol(text, end, 10) == 17 and lib.ffi.string(end[0]) == b"xy"
    with pytest.raises(
        TypeError,
        match=r"strtol\(\) argument 'end' \(char \* \*\) must be "
        r"a cdata 'char \* \*' or None, not str",
    ):
        lib.strtol("1", "x", 10)
    with pytest.raises(TypeError, match="argument 'cdef' must be str, not bytes"):
        pyffi.load("c", cdef=b"int abs(int x);")  # type: ignore[arg-type]


def test_variadic_arguments_follow_the_promotion_rule():
    lib = pyffi.load("c", cdef="int snprintf(char *s, size_t n, const char *format, ...);")
    buf = bytearray(64)

    def fmt(f: str, *args: object) -> str:
        n = lib.snprintf(buf, len(buf), f, *args)
        return bytes(buf[:n]).decode()

    assert fmt("%d|%s|%.2f", 42, "héllo", 2.5) == "42|héllo|2.50"  # int, str, float->double
    assert fmt("%lld", 2**40) == str(2**40)  # an int beyond int: long long
    assert fmt("%llu", 2**64 - 1) == str(2**64 - 1)  # beyond long long: unsigned long long
    assert fmt("%s", b"raw") == "raw"  # bytes -> char *
    assert fmt("%p", None) == "(nil)"  # None -> NULL
    assert fmt("%d", True) == "1"
    assert fmt("%hhd", lib.ffi.cast("signed char", -3)) == "-3"  # a cdata as it is
    with pytest.raises(
        pyffi.OutOfRangeError, match="variadic argument 1 = 18446744073709551616 fits no C"
    ):
        lib.snprintf(buf, len(buf), "%d", 2**64)
    with pytest.raises(ValueError, match="variadic argument 1 contains a NUL character at byte 1"):
        lib.snprintf(buf, len(buf), "%s", "a\0b")
    with pytest.raises(
        TypeError, match=r"variadic argument 2 must be int, float, str, bytes, None"
    ):
        lib.snprintf(buf, len(buf), "%d %d", 1, [2])
    with pytest.raises(TypeError, match=r"variadic argument 1: a callable has no C type here"):
        lib.snprintf(buf, len(buf), "%p", print)


def test_bare_library_name():
    lib = pyffi.load("m", cdef="double cos(double x);")
    assert lib.cos(0.0) == 1.0


def test_owned_must_name_declared_functions(c_library):
    with pytest.raises(ValueError, match="free function 'nope' is not declared"):
        pyffi.load(c_library, HERE / "demo.h", owned={"demo_greeting": "nope"})


def test_raw_and_ffi_are_exposed(demo):
    assert demo.raw.demo_add(1, 2) == 3
    assert demo.ffi.sizeof("pyffi_str") == 2 * demo.ffi.sizeof("size_t")


# --- scalars ------------------------------------------------------------------------


def test_scalars(demo):
    assert demo.demo_add(2, 3) == 5
    assert demo.demo_scale(2.0, 1.5) == 3.0
    assert demo.demo_negate(True) is False
    assert demo.demo_next_char(b"a") == b"b"
    assert demo.demo_u8_inc(254) == 255
    assert demo.demo_nothing() is None


def test_scalar_errors_name_the_parameter(demo):
    with pytest.raises(
        OverflowError,
        match=r"demo_add\(\) argument 'b' = 2147483648 does "
        r"not fit int32_t",
    ):
        demo.demo_add(1, 2**31)
    with pytest.raises(
        TypeError,
        match=r"demo_add\(\) argument 'a' \(int32_t\) must be int, "
        r"not str",
    ):
        demo.demo_add("1", 2)
    with pytest.raises(TypeError, match=r"argument 'factor' \(float\) must be float, not str"):
        demo.demo_scale(1.0, "x")
    with pytest.raises(OverflowError, match=r"argument 'x' = 256 does not fit uint8_t"):
        demo.demo_u8_inc(256)
    with pytest.raises(TypeError, match=r"argument 'c' \(char\) must be bytes of length 1"):
        demo.demo_next_char("a")
    with pytest.raises(TypeError, match=r"argument 'a' \(int32_t\) must be int, not NoneType"):
        demo.demo_add(None, 1)


def test_wrong_argument_count(demo):
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'b'"):
        demo.demo_add(1)
    with pytest.raises(
        TypeError,
        match=r"demo_vec_sum\(\) takes 1 positional argument but 2 "
        r"were given",
    ):
        demo.demo_vec_sum([1], [2])


# --- strings and bytes ----------------------------------------------------------------


def test_const_char_pointer(demo):
    assert demo.demo_strlen("héllo") == 6
    assert demo.demo_strlen(b"abc") == 3
    assert demo.demo_strlen(None) == 0
    with pytest.raises(ValueError, match=r"argument 's' contains a NUL character at byte 1"):
        demo.demo_strlen("a\0b")
    with pytest.raises(
        TypeError,
        match=r"argument 's' \(char const \*\) must be str, bytes or a buffer of bytes, "
        r"not int",
    ):
        demo.demo_strlen(5)
    with pytest.raises(ValueError, match="cannot be encoded as UTF-8"):
        demo.demo_strlen("\ud800")
    # bytes and byte buffers pass as they are, NULs and all (C stops at the first)
    assert demo.demo_strlen(b"ab\0cd") == 2
    assert demo.demo_strlen(bytearray(b"xyz\0")) == 3
    with pytest.raises(TypeError, match=r"contiguous buffer of 1-byte items, not array"):
        demo.demo_strlen(array.array("i", [1, 2]))


def test_non_const_char_pointer_gets_a_private_copy(demo):
    original = b"abc"
    assert demo.demo_upcase(original) == 3
    assert original == b"abc"  # an immutable bytes object is never written


def test_non_const_char_pointer_writes_into_a_writable_buffer(demo):
    buf = bytearray(b"ab\0cd\0")  # NULs are fine: zero-copy, C sees the bytes
    assert demo.demo_upcase(buf) == 2
    assert buf == bytearray(b"AB\0cd\0")
    view = memoryview(buf)[3:]
    assert demo.demo_upcase(view) == 2 and buf == bytearray(b"AB\0CD\0")
    arr = np.frombuffer(bytearray(b"np\0"), dtype=np.uint8)  # numpy uint8, writable
    assert demo.demo_upcase(arr) == 2 and bytes(arr) == b"NP\0"
    signed = array.array("b", b"ar\0")  # signed chars are bytes too
    assert demo.demo_upcase(signed) == 2 and signed.tobytes() == b"AR\0"
    with pytest.raises(
        TypeError, match=r"needs a writable buffer; the memoryview given is read-only"
    ):
        demo.demo_upcase(memoryview(b"abc\0"))


def test_pyffi_str(demo):
    assert demo.demo_str_len("héllo") == 6
    assert demo.demo_str_count("banana", b"a") == 3
    assert demo.demo_str_len("") == 0
    with pytest.raises(TypeError, match=r"argument 's' \(pyffi_str\) must be str, not list"):
        demo.demo_str_len(["x"])


def test_const_char_result_is_copied(demo):
    assert demo.demo_version() == "demo 1.0"


def test_pyffi_bytes_zero_copy(demo):
    assert demo.demo_bytes_sum(b"\x01\x02\x03") == 6
    assert demo.demo_bytes_sum(memoryview(b"\xff" * 4)) == 1020
    assert demo.demo_bytes_sum_ptr(bytearray(b"\x05")) == 5
    buf = bytearray(4)
    demo.demo_bytes_fill(buf, 7)
    assert buf == bytearray(b"\x07" * 4)  # C wrote into the caller's buffer
    arr = np.zeros(3, dtype=np.uint8)
    demo.demo_bytes_fill(arr, 9)
    assert arr.tolist() == [9, 9, 9]
    with pytest.raises(
        TypeError,
        match=r"argument 'b' \(pyffi_bytes \*\) needs a writable "
        r"buffer; the bytes given is read-only",
    ):
        demo.demo_bytes_fill(b"abc", 1)
    with pytest.raises(TypeError, match="must be a bytes-like object, not str"):
        demo.demo_bytes_sum("abc")


# --- vectors: write-back ------------------------------------------------------------


def test_vec_i64_write_back_into_the_same_list(demo):
    xs = [1, 2, 3]
    alias = xs
    assert demo.demo_vec_double(xs) is None
    assert xs == [2, 4, 6] and alias is xs
    assert demo.demo_vec_sum(xs) == 12
    assert demo.demo_vec_sum((1, 2)) == 3  # const: a tuple will do
    ys = [5, 6]
    assert demo.demo_vec_sum_value(ys) == 11 and ys == [5, 6]


def test_vec_buffers_are_zero_copy(demo):
    a = array.array("q", [1, 2, 3])
    demo.demo_vec_double(a)
    assert a.tolist() == [2, 4, 6]
    n = np.arange(4, dtype=np.int64)
    demo.demo_vec_double(n)
    assert n.tolist() == [0, 2, 4, 6]
    f = np.ones(3)
    demo.demo_vec_f64_scale(f, 2.5)
    assert f.tolist() == [2.5] * 3
    with pytest.raises(TypeError, match="a list or a contiguous buffer of int64_t"):
        demo.demo_vec_double(array.array("i", [1]))
    with pytest.raises(TypeError, match="needs a writable buffer"):
        demo.demo_vec_double(memoryview(array.array("q", [1])).toreadonly())
    assert demo.demo_vec_sum(memoryview(array.array("q", [4, 5])).toreadonly()) == 9


def test_vec_f64_write_back(demo):
    xs = [1.0, 2, -0.5]
    demo.demo_vec_f64_scale(xs, 2.0)
    assert xs == [2.0, 4.0, -1.0]


def test_vec_item_errors_leave_the_list_alone(demo):
    xs = [1, "2", 3]
    with pytest.raises(TypeError, match=r"argument 'v' item 1 must be int, not str"):
        demo.demo_vec_double(xs)
    assert xs == [1, "2", 3]
    with pytest.raises(
        OverflowError,
        match=r"argument 'v' item 0 = 9223372036854775808 does "
        r"not fit int64_t",
    ):
        demo.demo_vec_double([2**63])
    with pytest.raises(
        TypeError,
        match=r"argument 'v' \(pyffi_vec_i64 \*\) must be a list of "
        r"ints or a buffer, not tuple",
    ):
        demo.demo_vec_double((1, 2))  # non-const: the result must be written somewhere


def test_vec_str_and_nested_lists(demo):
    assert demo.demo_vec_str_total(["ab", "cde", "é"]) == 7
    with pytest.raises(TypeError, match="argument 'v' item 1 must be str, not int"):
        demo.demo_vec_str_total(["a", 1])
    rows = [[1, 2], [], [10]]
    inner = rows[0]
    demo.demo_vec_vec_increment(rows)
    assert rows == [[2, 3], [], [13]] and rows[0] is inner  # every inner list written back
    assert demo.demo_vec_vec_sum([[1, 2], [3]]) == 6
    with pytest.raises(TypeError, match=r"argument 'v' row 1 item 0 must be int, not float"):
        demo.demo_vec_vec_increment([[1], [1.5]])


def test_plain_pointer_arrays(demo):
    xs = [1, 2, 3]
    demo.demo_square(xs, 3)
    assert xs == [1, 4, 9]
    assert demo.demo_array_sum([0.5, 0.25], 2) == 0.75
    assert demo.demo_array_sum(np.array([1.0, 2.0]), 2) == 3.0
    ys = np.array([1, -2], dtype=np.int32)
    demo.demo_i32_negate(ys, 2)
    assert ys.tolist() == [-1, 2]
    with pytest.raises(
        TypeError,
        match=r"argument 'xs' \(int64_t \*\) must be a list or a "
        r"buffer, not str",
    ):
        demo.demo_square("12", 2)
    assert demo.demo_array_sum(None, 0) == 0.0  # None is NULL


# --- structs --------------------------------------------------------------------------


def test_struct_arguments_and_results(demo):
    assert demo.demo_point_norm({"x": 3, "y": 4}) == 5.0
    assert demo.demo_point_norm((3, 4)) == 5.0
    p = demo.demo_point_make(1.0, 2.0)
    assert (p.x, p.y) == (1.0, 2.0)
    assert repr(p) == "demo_point(x=1.0, y=2.0)"
    assert p == pyffi.Record("demo_point", x=1.0, y=2.0)
    box = demo.ffi.new("demo_point *", (1.0, 1.0))
    demo.demo_point_scale(box, 3.0)  # a cdata passes through
    assert (box.x, box.y) == (3.0, 3.0)
    with pytest.raises(
        TypeError,
        match=r"argument 'p' \(demo_point\) must be a dict of its "
        r"fields or a tuple, not list",
    ):
        demo.demo_point_norm([3, 4])
    with pytest.raises(  # a field the struct lacks: a TypeError naming both (issue 30)
        TypeError, match=r"demo_point_norm.. argument 'p' .*: struct demo_point has no field 'z'"
    ):
        demo.demo_point_norm({"x": 1, "z": 2})


# --- callbacks ----------------------------------------------------------------------


def test_callbacks(demo):
    assert demo.demo_apply(lambda a, b: a * b, 6, 7) == 42
    assert demo.demo_fold([1, 2, 3, 4], lambda acc, x: acc * 10 + x, 0) == 1234
    seen: list[str] = []
    demo.demo_each_name(["ann", "bob"], seen.append)
    assert seen == ["ann", "bob"]


def test_callback_exception_is_reraised_not_printed(demo, capfd):
    raised = LookupError("from the callback")

    def op(a, b):
        raise raised

    with pytest.raises(LookupError) as info:
        demo.demo_apply(op, 1, 2)
    assert info.value is raised
    with pytest.raises(TypeError):
        demo.demo_apply(lambda a, b: "not an int", 1, 2)
    assert capfd.readouterr() == ("", "")
    with pytest.raises(TypeError, match=r"argument 'op' .* must be callable, not int"):
        demo.demo_apply(5, 1, 2)


# --- owned results --------------------------------------------------------------------


def test_owned_char_result_is_copied_and_freed_once(demo):
    before = demo.raw.demo_free_count()
    assert demo.demo_greeting("Ann") == "Hello, Ann"
    assert demo.raw.demo_free_count() == before + 1


def test_owned_pointer_result_is_freed_by_the_gc(demo):
    import gc

    before = demo.raw.demo_free_count()
    r = demo.demo_range(5)
    assert demo.ffi.unpack(r, 5) == [0, 1, 2, 3, 4]
    assert demo.raw.demo_free_count() == before
    del r
    gc.collect()
    assert demo.raw.demo_free_count() == before + 1
    p = demo.demo_opaque_new(42)
    assert demo.demo_opaque_get(p) == 42
    demo.ffi.release(p)  # deterministic release: the destructor runs once, now
    assert demo.raw.demo_free_count() == before + 2
    del p
    gc.collect()
    assert demo.raw.demo_free_count() == before + 2


def test_owned_struct_result_fields_freed_once(demo):
    before = demo.raw.demo_free_count()
    o = demo.demo_owned_make(3)
    assert (o.text, o.values, o.id) == ("owned", [0, 10, 20], 3)
    assert demo.raw.demo_free_count() == before + 1


def test_void_pointer_takes_buffers_cdata_or_none(demo):
    import struct

    assert demo.demo_opaque_get(struct.pack("i", 77)) == 77  # bytes: zero-copy buffer
    with pytest.raises(
        TypeError,
        match=r"argument 'p' \(void const \*\) must be a buffer, a "
        r"cdata or None, not str",
    ):
        demo.demo_opaque_get("x")


def test_unowned_results(demo):
    before = demo.raw.demo_free_count()
    assert demo.demo_point_borrowed() == pyffi.Record("demo_point", x=1.5, y=-2.0)
    p = demo.raw.demo_opaque_new(3)  # raw: a plain cdata, nobody frees it for us
    assert demo.demo_opaque_get(p) == 3
    demo.raw.demo_opaque_free(p)
    assert demo.raw.demo_free_count() == before + 1


# --- Rust -----------------------------------------------------------------------------


def test_rust_slices_and_write_back(rust):
    assert rust.rs_add(2, 40) == 42
    assert rust.rs_count_words("the quick  brown fox") == 4
    assert rust.rs_char_count("héllo wörld") == 11
    xs = [1, -2, 3]
    rust.rs_double_all(xs)
    assert xs == [2, -4, 6]
    assert rust.rs_sum(xs) == 4
    fs = [1.0, 3.0]
    rust.rs_normalize(fs)
    assert fs == [0.25, 0.75]
    rows = [[3, 1, 2], [9, 8]]
    rust.rs_sort_rows(rows)
    assert rows == [[1, 2, 3], [8, 9]]
    a = np.array([5, 6], dtype=np.int64)
    rust.rs_double_all(a)
    assert a.tolist() == [10, 12]


def test_rust_owned_string(rust):
    before = rust.rs_free_count()
    assert rust.rs_greet("Ferris") == "Hello, Ferris!"
    assert rust.rs_free_count() == before + 1
    with pytest.raises(TypeError, match=r"rs_double_all\(\) argument 'v'"):
        rust.rs_double_all("no")
