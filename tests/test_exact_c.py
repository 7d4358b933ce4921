"""pyffi.load gives what a C compiler gives: each case is a small header, and a C
program built from the same header prints the values gcc computes; both modes must
agree with it (issue: exact C)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BUILD_ENV

import pyffi

CC = shutil.which(os.environ.get("CC", "cc"))
pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")

CONSTANTS = r"""
#define F_SUFFIX 35.2e+0f
#define F_THIRD (1.0f / 3)
#define F_PLUS (1 + 0.5)
#define F_TIMES (1.5 * 2)
#define F_FLOAT_TIMES (2.5f * 2)
#define F_MINUS (10 - 0.25)
#define F_CAST ((float)0.1)
#define F_MIXED (0.1f + 0.2)
#define F_NEG (-1.5f)
#define F_HEX 0x1.8p1f
#define F_COMPARE (1.5 > 1)
#define C_U16 u'é'
#define C_WIDE L'Z'
#define C_U32 U'x'
#define C_U16_ESCAPE u'\u00e9'
#define C_WIDE_HEX L'\x41'
#define C_PLAIN 'a'
int exact_constants_anchor(int);
"""


def _gcc_prints(tmp_path: Path, header: Path, printf: list[tuple[str, str]]) -> dict[str, str]:
    """name -> what a gcc-built program prints for ``printf(fmt, value)``."""
    src = tmp_path / "print.c"
    lines = "".join(
        f'    printf("{name} {fmt}\\n", {expr});\n' for name, (fmt, expr) in dict(printf).items()
    )
    src.write_text(
        f'#include <stddef.h>\n#include <stdio.h>\n#include "{header}"\n'
        f"int main(void) {{\n{lines}}}\n"
    )
    exe = tmp_path / "print"
    subprocess.run([CC, str(src), "-o", str(exe)], check=True, env=BUILD_ENV)  # type: ignore[list-item]
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return dict(line.rsplit(" ", 1) for line in out.splitlines())


def _spelt(value: object) -> str:
    return f"{value:.17g}" if isinstance(value, float) else str(value)


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_constants_are_what_gcc_computes(tmp_path: Path, mode: str) -> None:
    header = tmp_path / "constants.h"
    header.write_text(CONSTANTS, encoding="utf-8")
    names = [line.split()[1] for line in CONSTANTS.splitlines() if line.startswith("#define")]
    printf = [
        (
            n,
            ("%.17g", f"(double)({n})")
            if n.startswith("F_") and n != "F_COMPARE"
            else ("%lld", f"(long long)({n})"),
        )
        for n in names
    ]
    expected = _gcc_prints(tmp_path, header, printf)
    lib = pyffi.load("c", header, mode=mode)
    got = {n: _spelt(lib.constants.get(n)) for n in names}
    assert got == expected


def _library(tmp_path: Path, header: str, source: str) -> tuple[Path, Path]:
    """A shared library built from ``source`` with ``header`` (both written in tmp_path)."""
    h = tmp_path / "lib.h"
    h.write_text(header, encoding="utf-8")
    c = tmp_path / "lib.c"
    c.write_text(f'#include "lib.h"\n{source}', encoding="utf-8")
    so = tmp_path / "libexact.so"
    subprocess.run(
        [CC, "-shared", "-fPIC", "-O1", str(c), "-o", str(so)],  # type: ignore[list-item]
        check=True,
        env=BUILD_ENV,
    )
    return so, h


SPECIFIERS_H = """
long int unsigned long spec_twice(unsigned long int long x);
int unsigned spec_sum(short unsigned int a, char unsigned b, int const volatile c);
double long spec_half(long double x);
int spec_apply(int (cb)(int), int x);
int spec_apply2(int cb(int), int x);
"""
SPECIFIERS_C = """
unsigned long long spec_twice(unsigned long long x) { return 2 * x; }
unsigned spec_sum(unsigned short a, unsigned char b, int c) { return a + b + (unsigned)c; }
long double spec_half(long double x) { return x / 2; }
int spec_apply(int (*cb)(int), int x) { return cb(x); }
int spec_apply2(int (*cb)(int), int x) { return cb(x) * 2; }
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_specifiers_in_any_order_and_function_type_parameters(tmp_path: Path, mode: str) -> None:
    so, h = _library(tmp_path, SPECIFIERS_H, SPECIFIERS_C)
    lib = pyffi.load(so, h, mode=mode)
    assert set(lib.functions()) >= {"spec_twice", "spec_sum", "spec_apply", "spec_apply2"}
    assert lib.spec_twice(2**62) == 2**63  # unsigned long long: no overflow
    assert lib.spec_sum(65535, 255, 1) == 65791
    assert lib.spec_apply(lambda v: v + 1, 41) == 42  # int (cb)(int): a function pointer
    assert lib.spec_apply2(lambda v: v + 1, 20) == 42


WIDE_H = """
#include <stddef.h>
long double ld_half(long double x);
typedef struct { long double v; int n; } ld_box;
ld_box ld_make(long double v);
long double ld_get(const ld_box *b);
size_t wc_len(const wchar_t *s);
const wchar_t *wc_hello(void);
typedef struct { const wchar_t *name; int n; } wc_item;
wc_item wc_item_make(void);
"""
WIDE_C = """
#include <wchar.h>
long double ld_half(long double x) { return x / 2; }
ld_box ld_make(long double v) { ld_box b = {v, 7}; return b; }
long double ld_get(const ld_box *b) { return b->v; }
size_t wc_len(const wchar_t *s) { return s ? wcslen(s) : 0; }
const wchar_t *wc_hello(void) { return L"h\\u00e9llo \\U0001F389"; }
wc_item wc_item_make(void) { wc_item it = {L"\\u00fcn\\u00ef", 3}; return it; }
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_long_double_and_wchar_t_are_python_values(tmp_path: Path, mode: str) -> None:
    so, h = _library(tmp_path, WIDE_H, WIDE_C)
    lib = pyffi.load(so, h, mode=mode)
    # long double: a Python float both ways (precision beyond a double is lost)
    assert lib.ld_half(3.0) == 1.5 and type(lib.ld_half(3)) is float
    box = lib.ld_make(2.5)
    assert box.v == 2.5 and type(box.v) is float and box.n == 7
    assert lib.ld_get({"v": 0.25, "n": 1}) == 0.25
    # wchar_t *: a str in (NUL added), a str out
    assert lib.wc_len("héllo 🎉") == 7
    assert lib.wc_len(None) == 0
    assert lib.wc_hello() == "héllo 🎉"
    assert lib.wc_item_make().name == "ünï"
    with pytest.raises(ValueError, match=r"wc_len\(\) argument 's' contains a NUL character"):
        lib.wc_len("a\0b")
    with pytest.raises(TypeError, match=r"wc_len\(\) argument 's' .* must be a str or a buffer"):
        lib.wc_len([65, 66, 0])
    with pytest.raises(TypeError, match=r"wc_len\(\) argument 's'"):
        lib.wc_len(b"abc")


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_libc_and_libm_headers_are_their_own_declarations(mode: str) -> None:
    import math

    found = [Path(d) for d in ("/usr/include/math.h", "/usr/include/string.h")]
    if not all(p.is_file() for p in found):
        pytest.skip("libc's headers are not installed")
    m = pyffi.load("m", "/usr/include/math.h", mode=mode)
    assert {"cos", "hypot", "frexp", "lgamma"} <= set(m.functions())
    assert m.cos(0.0) == 1.0 and m.hypot(3.0, 4.0) == 5.0
    assert m.constants["M_PI"] == math.pi
    c = pyffi.load("c", "/usr/include/string.h", mode=mode)
    assert c.strlen("héllo") == 6 and "memcpy" in c.functions()
    if Path("/usr/include/zlib.h").is_file():  # a library's header: none of libc's functions
        z = pyffi.load("z", "/usr/include/zlib.h", mode=mode)
        assert "printf" not in z.functions() and "crc32" in z.functions()


PACKED_H = """
struct natural { char c; double d; int i; };
struct __attribute__((packed)) packed1 { char c; double d; int i; };
typedef struct { char c; double d; } __attribute__((packed)) packed_t;
#pragma pack(push, 2)
struct pragma2 { char c; double d; };
#pragma pack(pop)
struct after { char c; double d; };
struct aligned16 { char c; int i __attribute__((aligned(16))); };
struct aligned_same { char c; int i __attribute__((aligned(4))); };
double packed_sum(struct packed1 p);
double packed_ptr(const struct packed1 *p);
double natural_sum(struct natural n);
"""
PACKED_C = """
double packed_sum(struct packed1 p) { return p.c + p.d + p.i; }
double packed_ptr(const struct packed1 *p) { return p->c + p->d + p->i; }
double natural_sum(struct natural n) { return n.c + n.d + n.i; }
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_a_packed_or_aligned_layout_is_the_compilers_or_skipped(tmp_path: Path, mode: str) -> None:
    so, h = _library(tmp_path, PACKED_H, PACKED_C)
    lib = pyffi.load(so, h, mode=mode)
    kept = ["struct natural", "struct after", "struct aligned_same"]
    printf = [(f"{t} size", ("%zu", f"sizeof({t})")) for t in kept]
    field = {t: "i" if "aligned" in t else "d" for t in kept}
    printf += [(f"{t} d", ("%zu", f"offsetof({t}, {field[t]})")) for t in kept]
    gcc = _gcc_prints(tmp_path, h, printf)
    for t in kept:  # what cffi declares is what gcc lays out
        assert str(lib.ffi.sizeof(t)) == gcc[f"{t} size"]
        assert str(lib.ffi.offsetof(t, field[t])) == gcc[f"{t} d"]
    # what cffi would lay out otherwise is opaque, with the compiler's numbers
    for name, size in [
        ("struct packed1", 13),
        ("packed_t", 9),
        ("struct pragma2", 10),
        ("struct aligned16", 32),
    ]:
        assert f"the compiler gives size {size}," in lib.skipped[name], lib.skipped[name]
        assert lib.skipped[name].endswith(
            "declared opaque (pointers to it work, its fields and passing it by value do not)"
        )
    assert "by value as struct packed1" in lib.skipped["packed_sum"]
    buf = lib.ffi.new("char[13]", b"\x01" + bytes(8) + b"\x03\x00\x00\x00")
    assert lib.packed_ptr(lib.ffi.cast("struct packed1 *", buf)) == 4.0  # by pointer: fine
    assert lib.natural_sum({"c": b"\x01", "d": 2.5, "i": 3}) == 6.5


def test_a_packed_struct_in_cdef_text_is_opaque() -> None:
    lib = pyffi.load(
        "c",
        cdef="struct __attribute__((packed)) p { char c; int i; };\n"
        "struct q { char c; int i; };\nint f(struct p *x);",
    )
    assert "no header to compile it with (cdef text)" in lib.skipped["struct p"]
    assert "struct q" not in lib.skipped and lib.ffi.sizeof("struct q") == 8


BITS_H = """
struct bits { unsigned a : 3; unsigned : 0; unsigned b : 5; int : 17; unsigned long long c : 40; };
struct anon { int kind; union { int i; float f; }; struct { short lo, hi; }; };
struct bits bits_make(void);
struct anon anon_make(void);
int bits_sum(const struct bits *b);
"""
BITS_C = """
struct bits bits_make(void) { struct bits b = {5, 17, 0x123456789ULL}; return b; }
struct anon anon_make(void) { struct anon a; a.kind = 1; a.i = 42; a.lo = 3; a.hi = 4; return a; }
int bits_sum(const struct bits *b) { return (int)(b->a + b->b + (b->c & 0xff)); }
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_bit_fields_and_anonymous_members_in_structs_by_value(tmp_path: Path, mode: str) -> None:
    so, h = _library(tmp_path, BITS_H, BITS_C)
    lib = pyffi.load(so, h, mode=mode)
    if mode == "abi":  # libffi cannot pass them: skipped, saying who can
        for name in ("bits_make", "anon_make"):
            assert (
                'libffi (ABI mode) cannot pass such a struct: mode="api" calls it'
                in (lib.skipped[name])
            )
    else:  # the compiled call: a Record with the named fields, anonymous members' included
        bits = lib.bits_make()
        assert (bits.a, bits.b, bits.c) == (5, 17, 0x123456789)
        assert "''" not in repr(bits)
        anon = lib.anon_make()
        assert (anon.kind, anon.i, anon.lo, anon.hi) == (1, 42, 3, 4)
    buf = lib.ffi.new("struct bits *", {"a": 5, "b": 17, "c": 0x1234567AB})
    assert lib.bits_sum(buf) == 5 + 17 + 0xAB  # bit-fields written as C reads them


ENUMS_H = """
#include <stdint.h>
#define TAG(a,b,c,d) ((uint32_t)((((uint32_t)(a)&0xFF)<<24)|(((uint32_t)(b)&0xFF)<<16)|\\
    (((uint32_t)(c)&0xFF)<<8)|((uint32_t)(d)&0xFF)))
typedef enum { S_COMMON = TAG('Z','y','y','y'), S_LATIN = TAG('L','a','t','n'), S_X = 5 } s_t;
enum flags { F_NONE = 0, F_ALL = ~0, F_CHAR = 'a', F_SIZE = sizeof(int), F_CAST = (int)3,
             F_NEG = -(1 << 4), F_NEXT, F_AFTER = F_NEXT * 2 };
int use_script(s_t s);
int use_flags(enum flags f);
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_enumerator_values_cffi_cannot_read_are_evaluated(tmp_path: Path, mode: str) -> None:
    header = tmp_path / "enums.h"
    header.write_text(ENUMS_H)
    names = [
        "S_COMMON",
        "S_LATIN",
        "S_X",
        "F_NONE",
        "F_ALL",
        "F_CHAR",
        "F_SIZE",
        "F_CAST",
        "F_NEG",
        "F_NEXT",
        "F_AFTER",
    ]
    expected = _gcc_prints(tmp_path, header, [(n, ("%lld", f"(long long)({n})")) for n in names])
    lib = pyffi.load("c", header, mode=mode)
    assert {n: str(lib.constants.get(n)) for n in names} == expected
    assert not {"s_t", "enum flags", "use_script", "use_flags"} & set(lib.skipped)


OPAQUE_H = """
struct fwd;
struct fwd make_fwd(void);
extern const struct fwd the_fwd;
extern const int the_count;
int ok(int x);
int fwd_value(const struct fwd *p);
"""
OPAQUE_C = """
struct fwd { int v; };
const struct fwd the_fwd = {5};
const int the_count = 3;
int ok(int x) { return x; }
int fwd_value(const struct fwd *p) { return p->v; }
struct fwd make_fwd(void) { return the_fwd; }
"""


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_what_neither_mode_can_declare_is_skipped_alike(tmp_path: Path, mode: str) -> None:
    """An opaque struct by value and a const global of struct type: skipped with the
    reason in both modes (mode="api" compiled every declaration and failed whole)."""
    so, h = _library(tmp_path, OPAQUE_H, OPAQUE_C)
    lib = pyffi.load(so, h, mode=mode)
    assert set(lib.functions()) == {"ok", "fwd_value"}
    assert "whose layout is not known" in lib.skipped["make_fwd"]
    assert "is a const global of type struct fwd" in lib.skipped["the_fwd"]
    assert lib.the_count == 3 and lib.ok(4) == 4


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_an_include_inside_an_enum_body(tmp_path: Path, mode: str) -> None:
    """fribidi's and freetype's X-macro lists: the enum goes on across the included file,
    and the declarations after it are there."""
    (tmp_path / "list.h").write_text("X(KIND_A, 1)\nX(KIND_B, 2)\nX(KIND_C, 4)\n")
    header = tmp_path / "xmacro.h"
    header.write_text(
        'typedef enum {\n#define X(name, value) name = value,\n#include "list.h"\n#undef X\n'
        "  KIND_LAST\n} kinds_t;\nint after_enum(kinds_t k);\nconst char *kind_name(int k);\n"
    )
    names = ["KIND_A", "KIND_B", "KIND_C", "KIND_LAST"]
    expected = _gcc_prints(tmp_path, header, [(n, ("%lld", f"(long long)({n})")) for n in names])
    lib = pyffi.load("c", header, mode=mode)
    assert {n: str(lib.constants.get(n)) for n in names} == expected
    assert not lib.skipped
    assert {"after_enum", "kind_name"} <= set(lib.functions()) | set(lib.skipped)
