"""The generated wrappers, one parameter kind at a time, in both modes.

Every call is made through ``mode="abi"`` (the Python wrapper, its fast cases
first) and ``mode="api"`` (the compiled wrapper where the function has one,
falling back on the Python wrapper): the results and the errors must be the
same, whichever path took the call.
"""

from __future__ import annotations

import array
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BUILD_ENV

import pyffi

HEADER = r"""
#include "pyffi.h"
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
typedef struct kv_pair { int32_t k; double v; } kv_pair;
typedef struct kv_opaque kv_opaque;
typedef enum kv_color { KV_RED = 1, KV_BLUE = 2 } kv_color;
typedef int32_t (*kv_fn)(int32_t);

int8_t kv_i8(int8_t x);
uint8_t kv_u8(uint8_t x);
int16_t kv_i16(int16_t x);
uint32_t kv_u32(uint32_t x);
int64_t kv_i64(int64_t x);
uint64_t kv_u64(uint64_t x);
size_t kv_size(size_t x);
long kv_long(long x);
double kv_double(double x);
float kv_float(float x);
bool kv_not(bool b);
int kv_color_value(kv_color c);
size_t kv_strlen(const char *s);
size_t kv_bytelen(const unsigned char *p, size_t n);
size_t kv_voidlen(const void *p, size_t n);
void kv_fill(unsigned char *p, size_t n, unsigned char c);
double kv_pair_sum(kv_pair p);
double kv_pair_ptr_sum(const kv_pair *p);
void kv_scale(double *xs, size_t n, double k);
kv_opaque *kv_open(int32_t x);
int32_t kv_opaque_get(const kv_opaque *o);
void kv_close(kv_opaque *o);
int32_t kv_apply(kv_fn f, int32_t x);
int kv_set_errno(int e);
void kv_nothing(void);
int kv_sum3(int a, int b, int c);
size_t kv_str_len(const pyffi_str *s);
size_t kv_str_len_value(pyffi_str s);
int64_t kv_vec_sum(const pyffi_vec_i64 *v);
void kv_vec_double(pyffi_vec_i64 *v);
double kv_fvec_sum(pyffi_vec_f64 v);
void kv_fvec_half(pyffi_vec_f64 *v);
"""

SOURCE = r"""
#include "kv.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
struct kv_opaque { int32_t x; };
int8_t kv_i8(int8_t x) { return (int8_t)(x / 2); }
uint8_t kv_u8(uint8_t x) { return (uint8_t)(x / 2); }
int16_t kv_i16(int16_t x) { return (int16_t)(x / 2); }
uint32_t kv_u32(uint32_t x) { return x / 2; }
int64_t kv_i64(int64_t x) { return x / 2; }
uint64_t kv_u64(uint64_t x) { return x / 2; }
size_t kv_size(size_t x) { return x / 2; }
long kv_long(long x) { return x / 2; }
double kv_double(double x) { return x / 2; }
float kv_float(float x) { return x / 2; }
bool kv_not(bool b) { return !b; }
int kv_color_value(kv_color c) { return (int)c * 10; }
size_t kv_strlen(const char *s) { return s ? strlen(s) : 0; }
size_t kv_bytelen(const unsigned char *p, size_t n)
{ size_t t = 0; for (size_t i = 0; p && i < n; i++) t += p[i]; return t; }
size_t kv_voidlen(const void *p, size_t n) { return kv_bytelen(p, n); }
void kv_fill(unsigned char *p, size_t n, unsigned char c) { if (p) memset(p, c, n); }
double kv_pair_sum(kv_pair p) { return p.k + p.v; }
double kv_pair_ptr_sum(const kv_pair *p) { return p ? p->k + p->v : -1; }
void kv_scale(double *xs, size_t n, double k) { for (size_t i = 0; i < n; i++) xs[i] *= k; }
kv_opaque *kv_open(int32_t x) { kv_opaque *o = malloc(sizeof *o); if (o) o->x = x; return o; }
int32_t kv_opaque_get(const kv_opaque *o) { return o ? o->x : -1; }
void kv_close(kv_opaque *o) { free(o); }
int32_t kv_apply(kv_fn f, int32_t x) { return f(x); }
int kv_set_errno(int e) { errno = e; return e; }
void kv_nothing(void) {}
int kv_sum3(int a, int b, int c) { return a + b + c; }
size_t kv_str_len(const pyffi_str *s) { return s ? s->len : 0; }
size_t kv_str_len_value(pyffi_str s) { return s.len; }
int64_t kv_vec_sum(const pyffi_vec_i64 *v)
{ int64_t t = 0; for (size_t i = 0; v && i < v->len; i++) t += v->ptr[i]; return t; }
void kv_vec_double(pyffi_vec_i64 *v) { for (size_t i = 0; v && i < v->len; i++) v->ptr[i] *= 2; }
double kv_fvec_sum(pyffi_vec_f64 v)
{ double t = 0; for (size_t i = 0; i < v.len; i++) t += v.ptr[i]; return t; }
void kv_fvec_half(pyffi_vec_f64 *v) { for (size_t i = 0; v && i < v->len; i++) v->ptr[i] /= 2; }
"""


@pytest.fixture(scope="module")
def kv(tmp_path_factory) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler to build the test library")
    d = tmp_path_factory.mktemp("kv")
    (d / "kv.h").write_text(HEADER)
    (d / "kv.c").write_text(SOURCE)
    so = d / "libkv.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O1", "-I", pyffi.get_include(), str(d / "kv.c"), "-o", str(so)],
        check=True,
        env=BUILD_ENV,
    )
    return so, d / "kv.h"


@pytest.fixture(scope="module")
def both(kv) -> dict[str, pyffi.Library]:  # type: ignore[no-untyped-def]
    so, header = kv
    return {mode: pyffi.load(so, header, mode=mode) for mode in ("abi", "api")}


def outcome(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """What a call gives: ("ok", value) or (exception type, message)."""
    try:
        return ("ok", fn(*args, **kwargs))
    except Exception as exc:  # the same error on both paths is what is tested
        return (type(exc).__name__, str(exc))


# name -> argument tuples: each is called in both modes, results and errors compared
CALLS = {
    "kv_i8": [(100,), (-128,), (127,), (128,), (-129,), (2**70,), (1.5,), ("x",), (True,), (None,)],
    "kv_u8": [(200,), (255,), (256,), (-1,)],
    "kv_i16": [(-32768,), (32768,)],
    "kv_u32": [(2**32 - 1,), (2**32,), (-1,)],
    "kv_i64": [(2**63 - 1,), (-(2**63),), (2**63,)],
    "kv_u64": [(2**64 - 1,), (2**64,), (-1,)],
    "kv_size": [(2**64 - 1,), (-5,)],
    "kv_long": [(-7,), (2**63,)],
    "kv_double": [(3.0,), (3,), (2**1030,), ("3",), (None,)],
    "kv_float": [(3.0,), (1e300,), (2,)],
    "kv_not": [(True,), (False,), (1,), (0,), (None,)],
    "kv_color_value": [(1,), (2,), (2**40,), ("red",)],
    "kv_strlen": [
        ("héllo",),
        (b"abc",),
        (bytearray(b"abcd"),),
        (None,),
        ("a\0b",),
        ("\udc80",),
        (5,),
        (memoryview(b"xy"),),
    ],
    "kv_bytelen": [(b"\x01\x02", 2), (bytearray(b"\x03"), 1), ("é", 2), (None, 0), (3, 1)],
    "kv_voidlen": [(b"\x01\x02", 2), (bytearray(b"\x05"), 1), ("x", 1), (None, 0)],
    "kv_pair_sum": [
        ({"k": 1, "v": 2.5},),
        ({"k": 1, "v": 2},),
        ((3, 0.5),),
        ({"k": 1},),
        ((1,),),
        ((1, 2.0, 3),),
        ({"k": 1, "v": 2.0, "z": 3},),
        ({"k": 2**40, "v": 1.0},),
        ({"k": True, "v": 1.0},),
        ({"k": "x", "v": 1},),
        ({"z": 1},),
        (5,),
        (None,),
    ],
    "kv_pair_ptr_sum": [({"k": 1, "v": 2.5},), (None,), ([1, 2],)],
    "kv_sum3": [(1, 2, 3), (1, 2), (1, 2, 3, 4)],
    "kv_str_len": [("héllo",), (b"ab",), (None,), ("\udc80",), (5,), (bytearray(b"xyz"),)],
    "kv_str_len_value": [("héllo",), (b"",), (None,), (["a"],)],
    "kv_vec_sum": [
        ([1, 2, 3],),
        ((1, 2),),
        ([],),
        (list(range(200)),),
        ([2**63],),
        ([1.5],),
        ([True],),
        (None,),
        (array.array("q", [1, 2]),),
        ("12",),
    ],
    "kv_fvec_sum": [([1.0, 2],), ((0.5,),), (["x"],), ([2**1100],), ([],)],
    "kv_nothing": [(), (1,)],
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_kind_gives_the_same_in_both_modes(both, name: str) -> None:
    for args in CALLS[name]:
        abi, api = (outcome(getattr(both[m], name), *args) for m in ("abi", "api"))
        assert abi == api, (name, args)
        # the Python wrappers behind ABI mode's C Caller and the compiled wrapper agree
        for mode in ("abi", "api"):
            fn = getattr(both[mode], name)
            assert outcome(getattr(fn, "__wrapped__", fn), *args) == abi, (mode, name, args)


def test_the_compiled_wrappers_are_compiled(both) -> None:  # type: ignore[no-untyped-def]
    api = both["api"]
    compiled = [n for n in CALLS if type(getattr(api, n)).__name__ == "builtin_function_or_method"]
    # scalars, bools, enums, byte pointers, structs by value and by pointer, none at all
    assert set(compiled) == set(CALLS), set(CALLS) - set(compiled)
    assert type(api.kv_apply).__name__ == "builtin_function_or_method"  # a cdata or None
    # ABI mode: a C Caller passes what cffi takes as it is, the Python wrapper behind it
    abi = both["abi"]
    called = {n for n in CALLS if type(getattr(abi, n)).__name__ == "Caller"}
    slices = {"kv_str_len", "kv_str_len_value", "kv_vec_sum", "kv_fvec_sum"}  # the wrapper's own
    assert called == set(CALLS) - slices, set(CALLS) - called
    assert type(abi.kv_sum3.__wrapped__).__name__ == "function"
    assert repr(abi.kv_sum3) == "<pyffi function kv_sum3>"
    for lib in both.values():  # a list for a double *: the Python wrapper writes it back
        xs = [1.0, 2.0]
        lib.kv_scale(xs, 2, 3.0)
        assert xs == [3.0, 6.0]
        lib.kv_scale(None, 0, 1.0)


def test_keyword_arguments_take_the_python_wrapper(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        assert lib.kv_sum3(1, b=2, c=3) == 6
        assert outcome(lib.kv_sum3, 1, 2, d=3)[0] == "TypeError"


def test_cdata_of_the_parameters_type(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        o = lib.kv_open(42)
        assert lib.kv_opaque_get(o) == 42
        assert lib.kv_opaque_get(None) == -1
        p = lib.ffi.new("kv_pair *", {"k": 2, "v": 0.25})
        assert lib.kv_pair_ptr_sum(p) == 2.25
        assert lib.kv_pair_sum(p[0]) == 2.25
        wrong = lib.ffi.cast("kv_pair *", 0)
        assert outcome(lib.kv_opaque_get, wrong)[0] == "TypeError"
        assert outcome(lib.kv_opaque_get, 7)[0] == "TypeError"
        lib.kv_close(o)


def test_a_bytearray_is_written_in_place(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        buf = bytearray(4)
        lib.kv_fill(buf, 3, 7)
        assert buf == bytearray(b"\x07\x07\x07\x00")
        data = b"abcd"
        lib.kv_fill(data, 1, 7)  # bytes are read-only: C writes into a private copy
        assert data == b"abcd"


def test_lists_are_written_back_in_place(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        for n in (3, 200):  # on the stack and on the heap in the compiled wrapper
            xs = list(range(n))
            same = xs
            lib.kv_vec_double(xs)
            assert xs is same and xs == [2 * k for k in range(n)]
        fs = [1.0, 3.0]
        lib.kv_fvec_half(fs)
        assert fs == [0.5, 1.5]
        assert outcome(lib.kv_vec_double, (1, 2))[0] == "TypeError"  # not written back: refused
        bad = [1, "x"]
        assert outcome(lib.kv_vec_double, bad)[0] == "TypeError"
        assert bad == [1, "x"]  # nothing written on an error


def test_errno_is_kept_as_cffi_keeps_it(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        assert lib.kv_set_errno(errno.EDOM) == errno.EDOM
        assert lib.ffi.errno == errno.EDOM


def test_a_library_with_callbacks_takes_the_python_wrapper(kv) -> None:  # type: ignore[no-untyped-def]
    so, header = kv
    lib = pyffi.load(so, header, mode="api")
    add = lib.kv_sum3
    assert add(1, 2, 3) == 6
    assert lib.kv_apply(lambda x: x * 2, 21) == 42  # makes a trampoline

    def boom(x: int) -> int:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        lib.kv_apply(boom, 1)
    assert add(1, 2, 3) == 6  # still right, now through the Python wrapper


def test_the_c_helpers_refuse_what_they_cannot_hold(both) -> None:  # type: ignore[no-untyped-def]
    from pyffi._loader._caller import make

    lib = both["abi"]
    with pytest.raises(ValueError, match=r"make\(\): at most 32 codes, one type each"):
        make("f", print, print, {}, "i" * 33, (None,) * 33, lib.ffi.CData, lib.ffi.NULL, print)
    with pytest.raises(ValueError, match=r"make\(\): at most 32 codes, one type each"):
        make("f", print, print, {}, "ii", (None,), lib.ffi.CData, lib.ffi.NULL, print)
    native = both["api"]._native
    with pytest.raises(IndexError, match="no compiled wrapper of that index"):
        native.bind(10**6, (print, {}))


def test_a_dict_naming_a_field_the_struct_lacks_is_a_type_error(both) -> None:  # type: ignore[no-untyped-def]
    for lib in both.values():
        for value in ({"k": 1, "v": 2.0, "z": 3}, {"z": 1}):
            with pytest.raises(
                TypeError,
                match=r"^kv_pair_sum\(\) argument '\w+' \(kv_pair\): "
                r"struct kv_pair has no field 'z'; its fields: k, v$",
            ):
                lib.kv_pair_sum(value)
