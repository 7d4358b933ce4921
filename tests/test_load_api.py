"""pyffi.load(mode="api"): the declarations compiled into an extension, cached (both backends).

The conversions themselves run on both modes in test_load.py (its ``demo``
fixture takes each); here: what only compiled code can call, the constants
the compiler gives, real libraries, the cache and its concurrency, the errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from support import SAFE_PATH
from test_load_libs import LIBRARIES, header

import pyffi

HERE = Path(__file__).resolve().parent / "load"
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # scripts/test shares one cache over its runs; else a fresh one per module
    shared = os.environ.get("PYFFI_CACHE_DIR")
    return Path(shared) if shared else tmp_path_factory.mktemp("pyffi-cache")


@pytest.fixture(autouse=True)
def _cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(cache_dir))


def _cc_library(tmp_path: Path, name: str, source: str) -> Path:
    c = tmp_path / f"{name}.c"
    c.write_text(source)
    out = tmp_path / f"lib{name}.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-O1", str(c), "-o", str(out)], check=True, env=BUILD_ENV
    )
    return out


# --- what only compiled code can call ----------------------------------------------------


def test_inline_functions_and_macros_are_callable(c_library: Path) -> None:
    abi = pyffi.load(c_library, HERE / "demo.h")
    api = pyffi.load(c_library, HERE / "demo.h", mode="api")
    assert (abi.mode, api.mode) == ("abi", "api")
    assert api.demo_twice(21) == 42
    assert api.demo_add_ten(32) == 42
    with pytest.raises(pyffi.OutOfRangeError, match=r"demo_twice.* does not fit int32_t"):
        api.demo_twice(2**31)
    with pytest.raises(TypeError, match=r"demo_add_ten\(\) argument 'x' \(int32_t\) must be int"):
        api.demo_add_ten("ten")
    assert {"demo_twice", "demo_add_ten"} <= set(api.functions())
    assert not {"demo_twice", "demo_add_ten"} & set(api.skipped)
    # ABI mode lists them as skipped, saying mode="api" calls them
    assert abi.skipped["demo_twice"].endswith('(mode="api" compiles a call to it)')
    assert abi.skipped["demo_add_ten"].endswith(
        '(mode="api" calls it as int32_t demo_add_ten(int32_t x);)'
    )
    with pytest.raises(AttributeError, match="'demo_twice' is a static inline function"):
        abi.demo_twice
    # the same marshalling: the exported functions answer alike in both modes
    assert api.demo_add(40, 2) == abi.demo_add(40, 2) == 42
    assert api.demo_version() == abi.demo_version()
    assert "(api)" in repr(api) and "(abi)" in repr(abi)


def test_constants_come_from_the_compiler(c_library: Path) -> None:
    abi = pyffi.load(c_library, HERE / "demo.h")
    api = pyffi.load(c_library, HERE / "demo.h", mode="api")
    assert (api.DEMO_LIMIT, api.DEMO_RATIO, api.DEMO_NAME) == (1 << 20, 0.25, "demo")
    assert api.constants == abi.constants


def test_a_function_the_compiler_refuses_is_skipped(tmp_path: Path) -> None:
    lib = _cc_library(
        tmp_path, "refused", "int ok(int x) { return x; }\nint nope(int x) { return x; }\n"
    )
    h = tmp_path / "refused.h"
    h.write_text('int ok(int x);\nint nope(int x) __attribute__((error("never call nope")));\n')
    api = pyffi.load(lib, h, mode="api")
    assert api.ok(7) == 7
    assert api.skipped["nope"].startswith('does not compile in mode="api": ')
    assert "never call nope" in api.skipped["nope"]
    with pytest.raises(AttributeError, match="'nope' does not compile"):
        api.nope
    assert pyffi.load(lib, h).nope(3) == 3  # ABI mode calls the symbol
    with pytest.raises(pyffi.DeclarationError, match=r"strict=True: .* 'nope', does not compile"):
        pyffi.load(lib, h, mode="api", strict=True)


def test_an_error_inside_a_header_macro_drops_the_function_that_expands_it(
    tmp_path: Path,
) -> None:
    # glib's g_pointer_bit_lock: a function and a macro of one name; the macro's static
    # assertion fails for the argument cffi's generated call passes. gcc reports the error
    # at the header's line, "In function" the generated one: that function is dropped.
    lib = _cc_library(
        tmp_path,
        "macroed",
        "void bit_lock(void *address, int bit) { (void)address; (void)bit; }\n"
        "int ok(int x) { return x; }\n",
    )
    h = tmp_path / "macroed.h"
    h.write_text(
        "void bit_lock(void *address, int bit);\nint ok(int x);\n"
        "#define bit_lock(address, bit) (__extension__ ({ \\\n"
        '    _Static_assert(sizeof *(address) == sizeof (void *), "a pointer\'s size"); \\\n'
        "    bit_lock((address), (bit)); }))\n"
    )
    api = pyffi.load(lib, h, mode="api")
    assert api.ok(7) == 7
    assert api.skipped["bit_lock"].startswith('does not compile in mode="api": ')
    assert "static assertion failed" in api.skipped["bit_lock"]


def test_strict_counts_what_api_mode_calls_as_declared(tmp_path: Path) -> None:
    lib = _cc_library(tmp_path, "strict", "int base(int x) { return x; }\n")
    h = tmp_path / "strict.h"
    h.write_text("int base(int x);\nstatic inline int plus_one(int x) { return base(x) + 1; }\n")
    assert pyffi.load(lib, h, mode="api", strict=True).plus_one(1) == 2
    with pytest.raises(pyffi.DeclarationError, match="'plus_one', is a static inline function"):
        pyffi.load(lib, h, strict=True)


def test_unexported_functions_stay_declared_but_missing(c_library: Path) -> None:
    api = pyffi.load(c_library, HERE / "demo.h", mode="api")
    assert "demo_not_there" in api.functions() and api.missing() == ["demo_not_there"]
    with pytest.raises(AttributeError, match=r"declared but the library .* does not export it"):
        api.demo_not_there


def test_cdef_text_in_api_mode() -> None:
    m = pyffi.load("m", cdef="double ldexp(double x, int e);\n#define TWO 2\n", mode="api")
    assert m.ldexp(1.0, 10) == 1024.0 and m.TWO == 2
    assert os.path.isabs(m.path) and "libm" in m.path


# --- errors ------------------------------------------------------------------------------


def test_bad_mode_is_a_value_error(c_library: Path) -> None:
    with pytest.raises(ValueError, match=r"mode must be 'abi' or 'api', not 'API'"):
        pyffi.load(c_library, HERE / "demo.h", mode="API")


def test_no_compiler_suggests_abi_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no cc, gcc or clang
    with pytest.raises(pyffi.CompileError, match=r'needs a C compiler.*mode="abi"'):
        pyffi.load("m", cdef="double cos(double x);", mode="api")
    assert pyffi.load("m", cdef="double cos(double x);").cos(0.0) == 1.0  # abi needs none


def test_no_python_headers_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pyffi._loader import _compiled

    real = _compiled.sysconfig.get_paths

    def paths() -> dict[str, str]:
        return {**real(), "include": str(tmp_path)}

    monkeypatch.setattr(_compiled.sysconfig, "get_paths", paths)
    with pytest.raises(pyffi.CompileError, match=r"Python\.h, which is not installed.*python3-dev"):
        pyffi.load("m", cdef="double tan(double x);", mode="api")


@pytest.mark.parametrize("cc", ["false", "true"])
def test_a_compiler_that_fails_or_writes_nothing(cc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC", cc)  # exits 1, or 0 without writing the module
    with pytest.raises(pyffi.CompileError, match='mode="api": the C compiler failed'):
        pyffi.load("m", cdef="double acos(double x);", mode="api")


def test_compiler_errors_are_quoted() -> None:
    with pytest.raises(pyffi.CompileError, match=r"(?s)the C compiler failed.*int32_t"):
        pyffi.load("m", cdef="typedef char int32_t;\ndouble cos(double x);", mode="api")


# --- the cache ---------------------------------------------------------------------------

_CHILD = """
import json, sys
import pyffi
from pyffi._loader import _compiled
built = []
real = _compiled._build_module
def counting(*args, **kw):
    built.append(args[0])
    return real(*args, **kw)
_compiled._build_module = counting
lib = pyffi.load(sys.argv[1], sys.argv[2], mode="api")
print(json.dumps({"built": len(built), "value": lib.kv_value()}))
"""


def _child(lib: Path, h: Path, cache: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, *SAFE_PATH, "-c", _CHILD, str(lib), str(h)],
        env={**os.environ, "PYFFI_CACHE_DIR": str(cache)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _kv(tmp_path: Path, value: int) -> tuple[Path, Path]:
    lib = _cc_library(tmp_path, "kv", "int kv_base(void) { return 40; }\n")
    h = tmp_path / "kv.h"
    h.write_text(
        f"int kv_base(void);\nstatic inline int kv_value(void) {{ return kv_base() + {value}; }}\n"
    )
    return lib, h


def _modules(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "api").glob("_pyffi_api_*.so"))


def test_cache_hit_and_stale_header(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lib, h = _kv(tmp_path, 2)
    first = _child(lib, h, cache)
    assert (first["built"], first["value"]) == (1, 42)
    (first_module,) = _modules(cache)
    second = _child(lib, h, cache)  # a fresh process: imported, not built
    assert (second["built"], second["value"]) == (0, 42)
    # the inline body changes: the header's digest is in the module's name, so it is rebuilt
    h.write_text(h.read_text().replace("+ 2;", "+ 3;"))
    third = _child(lib, h, cache)
    assert (third["built"], third["value"]) == (1, 43)
    # the older build is removed, with its metadata and lock file
    (now,) = _modules(cache)
    stem = now.split(".")[0]
    assert all(p.name.startswith(stem) for p in (cache / "api").iterdir()), stem
    assert now != first_module
    assert not [p for p in (cache / "api").iterdir() if p.name.startswith(".")]  # no leftovers


def test_concurrent_processes_build_once(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lib, h = _kv(tmp_path, 5)
    env = {**os.environ, "PYFFI_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [sys.executable, *SAFE_PATH, "-c", _CHILD, str(lib), str(h)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert sorted(r["built"] for r in results) == [0, 0, 0, 1]
    assert {r["value"] for r in results} == {45}
    assert len(_modules(cache)) == 1


def test_no_cache_directory_still_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYFFI_CACHE_DIR", "")
    lib, h = _kv(tmp_path, 9)
    assert pyffi.load(lib, h, mode="api").kv_value() == 49


# --- real libraries ------------------------------------------------------------------------

# Small ones (each compiles in about a second): run on every Python of scripts/test.
REAL = ["zlib", "bzip2", "xz", "zstd", "lz4", "libyaml", "expat", "sqlite3", "libcurl"]


@pytest.mark.real_library
@pytest.mark.parametrize("name", REAL)
def test_real_library_in_api_mode(name: str, tmp_path: Path) -> None:
    libname, hdr, kw, check, functions = LIBRARIES[name]
    api = pyffi.load(libname, header(hdr), mode="api", **kw)
    assert api.mode == "api" and set(functions) <= set(api.functions())
    if name == "libcurl":
        check(api, tmp_path)
    else:
        check(api)
    # the compiler's constants are the evaluator's (compared where both see the same macros)
    abi = pyffi.load(libname, header(hdr), **kw)
    plain = (int, float, str)
    want = {k: v for k, v in abi.constants.items() if isinstance(v, plain)}
    got = {k: v for k, v in api.constants.items() if isinstance(v, plain)}
    if name == "libcurl":  # Python.h's _GNU_SOURCE shows more of the system headers
        got = {k: v for k, v in got.items() if k in want}
    assert got == want


@pytest.mark.real_library
def test_zlib_macros_deflate_init_and_inflate_init() -> None:
    z = pyffi.load("z", header("zlib.h"), mode="api")
    data = b"api mode " * 500
    strm = z.ffi.new("z_stream *")
    assert z.deflateInit(strm, z.Z_BEST_COMPRESSION) == z.Z_OK  # a macro for deflateInit_
    out = bytearray(z.deflateBound(strm, len(data)))
    src = z.ffi.from_buffer(data)
    dst = z.ffi.from_buffer(out)
    strm.next_in, strm.avail_in = z.ffi.cast("Bytef *", src), len(data)
    strm.next_out, strm.avail_out = z.ffi.cast("Bytef *", dst), len(out)
    assert z.deflate(strm, z.Z_FINISH) == z.Z_STREAM_END
    n = strm.total_out
    assert z.deflateEnd(strm) == z.Z_OK
    assert zlib.decompress(bytes(out[:n])) == data
    back = bytearray(len(data))
    inf = z.ffi.new("z_stream *")
    assert z.inflateInit(inf) == z.Z_OK
    packed = bytes(out[:n])
    keep = z.ffi.from_buffer(packed), z.ffi.from_buffer(back)
    inf.next_in, inf.avail_in = z.ffi.cast("Bytef *", keep[0]), n
    inf.next_out, inf.avail_out = z.ffi.cast("Bytef *", keep[1]), len(back)
    assert z.inflate(inf, z.Z_FINISH) == z.Z_STREAM_END
    assert z.inflateEnd(inf) == z.Z_OK and bytes(back) == data
    with pytest.raises(AttributeError, match="function-like macro"):
        pyffi.load("z", header("zlib.h")).deflateInit


@pytest.mark.real_library
def test_jansson_inline_reference_counting() -> None:
    j = pyffi.load("jansson", header("jansson.h"), mode="api")
    obj = j.json_object()
    value = j.json_integer(7)
    assert j.json_object_set(obj, "seven", value) == 0  # inline: takes a new reference
    assert value.refcount == 2
    j.json_decref(value)  # static inline
    assert value.refcount == 1
    assert j.json_integer_value(j.json_object_get(obj, "seven")) == 7
    j.json_incref(obj)
    assert obj.refcount == 2
    j.json_decref(obj)
    j.json_decref(obj)  # the last reference: json_delete frees the object and its value
    assert "json_decref" not in j.skipped
