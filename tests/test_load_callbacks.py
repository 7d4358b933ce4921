"""pyffi.load: callbacks C keeps after the call (registration APIs), and their limits.

The crash cases run in a subprocess: a regression there would kill pytest.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Any

import pytest
from support import SAFE_PATH, UNDER_ASAN, UNDER_VALGRIND
from test_load import HERE
from test_load_libs import header

import pyffi


def run(code: str, tmp_path: Path) -> str:
    """Run ``code`` in a fresh interpreter; its stdout, or a failure showing how it died."""
    env = {**os.environ, "PYFFI_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, *SAFE_PATH, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def with_expat(body: str) -> str:
    """``body`` after the lines that load expat as ``x`` and make a parser ``p``."""
    head = f"import gc, pyffi\nx = pyffi.load('expat', {str(header('expat.h'))!r})\n"
    return head + "p = x.XML_ParserCreate(None)\n" + textwrap.dedent(body)


def test_expat_handlers_outlive_the_call(tmp_path: Path) -> None:
    out = run(
        with_expat("""
        seen = []
        x.XML_SetElementHandler(p, lambda u, name, atts: seen.append("<" + name),
                                lambda u, name: seen.append(name + ">"))
        x.XML_SetCharacterDataHandler(p, lambda u, s, n: seen.append(x.ffi.unpack(s, n).decode()))
        gc.collect()
        doc = b"<a><b>hi</b></a>"
        assert x.XML_Parse(p, doc, len(doc), 1) == x.XML_STATUS_OK
        x.XML_ParserFree(p)
        print(" ".join(seen))
        """),
        tmp_path,
    )
    assert out.split() == ["<a", "<b", "hi", "b>", "a>"]


def test_libuv_timer_callback_outlives_the_call(tmp_path: Path) -> None:
    out = run(
        f"""
        import gc, pyffi
        uv = pyffi.load("uv", {str(header("uv.h"))!r})
        loop = uv.ffi.new("uv_loop_t *")
        assert uv.uv_loop_init(loop) == 0
        timer = uv.ffi.new("uv_timer_t *")
        assert uv.uv_timer_init(loop, timer) == 0
        fired = []
        assert uv.uv_timer_start(timer, lambda h: fired.append(uv.uv_now(loop) >= 0), 5, 0) == 0
        gc.collect()
        assert uv.uv_run(loop, uv.UV_RUN_DEFAULT) == 0
        uv.uv_close(uv.ffi.cast("uv_handle_t *", timer), None)
        uv.uv_run(loop, uv.UV_RUN_DEFAULT)
        assert uv.uv_loop_close(loop) == 0
        print(fired)
        """,
        tmp_path,
    )
    assert out.strip() == "[True]"


def test_curl_write_callback_set_through_curl_easy_setopt(tmp_path: Path) -> None:
    src = tmp_path / "data.bin"
    src.write_bytes(bytes(range(256)) * 400)
    out = run(
        f"""
        import gc, pyffi
        c = pyffi.load("curl", {str(header("curl/curl.h"))!r})
        assert c.curl_global_init(c.CURL_GLOBAL_DEFAULT) == 0
        h = c.curl_easy_init()
        got = []
        c.curl_easy_setopt(h, c.CURLOPT_URL, "file://{src}")
        c.curl_easy_setopt(h, c.CURLOPT_WRITEFUNCTION, c.callback(
            lambda p, size, n, user: got.append(c.ffi.unpack(p, size * n)) or size * n,
            "curl_write_callback"))
        gc.collect()
        assert c.curl_easy_perform(h) == c.CURLE_OK
        c.curl_easy_cleanup(h)
        c.curl_global_cleanup()
        print(sum(map(len, got)), len(got) > 1)
        """,
        tmp_path,
    )
    assert out.split() == [str(256 * 400), "True"]


def test_a_hook_without_handle_is_kept_by_the_library(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h")
    lib.demo_hook_set(lambda x: x * 3)
    gc.collect()
    assert lib.demo_hook_fire(14) == 42
    f = lambda x: x + 1  # noqa: E731
    lib.demo_hook_set(f)
    lib.demo_hook_set(f)  # one trampoline per (callable, C type)
    assert lib._registry.count() == 2
    assert lib.demo_hook_fire(1) == 2
    lib.demo_hook_set(None)


def test_a_released_callback_is_a_clear_error(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h", callbacks={"demo_hook_set": "call"})
    lib.demo_hook_set(lambda x: x)
    gc.collect()  # the trampoline stays allocated (retired), the Python target is gone
    with pytest.raises(
        pyffi.CallbackError, match=r"after pyffi released it \(the call that received it returned\)"
    ):
        lib.demo_hook_fire(1)
    with pytest.raises(pyffi.CallbackError, match="after pyffi released it"):
        lib.demo_hook_fire(1)  # and again: C gets 0 each time, never a jump into freed memory
    lib.demo_hook_set(None)


def test_an_exception_in_a_late_callback_is_raised_by_the_running_call(tmp_path: Path) -> None:
    out = run(
        with_expat("""
        calls = []
        def start(u, name, atts):
            calls.append(name)
            raise KeyError(name)
        x.XML_SetStartElementHandler(p, start)
        gc.collect()
        try:
            x.XML_Parse(p, b"<a><b/><c/></a>", 15, 1)
        except KeyError as e:
            print("raised", e, calls)
        x.XML_ParserFree(p)
        """),
        tmp_path,
    )
    # raised from XML_Parse; the handlers after the first error did not run
    assert out.strip() == "raised 'a' ['a']"


def test_an_exception_outside_any_pyffi_call_goes_to_unraisablehook(
    c_library: Path,
) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h")
    seen: list[Any] = []

    def boom(x: int) -> int:
        raise ValueError(f"late {x}")

    old = sys.unraisablehook
    sys.unraisablehook = lambda u: seen.append(u.exc_value)
    try:
        lib.demo_hook_set(boom)
        assert lib.raw.demo_hook_fire(5) == 0  # through raw: no pyffi call running
    finally:
        sys.unraisablehook = old
    assert [str(e) for e in seen] == ["late 5"]
    with pytest.raises(ValueError, match="late 6"):
        lib.demo_hook_fire(6)  # through pyffi: raised from that call
    lib.demo_hook_set(None)


@pytest.mark.skipif(
    UNDER_ASAN or UNDER_VALGRIND, reason="ASan's and valgrind's allocators hold freed memory back"
)
def test_a_fresh_lambda_per_call_stays_bounded() -> None:
    s = pyffi.load("sqlite3", header("sqlite3.h"))
    db = s.ffi.new("sqlite3 **")
    assert s.sqlite3_open(":memory:", db) == 0

    def rss() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    for _ in range(2000):
        s.sqlite3_exec(db[0], "select 1", lambda u, n, v, c: 0, None, None)
    before = rss()
    for _ in range(200_000):
        assert s.sqlite3_exec(db[0], "select 1", lambda u, n, v, c: 0, None, None) == 0
    grown = rss() - before
    assert s.sqlite3_close(db[0]) == 0
    assert grown < 20, f"{grown:.1f} MB"
    assert s._registry.count() == 1  # one slot: (sqlite3_exec, callback, db)


def test_many_kept_callbacks_warn(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h")  # demo_hook_set has no handle: kept
    with pytest.warns(
        ResourceWarning, match=r"keeps 10000 callback trampolines .* callbacks=\{'name': 'call'\}"
    ):
        for k in range(10_000):
            lib.demo_hook_set(lambda x, k=k: x + k)
    assert lib.demo_hook_fire(1) == 10_000
    lib.demo_hook_set(None)
    quiet = pyffi.load(c_library, HERE / "demo.h", callbacks={"demo_hook_set": "call"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(10_100):
            quiet.demo_hook_set(lambda x: x)
    quiet.demo_hook_set(None)
    assert quiet._registry.count() == 0


def test_a_buffer_handle_ties_the_callback_to_it() -> None:
    cdef = "void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));"
    lib = pyffi.load("c", cdef=cdef)
    data = bytearray(b"\x03\x01\x02")
    for _ in range(1000):  # a fresh lambda each time: one slot (qsort, cmp, data)
        lib.qsort(
            data,
            3,
            1,
            lambda a, b: (
                lib.ffi.cast("unsigned char *", a)[0] - lib.ffi.cast("unsigned char *", b)[0]
            ),
        )
    assert bytes(data) == b"\x01\x02\x03"
    assert lib._registry.count() == 1


def test_callbacks_setting_is_checked(c_library: Path) -> None:
    with pytest.raises(
        ValueError, match=r"the mode must be one of \('call', 'handle', 'library'\)"
    ):
        pyffi.load(c_library, HERE / "demo.h", callbacks={"demo_hook_set": "forever"})
    with pytest.raises(ValueError, match="function 'nope' is not declared"):
        pyffi.load(c_library, HERE / "demo.h", callbacks={"nope": "call"})
    lib = pyffi.load(c_library, HERE / "demo.h", callbacks={"demo_hook_set": "handle"})
    with pytest.raises(pyffi.DeclarationError, match=r"demo_hook_set\(\) has no handle parameter"):
        lib.demo_hook_set
    with pytest.raises(TypeError, match="is not a function pointer type"):
        lib.callback(lambda: 0, "int")
    with pytest.raises(TypeError, match="needs a callable"):
        lib.callback(5, "demo_hook")  # type: ignore[arg-type]
    cb = lib.callback(lambda x: x, "demo_hook")
    assert not cb.released and repr(cb).startswith("<pyffi.Callback <function")
    with pytest.raises(
        pyffi.DeclarationError, match=r"callback\(\): 'no_such_t' is not a C type here"
    ):
        lib.callback(lambda: 0, "no_such_t")
    for bad in ("", "  ", "*", "int (*)(", "struct"):  # cffi's own errors differ by mode
        said = rf"^callback\(\): {re.escape(repr(bad))} is not a C"
        with pytest.raises(pyffi.DeclarationError, match=said):
            lib.callback(lambda: 0, bad)
    with pytest.raises(TypeError, match="callback\\(\\) ctype must be a str, not int"):
        lib.callback(lambda: 0, 5)  # type: ignore[arg-type]
    with pytest.raises(
        TypeError,
        match=r"demo_apply\(\) argument 'op' .* must be a callable or a Callback of "
        r"int32_t\(\*\)\(int32_t, int32_t\), not Callback",
    ):
        lib.demo_apply(cb, 1, 2)  # a Callback of another C type


def test_a_callback_object_passed_inline_is_kept(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h")
    lib.demo_hook_set(lib.callback(lambda x: x - 1, "demo_hook"))  # no reference held
    gc.collect()
    assert lib.demo_hook_fire(43) == 42
    lib.demo_hook_set(None)


# --- owned structs -------------------------------------------------------------------


def test_owned_struct_freed_through_its_pointer_fields(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h", owned={"demo_girl_make": "demo_free_cstring"})
    before = lib.demo_free_count()
    girl = lib.demo_girl_make("Alice", 30)
    assert girl == pyffi.Record("demo_girl", name="Alice", age=30)
    assert lib.demo_free_count() == before + 1  # the name, exactly once


def test_owned_struct_freed_by_address(c_library: Path) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h", owned={"demo_girl_make": "demo_girl_free"})
    before = lib.demo_free_count()
    assert lib.demo_girl_make("Bo", 7).name == "Bo"
    assert lib.demo_free_count() == before + 1


def test_owned_struct_with_an_unfit_free_is_refused(c_library: Path) -> None:
    with pytest.raises(
        pyffi.DeclarationError,
        match=r"demo_girl_make\(\) returns demo_girl by value, and demo_girl_bad_free\(int32_t\) "
        r"takes neither it, a pointer to it, nor",
    ):
        pyffi.load(c_library, HERE / "demo.h", owned={"demo_girl_make": "demo_girl_bad_free"})


@pytest.mark.parametrize("mode", ["abi", "api"])
def test_a_callback_result_c_cannot_take_names_the_call_and_the_callback(
    c_library: Path, mode: str
) -> None:
    lib = pyffi.load(c_library, HERE / "demo.h", mode=mode)

    def op(a: int, b: int) -> object:
        return "x"

    with pytest.raises(TypeError) as info:
        lib.demo_apply(op, 1, 2)
    said = str(info.value)
    assert said.startswith("the callback <function ")
    assert "op at 0x" in said and "(demo_apply() argument 'op')" in said
    assert said.endswith(
        "returned a value its C result type (int32_t) cannot take: an integer is required"
    )
    with pytest.raises(OverflowError, match=r"\(int32_t\) cannot take: integer 1099511627776"):
        lib.demo_apply(lambda a, b: 2**40, 1, 2)
    assert lib.demo_apply(lambda a, b: a + b, 1, 2) == 3  # the Library is still fine
