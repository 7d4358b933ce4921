"""The embedding library against the installed wheel: C and Rust programs built with
``python -m pyffi --cflags --libs`` / ``--rustflags``, the flags helper, and pyffi.embed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from support import STRESS_ROUNDS

import pyffi
from pyffi import embed
from pyffi._core.errors import error_class

HERE = Path(__file__).resolve().parent / "embed"
CHECKS = Path(__file__).resolve().parent / "c"
# Compilers run without the sanitizer run's LD_PRELOAD=libasan (rustc crashes under
# it); the programs keep it, since the library they load is the ASan build then.
BUILD_ENV = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
ENV = dict(os.environ)


# The suite runs once per backend; the native programs and pyffi.embed never use
# pyffi's backend, so this module runs on api only (CI time: it builds C and Rust).
pytestmark = pytest.mark.skipif(
    pyffi.backend != "api", reason="backend-independent: run once, on api"
)


def _flags(*options: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pyffi", *options],
        check=False,
        capture_output=True,
        text=True,
        env=ENV,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.fixture(scope="module")
def cc() -> str:
    found = shutil.which(os.environ.get("CC", "cc"))
    if found is None:
        pytest.skip("no C compiler to build the embedding programs")
    return found


def _build_c(cc: str, source: str, out: Path) -> Path:
    subprocess.run(
        [
            cc,
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-O1",
            "-pthread",  # the programs start threads (glibc < 2.34 keeps them in libpthread)
            f"-I{CHECKS}",
            str(HERE / source),
            "-o",
            str(out),
            *_flags("--cflags", "--libs"),
        ],
        check=True,
        env=BUILD_ENV,
    )
    return out


def _run(cmd: list[str]) -> str:
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, f"{cmd[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
    return done.stdout


def test_c_program_runs_code_imports_calls_and_catches(cc: str, tmp_path: Path) -> None:
    prog = _build_c(cc, "test-embed.c", tmp_path / "test-embed")
    out = _run([str(prog), str(HERE), "--installed"])
    assert "test-embed: all checks passed" in out
    # The venv's own pyffi imports inside the embedded interpreter.
    assert f"imports from the embedded Python: {embed.library_path()}" in out


def test_the_manuals_example_compiles_as_it_stands_and_runs(cc: str, tmp_path: Path) -> None:
    # docs/embedding.md includes docs/examples/embed_json.c whole: built as the page says.
    src = HERE.parent.parent / "docs" / "examples" / "embed_json.c"
    prog = tmp_path / "embed_json"
    subprocess.run(
        [
            *(cc, "-std=c99", "-Wall", "-Wextra", "-Werror", str(src), "-o", str(prog)),
            *_flags("flags", "--cflags", "--libs"),
        ],
        check=True,
        env=BUILD_ENV,
    )
    out = _run([str(prog)]).splitlines()
    assert out[0] == '[1, "h\\u00e9"]'
    assert out[1] == "ZeroDivisionError: division by zero"
    assert out[2] == "Traceback (most recent call last):"
    assert out[-1] == "ZeroDivisionError: division by zero"


def test_eight_native_threads(cc: str, tmp_path: Path) -> None:
    # With the GIL off (free-threaded Python) the threads use the handle table at once.
    prog = _build_c(cc, "test-embed-threads.c", tmp_path / "test-embed-threads")
    for _ in range(STRESS_ROUNDS * 2):
        assert "8 threads x 2000 calls, 0 wrong" in _run([str(prog)])


def test_c_program_sees_pythonpath(cc: str, tmp_path: Path) -> None:
    """PYTHONPATH is read as `python` reads it: embedmod imports without an added path."""
    src = tmp_path / "pythonpath.c"
    src.write_text(
        '#include "pyffi_embed.h"\n#include <stdio.h>\n'
        "int main(void) {\n"
        "    pyffi_obj m = 0;\n"
        '    if (pyffi_embed_import(&m, "embedmod", 8)) { puts(pyffi_error_last()); return 1; }\n'
        '    puts("imported");\n'
        "    return (int)pyffi_embed_release(m);\n"
        "}\n"
    )
    prog = tmp_path / "pythonpath"
    subprocess.run(
        [cc, str(src), "-o", str(prog), *_flags("--cflags", "--libs")], check=True, env=BUILD_ENV
    )
    done = subprocess.run(
        [str(prog)],
        check=False,
        capture_output=True,
        text=True,
        env=dict(ENV, PYTHONPATH=str(HERE)),
    )
    assert (done.returncode, done.stdout) == (0, "imported\n")
    done = subprocess.run(
        [str(prog)],
        check=False,
        capture_output=True,
        text=True,
        env={k: v for k, v in ENV.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 1
    assert "ModuleNotFoundError: No module named 'embedmod'" in done.stdout


def test_rust_program(tmp_path: Path) -> None:
    rustc = shutil.which("rustc") or shutil.which(os.path.expanduser("~/.cargo/bin/rustc"))
    if rustc is None:
        pytest.skip("rustc is not installed (neither on PATH nor in ~/.cargo/bin)")
    prog = tmp_path / "embed_rs"
    subprocess.run(
        [rustc, "-O", "-o", str(prog), str(HERE / "embed.rs"), *_flags("--rustflags")],
        check=True,
        cwd=tmp_path,
        env=BUILD_ENV,
    )
    assert "embed.rs: all checks passed" in _run([str(prog)])


# ---- the flags helper --------------------------------------------------------------


def test_flags_name_the_installed_files() -> None:
    cflags = _flags("--cflags")
    assert cflags == [f"-I{pyffi.get_include()}"]
    assert os.path.isfile(os.path.join(pyffi.get_include(), "pyffi_embed.h"))
    libs = _flags("--libs")
    assert f"-L{os.path.dirname(embed.library_path())}" in libs
    assert "-lpyffi_embed" in libs
    assert f"-lpython{sysconfig.get_config_var('LDVERSION')}" in libs
    assert os.path.isfile(embed.library_path())
    assert _flags("--cflags", "--libs") == cflags + libs


def test_unknown_flag_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyffi", "--includes"],
        check=False,
        capture_output=True,
        text=True,
        env=ENV,
        cwd="/",
    )
    assert done.returncode == 2
    assert "unknown option '--includes' (known: --cflags, --libs, --rustflags)" in done.stderr


def test_a_python_without_shared_libpython_is_told_why(monkeypatch: pytest.MonkeyPatch) -> None:
    real = sysconfig.get_config_var
    monkeypatch.setattr(
        sysconfig, "get_config_var", lambda name: 0 if name == "Py_ENABLE_SHARED" else real(name)
    )
    with pytest.raises(RuntimeError, match="built without a shared libpython"):
        embed.libs()
    with pytest.raises(RuntimeError, match="built without a shared libpython"):
        embed.rustflags()


def test_a_missing_libpython_so_is_told_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = sysconfig.get_config_var
    monkeypatch.setattr(
        sysconfig, "get_config_var", lambda name: str(tmp_path) if name == "LIBDIR" else real(name)
    )
    with pytest.raises(RuntimeError, match=r"libpython3\.\d+\S*\.so is not in .*apt-get install"):
        embed.libs()


def test_libpython_in_the_multiarch_directory_is_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Debian 11's python3.9: LIBDIR=/usr/lib, the library in /usr/lib/x86_64-linux-gnu.
    real = sysconfig.get_config_var
    fake = {"LIBDIR": str(tmp_path), "MULTIARCH": "x86_64-linux-gnu"}
    monkeypatch.setattr(sysconfig, "get_config_var", lambda name: fake.get(name, real(name)))
    version = real("LDVERSION") or real("py_version_short")
    (tmp_path / "x86_64-linux-gnu").mkdir()
    (tmp_path / "x86_64-linux-gnu" / f"libpython{version}.so").write_bytes(b"")
    assert f"-L{tmp_path / 'x86_64-linux-gnu'}" in embed.libs()


def test_flags_helper_reports_runtime_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyffi.__main__ import print_flags

    def broken() -> list[str]:
        raise RuntimeError("no libpython here")

    monkeypatch.setattr(embed, "libs", broken)
    assert print_flags(["--libs"]) == 1
    assert "python -m pyffi: no libpython here" in capsys.readouterr().err


# ---- pyffi.embed inside this Python process ---------------------------------------


def test_in_process_handles_share_this_interpreter() -> None:
    ffi, lib = embed.ffi, embed.lib
    h = ffi.new("pyffi_obj *")
    sys.modules["__main__"].__dict__["pyffi_embed_probe"] = [1, 2, 3]
    assert lib.pyffi_embed_eval(h, b"__main__", b"sum(pyffi_embed_probe)", 22) == lib.PYFFI_OK
    n = ffi.new("int64_t *")
    assert lib.pyffi_embed_to_int64(n, h[0]) == lib.PYFFI_OK
    assert n[0] == 6
    assert lib.pyffi_embed_release(h[0]) == lib.PYFFI_OK
    assert lib.pyffi_embed_release(h[0]) == lib.PYFFI_INVALID_ARGUMENT
    assert "is not a live Python object" in ffi.string(lib.pyffi_error_last()).decode()
    del sys.modules["__main__"].__dict__["pyffi_embed_probe"]


def test_in_process_exception_parts() -> None:
    ffi, lib = embed.ffi, embed.lib
    h = ffi.new("pyffi_obj *")
    assert lib.pyffi_embed_eval(h, ffi.NULL, b"{}['k']", 7) == lib.PYFFI_PYTHON
    assert ffi.string(lib.pyffi_embed_error_type()) == b"KeyError"
    assert ffi.string(lib.pyffi_embed_error_message()) == b"'k'"
    assert b"Traceback (most recent call last)" in ffi.string(lib.pyffi_embed_error_traceback())
    # The status maps to pyffi's exception class like every other status.
    assert error_class(lib.PYFFI_PYTHON) is pyffi.PythonError
    assert issubclass(pyffi.PythonError, RuntimeError)


def test_embed_module_opens_lazily_and_names_unknown_attributes() -> None:
    with pytest.raises(AttributeError, match=r"module 'pyffi\.embed' has no attribute 'nope'"):
        embed.nope


def test_a_process_that_used_pyffi_embed_exits_cleanly(run_python) -> None:  # type: ignore[no-untyped-def]
    """The library stays loaded until the interpreter's capsules are gone (the sanitizer
    run, which keeps LD_PRELOAD for the child, crashed here at exit before)."""
    done = run_python(
        "from pyffi.embed import ffi, lib\n"
        "h = ffi.new('pyffi_obj *')\n"
        "assert lib.pyffi_embed_eval(h, ffi.NULL, b'6 * 7', 5) == lib.PYFFI_OK\n"
        "assert lib.pyffi_embed_release(h[0]) == lib.PYFFI_OK\n"
        "print('done')\n"
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")
