"""pyffi.load's declaration cache: hits, misses on change, corrupt entries, concurrent writers."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support import SAFE_PATH, UNDER_ASAN

import pyffi
from pyffi._loader import _pipeline, _toolchain


def _header(tmp_path: Path, body: str = "int abs(int x);\n") -> Path:
    h = tmp_path / "mine.h"
    h.write_text("#include <stddef.h>\n#define MINE_LEVEL (1 << 4)\n" + body)
    return h


def test_a_second_load_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(cache))
    h = _header(tmp_path)
    first = pyffi.load("c", h)
    assert first.abs(-3) == 3 and first.MINE_LEVEL == 16
    entries = list(cache.glob("*.json"))
    assert len(entries) == 1
    entry = json.loads(entries[0].read_text())
    assert str(h.resolve()) in [p for p, _ in entry["files"]]

    def no_preprocessor(*args: object, **kw: object) -> None:
        raise AssertionError("the preprocessor ran on a cache hit")

    monkeypatch.setattr(_pipeline, "preprocess", no_preprocessor)
    second = pyffi.load("c", h)
    assert second.abs(-4) == 4 and second.MINE_LEVEL == 16
    assert second.functions() == first.functions()


def test_a_changed_header_is_extracted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(tmp_path / "cache"))
    h = _header(tmp_path)
    assert pyffi.load("c", h).functions() == ["abs"]
    h.write_text(h.read_text() + "long labs(long x);\n")
    assert pyffi.load("c", h).functions() == ["abs", "labs"]
    # and a change to an included file counts too
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "more.h").write_text("int atoi(const char *s);\n")
    top = tmp_path / "top.h"
    top.write_text('#include "more.h"\n')
    assert pyffi.load("c", top, include_dirs=[inc]).functions() == ["atoi"]
    (inc / "more.h").write_text("int atoi(const char *s);\nlong atol(const char *s);\n")
    assert pyffi.load("c", top, include_dirs=[inc]).functions() == ["atoi", "atol"]
    # other defines: another entry
    assert pyffi.load("c", top, include_dirs=[inc], defines={"X": 1}).functions() == [
        "atoi",
        "atol",
    ]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 3  # one per (header, dirs, defines)


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'{"format": 4}', b"\xff\xfe", b"[1, 2]"])
def test_a_corrupt_entry_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(cache))
    h = _header(tmp_path)
    pyffi.load("c", h)
    (entry,) = cache.glob("*.json")
    entry.write_bytes(garbage)
    lib = pyffi.load("c", h)
    assert lib.abs(-1) == 1
    assert "abs" in json.loads(entry.read_text())["declarations"]["functions"]  # rewritten


def test_the_cache_can_be_off_or_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h = _header(tmp_path)
    monkeypatch.setenv("PYFFI_CACHE_DIR", "")
    assert pyffi.load("c", h).abs(-2) == 2
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("PYFFI_CACHE_DIR", str(ro))
    try:
        assert pyffi.load("c", h).abs(-2) == 2  # a cache it cannot write only costs time
        if os.geteuid() != 0:  # root writes anyway
            assert not list(ro.iterdir())
    finally:
        ro.chmod(stat.S_IRWXU)


@pytest.mark.skipif(UNDER_ASAN, reason="4 interpreters at once under ASan: minutes, no new path")
def test_concurrent_writers_leave_one_valid_entry(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    h = _header(tmp_path, "".join(f"int f{i}(int x);\n" for i in range(100)))
    code = f"import pyffi; lib = pyffi.load('c', {str(h)!r}); print(len(lib.functions()))"
    env = {**os.environ, "PYFFI_CACHE_DIR": str(cache)}
    procs = [
        subprocess.Popen(
            [sys.executable, *SAFE_PATH, "-c", code], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    outs = [p.communicate(timeout=300)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0] * 4
    assert outs == ["100"] * 4
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 1 and files[0].endswith(".json"), files  # no temporary file left
    json.loads((cache / files[0]).read_text())


def test_the_compiler_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cc = _toolchain.compiler()
    assert cc is not None
    assert _toolchain.compiler_id(cc).startswith(f"{cc}|")
