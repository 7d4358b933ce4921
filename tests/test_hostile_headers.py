"""Headers that would hang the loader: macros whose expansion doubles at each level,
and hundreds of thousands of prototypes. Each load runs in a child interpreter with a
timeout: a hang is a failed test, never a stuck test run. The constants are compared
with what a gcc-compiled program prints for the same header.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BUILD_ENV
from conftest import _run_python as run_python

CC = shutil.which(os.environ.get("CC", "cc"))
needs_cc = pytest.mark.skipif(CC is None, reason="needs a C compiler")


def _child(code: str, cache: Path, timeout: float) -> dict:  # type: ignore[type-arg]
    """Run ``code`` in a fresh interpreter; its last output line is JSON."""
    try:
        done = run_python(code, env={"PYFFI_CACHE_DIR": str(cache)}, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the load did not finish in {timeout} s")
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return result


def _doubling_header() -> str:
    lines = ["#define A0 1"]
    # parenthesized: 2**N tokens for the preprocessor, N steps for the evaluator
    lines += [f"#define A{i} (A{i - 1} + A{i - 1})" for i in range(1, 31)]
    # unparenthesized: no value can stand for a level (A*3 is not (A)*3): bounded
    lines += ["#define B0 1"] + [f"#define B{i} B{i - 1} + B{i - 1}" for i in range(1, 41)]
    lines += ["#define TWICE(x) ((x) + (x))"]
    nested = "1"
    for _ in range(24):
        nested = f"TWICE({nested})"
    lines += [f"#define C24 {nested}", "#define C12 " + "TWICE(" * 12 + "3" + ")" * 12]
    lines += ["#define MIXED (A10 * 3 + B5 * 2)", "int hostile_f(int);"]
    return "\n".join(lines) + "\n"


def _gcc_values(tmp_path: Path, header: Path, names: list[str]) -> dict[str, int]:
    src = tmp_path / "values.c"
    body = "".join(f'    printf("%s %lld\\n", "{n}", (long long)({n}));\n' for n in names)
    src.write_text(f'#include <stdio.h>\n#include "{header}"\nint main(void) {{\n{body}}}\n')
    exe = tmp_path / "values"
    subprocess.run([CC, str(src), "-o", str(exe)], check=True, env=BUILD_ENV)  # type: ignore[list-item]
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}


@needs_cc
@pytest.mark.parametrize("mode", ["abi", "api"])
def test_doubling_macros_are_evaluated_once(tmp_path: Path, mode: str) -> None:
    header = tmp_path / "doubling.h"
    header.write_text(_doubling_header())
    code = f"""
import json, time, pyffi
t = time.perf_counter()
lib = pyffi.load("c", {str(header)!r}, mode={mode!r})
took = time.perf_counter() - t
names = ["A10", "A16", "A30", "B5", "B15", "C12", "C24", "MIXED"]
print(json.dumps({{"took": took, "constants": {{n: lib.constants.get(n) for n in names}},
                  "skipped": {{n: lib.skipped.get(n) for n in ["B17", "B40", "A30"]}}}}))
"""
    got = _child(code, tmp_path / "cache", timeout=120)
    consts = got["constants"]
    # what gcc computes, for the macros a compiler can still expand
    light = ["A10", "A16", "B5", "B15", "C12", "MIXED"]
    assert {n: consts[n] for n in light} == _gcc_values(tmp_path, header, light)
    # the ones past any preprocessor's patience, by C's rules
    assert consts["A30"] == 2**30
    assert consts["C24"] == 2**24
    # a macro that stays too costly is skipped with the reason, never a hang
    for name in ("B17", "B40"):
        assert got["skipped"][name] is not None
        assert "takes more than 200000 tokens" in got["skipped"][name]
    assert got["skipped"]["A30"] is None


def _prototypes(n: int, shapes: int = 10_000) -> str:
    """``n`` prototypes of ``shapes`` shapes (100 or 10,000) over 100 typedefs, and one
    cffi refuses."""
    lines = [f"typedef struct h{j} h{j}_t;" for j in range(100)]
    for i in range(n):
        j, k = i % 100, (i // 100) % (shapes // 100)
        lines.append(f"h{j}_t *proto{i}(int count, const char *name, h{k}_t *p, ...);")
    lines.append("int refused(undeclared_t x);")
    return "\n".join(lines) + "\n"


LOAD_TIMED = """
import json, os, random, cffi, pyffi

def cpu():  # this process's and its children's (the preprocessor's) CPU seconds
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system

# CPU time, not the wall clock: what the load costs, whatever else the machine runs
# (the test suite's other workers among them)
t = cpu()
lib = pyffi.load("c", {header!r})
took = cpu() - t
names = lib.functions()
# each sampled function has the type cffi gives its declaration alone
ffi = cffi.FFI()
ffi.cdef("".join(f"typedef struct h{{j}} h{{j}}_t;" for j in range(100)))
wrong = []
for name in random.Random(5).sample([n for n in names if n.startswith("proto")], 300):
    i = int(name[5:])
    j, k = i % 100, (i // 100) % ({shapes} // 100)
    ffi.cdef(f"h{{j}}_t *{{name}}(int a, const char *name, h{{k}}_t *p, ...);")
    expect = ffi._parser._declarations[f"function {{name}}"][0].get_c_name()
    if lib._type_of(name).get_c_name() != expect:
        wrong.append(name)
print(json.dumps({{"took": took, "functions": len(names), "wrong": wrong,
                  "refused": lib.skipped.get("refused", "")}}))
"""


@needs_cc
def _timed_load(tmp_path: Path, n: int, shapes: int) -> float:
    header = tmp_path / f"protos{n}-{shapes}.h"
    header.write_text(_prototypes(n, shapes))
    code = LOAD_TIMED.format(header=str(header), shapes=shapes)
    got = _child(code, tmp_path / f"cache{n}-{shapes}", timeout=120)
    assert got["functions"] == n
    assert got["wrong"] == []
    assert got["refused"].startswith("cannot be declared"), got["refused"]
    took: float = got["took"]
    return took


def test_load_of_many_prototypes_finishes(tmp_path: Path) -> None:
    # Quadratic, 200,000 prototypes ran past 300 s; the child's timeout (120 s) fails the
    # test if that comes back. How long it takes is a benchmark's business, not a test's:
    # benchmarks/README.md has the figures (about 6 CPU s on 3.11).
    _timed_load(tmp_path, 100_000, 10_000)
    _timed_load(tmp_path, 200_000, 100)


SYSTEM_HEADERS = [
    "stdio.h",
    "stdlib.h",
    "string.h",
    "math.h",
    "time.h",
    "signal.h",
    "pthread.h",
    "unistd.h",
    "wchar.h",
    "locale.h",
    "zlib.h",
    "sqlite3.h",
    "png.h",
]


@needs_cc
@pytest.mark.parametrize("name", SYSTEM_HEADERS)
def test_the_prototype_shortcuts_agree_with_the_full_parse(name: str) -> None:
    """Plain prototypes are classified by regular expressions and declared from the
    types of their parts; on real headers (every unit taken as the library's own) that
    gives the units, names, skips and function types cffi's parser gives unit by unit."""
    from pyffi._core.paths import get_include
    from pyffi._core.slices import SLICE_CDEF
    from pyffi._loader import _cffi_private, _units, _validate
    from pyffi._loader._toolchain import compiler, preprocess

    found = [Path(d) / name for d in ("/usr/include", "/usr/include/x86_64-linux-gnu")]
    header = next((p for p in found if p.is_file()), None)
    if header is None:
        pytest.skip(f"{name} is not installed")
    source = preprocess(header, (), None, cc=compiler() or "cc", include=get_include())
    chunks = [(text, file, where, True, *rest) for text, file, where, _own, *rest in source.chunks]
    fast = _units.split_units(chunks)
    slow = [
        u
        for text, file, where, own, *_rest in chunks
        for u in _split_without_shortcut(_units, text, file, where, own)
    ]
    assert [(u.kind, u.names, u.uses) for u in fast] == [(u.kind, u.names, u.uses) for u in slow]
    assert any(u.plain for u in fast)  # the shortcut was taken
    assert sum(u.kind == "function" for u in fast) > 5
    d1, probe1, _ = _validate.validate(fast, SLICE_CDEF, shortcut=True)
    d2, probe2, _ = _validate.validate(fast, SLICE_CDEF, shortcut=False)
    assert d1.units == d2.units
    assert d1.functions == d2.functions
    assert d1.skipped == d2.skipped
    t1, t2 = _cffi_private.declarations(probe1), _cffi_private.declarations(probe2)
    for f in d1.functions:
        assert t1[f"function {f}"][0].get_c_name() == t2[f"function {f}"][0].get_c_name(), f


def _split_without_shortcut(units_module, text, file, where, own):  # type: ignore[no-untyped-def]
    """split_units with classify's plain-prototype shortcut off."""
    original = units_module.classify

    def slow(*args):  # type: ignore[no-untyped-def]
        return original(*args, plain=False)

    units_module.classify = slow
    try:
        return units_module.split_units([(text, file, where, own)])
    finally:
        units_module.classify = original


# Declarations cffi's parser reads but cannot build, or cannot read at all: each is
# in skipped with the reason (with what uses it), the rest of the header loads.
UNREPRESENTABLE = {
    "an enum wider than long": (
        "enum big { HUGE = 0x1ffffffffffffffff };\nint takes_big(enum big e);\n",
        {"enum big": "don't all fit", "HUGE": "don't all fit", "takes_big": "uses enum big"},
    ),
    "a bit-field wider than its type": (
        "struct wide { int a : 70; };\nint wide_value(struct wide w);\n"
        "int wide_ptr(struct wide *w);\n",
        {"struct wide": "int:70", "wide_value": "uses struct wide", "wide_ptr": "uses struct"},
    ),
    "a function declared inside a struct": (
        "struct methods { int a; int get(int); };\nint use_methods(struct methods *m);\n",
        {"struct methods": "function type", "use_methods": "uses struct methods"},
    ),
    "a struct missing its closing brace": (
        "int before(int);\nstruct open { int a;\nint after(int);\n",
        {"struct open": "parse error"},
    ),
    "a typedef missing its closing brace": (  # pycparser 2 and 3 word the error apart
        "int before(int);\ntypedef struct { int a; T;\n",
        {"<": "cannot be declared ("},
    ),
    "a brace closing nothing": ("int before(int);\n};\nint after(int);\n", {}),
    "a packed struct with a field named twice": (  # found by the declarations fuzzer
        "int before(int);\nstruct __attribute__((packed)) twice { char c; long l; char c; };\n",
        {"struct twice": "duplicate field name 'c'"},
    ),
    "an enumerator with unbalanced parentheses": (  # found by the declarations fuzzer
        "int before(int);\nenum e { A = (1, B };\n",
        {"enum e": "cannot be declared ("},
    ),
}


@pytest.mark.parametrize("case", list(UNREPRESENTABLE))
@pytest.mark.parametrize("mode", ["abi", "api"])
def test_declarations_cffi_cannot_represent_are_skipped(
    tmp_path: Path, case: str, mode: str
) -> None:
    import pyffi

    text, expected = UNREPRESENTABLE[case]
    header = tmp_path / "h.h"
    header.write_text("int fine(int);\n" + text)
    loads = {"cdef": lambda: pyffi.load("c", cdef="int fine(int);\n" + text, mode=mode)}
    if CC is not None:
        loads["header"] = lambda: pyffi.load("c", header, mode=mode)
    for how, load in loads.items():
        if mode == "api" and case != "an enum wider than long":
            # not C a compiler takes: the extension does not compile, and says why
            with pytest.raises(pyffi.CompileError, match="the C compiler failed"):
                load()
            continue
        lib = load()
        for name, why in expected.items():
            found = [r for n, r in lib.skipped.items() if n.startswith(name)]
            assert found and why in found[0], (how, name, dict(lib.skipped))
            if not name.startswith(("struct ", "enum ", "<")) and name != "HUGE":
                with pytest.raises(AttributeError, match="cannot be declared"):
                    getattr(lib, name)
        # the rest of the header is there: nothing else lost
        declared = {*lib.functions(), *lib.skipped}
        assert "fine" in lib.functions()
        assert "before" not in text or "before" in declared, (how, dict(lib.skipped))
        if case == "a brace closing nothing":
            assert "after" in lib.functions()


def test_a_function_declared_twice_with_different_types_is_skipped() -> None:
    import pyffi

    text = "typedef int array_t[4];\nvoid fill(array_t out);\nvoid fill(int out);\nint same(int);\n"
    for shortcut_first in ("", "int same(int x);\n"):  # the same type twice is fine
        lib = pyffi.load("c", cdef=text + shortcut_first)
        assert lib.skipped["fill"].startswith(
            "cannot be declared (declared twice with different types, void(*)(int *) and "
            "void(*)(int))"
        )
        assert "same" in lib.functions()
