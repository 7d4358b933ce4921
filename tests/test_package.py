"""The package itself: installed (not the checkout), backend choice, version, typing, docs."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import FREE_THREADED, SAFE_PATH

import pyffi


def test_tests_run_against_the_installed_package(checkout: Path) -> None:
    """pyffi comes from an installation (a venv's site-packages), never the source tree.

    The venv may itself sit inside the checkout (.venv); what matters is that the
    package is the installed copy, found through site-packages, not ./pyffi.
    """
    installed = Path(pyffi.__file__).resolve().parent
    assert installed != checkout / "pyffi", f"pyffi imported from the source tree: {installed}"
    assert "site-packages" in installed.parts, installed
    # Only an installation holds the built pieces.
    assert (installed / "libpyffi.so").is_file() and (installed / "_cdef.h").is_file()
    assert list(installed.glob("_pyffi*.so"))


def test_backend_is_the_requested_one() -> None:
    assert pyffi.backend == (os.environ.get("PYFFI_BACKEND") or "api")


@pytest.mark.parametrize("backend", ["api", "abi"])
def test_each_backend_imports(run_python, backend: str) -> None:
    done = run_python(
        "import pyffi; print(pyffi.backend, pyffi.add(11, 22))", env={"PYFFI_BACKEND": backend}
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [backend, "33"]


def test_unknown_backend_is_an_import_error_naming_the_accepted_values(run_python) -> None:
    # The backend is the chapters' setting: the first chapter name used raises.
    done = run_python("import pyffi; pyffi.add(1, 2)", env={"PYFFI_BACKEND": "jit"})
    assert done.returncode != 0
    assert (
        "ImportError: PYFFI_BACKEND='jit' is not a pyffi backend; accepted values: 'api', 'abi'"
        in done.stderr
    )


CHAPTER_MODULES = """
import sys
loaded = sorted(m for m in sys.modules if m.startswith(("pyffi._chapters", "pyffi._pyffi",
                                                         "pyffi.abi", "pyffi._rows")))
print(loaded)
"""


def test_import_loads_no_chapter_library(run_python) -> None:
    done = run_python("import pyffi, pyffi.embed; pyffi.Error; pyffi.load" + CHAPTER_MODULES)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    done = run_python("import pyffi; pyffi.add(1, 2)" + CHAPTER_MODULES)
    assert "'pyffi._chapters.backend'" in done.stdout, done.stderr


def test_the_loader_does_not_need_the_chapters_backend(run_python) -> None:
    # A chapters setting never breaks a tool that has nothing to do with it.
    done = run_python(
        "import zlib, pyffi\n"
        "assert pyffi.load('z', '/usr/include/zlib.h').crc32(0, b'abc', 3) == zlib.crc32(b'abc')\n"
        "try:\n"
        "    pyffi.add(1, 2)\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)",
        env={"PYFFI_BACKEND": "bogus"},
    )
    assert done.returncode == 0, done.stderr
    assert "accepted values: 'api', 'abi'" in done.stdout


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'pyffi' has no attribute 'nothing_here'"):
        pyffi.nothing_here
    assert set(pyffi.__all__) <= set(dir(pyffi))


def test_version_matches_the_c_library_and_header() -> None:
    from pyffi._chapters.backend import ffi, lib

    assert ffi.string(lib.pyffi_version_string()).decode() == pyffi.__version__
    header = f"{lib.PYFFI_VERSION_MAJOR}.{lib.PYFFI_VERSION_MINOR}.{lib.PYFFI_VERSION_PATCH}"
    assert header == pyffi.__version__


def test_abi_module_is_usable_whatever_the_backend() -> None:
    from pyffi import abi

    result = abi.lib.pyffi_scalar_add(11, 22)
    assert result.status == abi.lib.PYFFI_OK
    assert result.value == 33
    assert Path(abi.library_path).name == "libpyffi.so"
    assert Path(abi.library_path).parent == Path(pyffi.__file__).resolve().parent


def test_get_include_holds_the_header() -> None:
    header = Path(pyffi.get_include()) / "pyffi.h"
    assert header.is_file()
    assert "pyffi_scalar_add" in header.read_text(encoding="utf-8")


def test_ships_py_typed() -> None:
    assert (Path(pyffi.__file__).parent / "py.typed").is_file()


def _public_callables() -> list[tuple[str, object]]:
    return [
        (name, getattr(pyffi, name))
        for name in pyffi.__all__
        if callable(getattr(pyffi, name)) and not isinstance(getattr(pyffi, name), type)
    ]


@pytest.mark.parametrize("name,func", _public_callables())
def test_public_functions_have_type_hints_and_an_example(name: str, func: object) -> None:
    doc = inspect.getdoc(func)
    assert doc and ">>> " in doc, f"{name} has no docstring example"
    hints = inspect.signature(func).return_annotation  # type: ignore[arg-type]
    assert hints is not inspect.Signature.empty, f"{name} has no return annotation"
    for param in inspect.signature(func).parameters.values():  # type: ignore[arg-type]
        assert param.annotation is not inspect.Parameter.empty, f"{name}({param.name}) untyped"


@pytest.mark.parametrize("name", [n for n in pyffi.__all__ if isinstance(getattr(pyffi, n), type)])
def test_public_classes_have_docstrings(name: str) -> None:
    assert inspect.getdoc(getattr(pyffi, name))


def test_python_dash_m_pyffi_prints_the_tour_for_both_backends(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, *SAFE_PATH, "-m", "pyffi"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    for backend in ("api", "abi"):
        assert f"backend: {backend} ==" in done.stdout

    def shown(expr: str, result: str) -> int:  # lines "  <expr> <padding> ->  <result>"
        return len(
            re.findall(
                rf"^  {re.escape(expr)} +->  {re.escape(result)}$", done.stdout, re.MULTILINE
            )
        )

    assert shown("pyffi.add(11, 22)", "33") == 2
    assert done.stdout.count("DivisionByZeroError: Division by zero") == 2
    assert shown("pyffi.get_unicode('憨')", "'批'") == 2
    assert shown("pyffi.to_uppercase('hello 古明地覺 straße')", "'HELLO 古明地覺 STRASSE'") == 2
    assert shown("pyffi.create_array(0)", "DivisionByZeroError: create_array: divisor is 0") == 2


def _cli(*words: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *SAFE_PATH, "-m", "pyffi", *words],
        check=False,
        capture_output=True,
        text=True,
        cwd="/",
        timeout=120,
    )


def test_the_command_line_lists_its_words() -> None:
    done = _cli("--help")
    assert done.returncode == 0, done.stderr
    assert "{tour,flags,stubs}" in done.stdout
    for word in ("tour", "flags", "stubs"):
        sub = _cli(word, "--help")
        assert sub.returncode == 0, sub.stderr
        assert f"python -m pyffi {word}" in sub.stdout


def test_an_unknown_word_is_an_error_naming_the_choices() -> None:
    done = _cli("tuor")
    assert done.returncode == 2
    # argparse quotes the choices on some Pythons (3.9-3.13.0), not on others (3.13.5)
    said = done.stderr.replace("'", "")
    assert "invalid choice: tuor (choose from tour, flags, stubs)" in said, done.stderr


def test_flags_is_the_older_spelling_too() -> None:
    new, old = _cli("flags", "--cflags", "--libs"), _cli("--cflags", "--libs")
    assert new.returncode == old.returncode == 0, new.stderr + old.stderr
    assert new.stdout == old.stdout
    assert new.stdout.split()[0] == f"-I{pyffi.get_include()}"
    empty = _cli("flags")
    assert empty.returncode == 2
    assert "give at least one of --cflags, --libs, --rustflags" in empty.stderr


def test_tour_here_runs_this_interpreters_backend() -> None:
    done = _cli("tour", "--here")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("backend:") == 1


def test_pyproject_lists_the_python_running_this(checkout: Path) -> None:
    # requires-python and the classifiers say what CI tests: every Python it runs the suite
    # on is listed there (a new one fails here until it is), and nothing older is allowed.
    text = (checkout / "pyproject.toml").read_text(encoding="utf-8")
    listed = set(re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text))
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" in listed
    assert sorted(listed, key=lambda v: int(v.split(".")[1]))[0] == "3.9"
    assert 'requires-python = ">=3.9"' in text
    if FREE_THREADED:
        assert '"Programming Language :: Python :: Free Threading :: 3 - Stable"' in text
