"""Stress: every public function from 8 Python threads at once, every result checked.

The C core has no mutable globals and keeps error messages per thread; the
callbacks carry their state in a per-call handle. Each thread uses its own
operands, so a message or a callable leaking from another thread shows up
as a wrong result. The function table must cover ``pyffi.__all__``: a new
public function fails this test until it is stressed here too.
"""

from __future__ import annotations

import array
import math
import random
import threading
import time
from typing import Callable

import numpy as np
import pytest
from support import STRESS_ROUNDS, UNDER_VALGRIND

import pyffi

THREADS = 8
SECONDS = 3.0

Check = Callable[[random.Random, int], None]
CHECKS: dict[str, Check] = {}


def check(*names: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        for name in names:
            CHECKS[name] = fn
        return fn

    return register


def raises(exc_type: type[BaseException], message: str, fn, *args) -> None:
    try:
        fn(*args)
    except exc_type as exc:
        assert str(exc) == message, (str(exc), message)
    else:
        raise AssertionError(f"{fn.__name__}{args} did not raise {exc_type.__name__}")


@check("add", "OutOfRangeError", "Error")
def _add(rng: random.Random, k: int) -> None:
    a, b = rng.randrange(-1 << 30, 1 << 30), rng.randrange(-1 << 30, 1 << 30)
    assert pyffi.add(a, b) == a + b
    raises(
        pyffi.OutOfRangeError,
        f"add: 2147483647 + {k + 1} does not fit int32_t",
        pyffi.add,
        2**31 - 1,
        k + 1,
    )


@check("add_one", "add_u32", "add_isize", "add_f32", "add_f64")
def _add_one(rng: random.Random, k: int) -> None:
    x = rng.randrange(-1 << 31, (1 << 31) - 1)
    assert pyffi.add_one(x) == x + 1
    assert pyffi.add_u32(k) == k + 1
    assert pyffi.add_isize(-k) == 1 - k
    assert pyffi.add_f32(k + 0.5) == k + 1.5
    assert pyffi.add_f64(k / 4) == k / 4 + 1
    raises(
        pyffi.OutOfRangeError,
        "add_u32: 4294967295 + 1 does not fit uint32_t",
        pyffi.add_u32,
        2**32 - 1,
    )


@check("divide", "DivisionByZeroError", "get_square_root", "DomainError")
def _divide(rng: random.Random, k: int) -> None:
    assert pyffi.divide(k, 4) == k / 4
    raises(pyffi.DivisionByZeroError, "Division by zero", pyffi.divide, k, 0)
    assert pyffi.get_square_root(k * k) == k
    raises(
        pyffi.DomainError, f"get_square_root: {-k - 1} is negative", pyffi.get_square_root, -k - 1
    )


@check("reverse_bool", "get_char", "get_unicode", "InvalidArgumentError")
def _chars(rng: random.Random, k: int) -> None:
    assert pyffi.reverse_bool(k % 2 == 0) is (k % 2 == 1)
    assert pyffi.get_char(97 + k) == bytes([98 + k])
    assert pyffi.get_unicode("憨") == "批"
    assert pyffi.get_unicode(chr(0x4E00 + k)) == chr(0x4E00 + k)
    raises(
        pyffi.InvalidArgumentError,
        "get_unicode: U+D800 is a surrogate, not a character",
        pyffi.get_unicode,
        "\ud800",
    )


@check("sum_as_string", "NoMemoryError")
def _sum_as_string(rng: random.Random, k: int) -> None:
    a = rng.randrange(1 << 40)
    assert pyffi.sum_as_string(a, k) == str(a + k)
    # NoMemoryError cannot be provoked from Python safely; the C tests cover it.
    assert issubclass(pyffi.NoMemoryError, MemoryError)


@check("to_uppercase", "to_lowercase", "Utf8Error", "unicode_version")
def _text(rng: random.Random, k: int) -> None:
    assert pyffi.unicode_version() == "17.0.0"
    text = f"straße {k} ΟΔΟΣ " * rng.randrange(1, 50)
    assert pyffi.to_uppercase(text) == text.upper()
    assert pyffi.to_lowercase(text) == text.lower()
    raises(
        pyffi.Utf8Error,
        f"to_uppercase: invalid UTF-8 at byte offset {k}",
        pyffi.to_uppercase,
        b"a" * k + b"\xff",
    )


@check("sort_array", "create_array", "Vector", "process_dict")
def _arrays(rng: random.Random, k: int) -> None:
    xs = [rng.randrange(-1000, 1000) for _ in range(rng.randrange(200))]
    ys = list(xs)
    pyffi.sort_array(ys)
    assert ys == sorted(xs)
    a = array.array("d", (x / 3 for x in xs))
    pyffi.sort_array(a)
    assert list(a) == sorted(x / 3 for x in xs)
    with pyffi.create_array(k + 1, 100) as v:
        assert isinstance(v, pyffi.Vector)
        assert list(v) == list(range(k + 1, 101, k + 1))
    raises(pyffi.DivisionByZeroError, "create_array: divisor is 0", pyffi.create_array, 0, k)
    d = {f"k{k}-{i}": i for i in range(rng.randrange(1, 30))}
    assert pyffi.process_dict(d) == sorted(d.items())


@check("Point", "point_distance", "Person", "create_struct")
def _structs(rng: random.Random, k: int) -> None:
    p, q = pyffi.Point(k, 0), pyffi.Point(k + 3, 4)
    assert pyffi.point_distance(p, q) == 5.0 == p.distance(q)
    with pyffi.Person(f"thread {k}", k) as person:
        person.name = f"renamed {k}"
        assert (person.name, person.age) == (f"renamed {k}", k)
    made = pyffi.create_struct(f"made {k}", 2 * k)
    assert (made.name, made.age) == (f"made {k}", 2 * k)


@check("calc", "sort_by", "map_f64", "CallbackError")
def _callbacks(rng: random.Random, k: int) -> None:
    a = rng.randrange(-1000, 1000)
    assert pyffi.calc(a, k, lambda x, y: x * 3 + y) == a * 3 + k
    error = KeyError(k)

    def fail(x, y):
        raise error

    try:
        pyffi.calc(a, k, fail)
    except KeyError as exc:
        assert exc is error
    else:
        raise AssertionError("calc did not raise")
    xs = [rng.randrange(-100, 100) for _ in range(rng.randrange(60))]
    ys = list(xs)
    pyffi.sort_by(ys, lambda x, y: y - x)
    assert ys == sorted(xs, reverse=True)
    assert pyffi.map_f64(lambda x: x + k, [1.0, 2.0]) == [1.0 + k, 2.0 + k]
    assert issubclass(pyffi.CallbackError, pyffi.Error)


DATA = np.random.default_rng(5).uniform(-5, 5, 100_000)
EXPECTED = math.fsum(math.tan(math.cos(math.sin(x))) for x in DATA)


@check("compute_heavy")
def _compute(rng: random.Random, k: int) -> None:
    calls: list[int] = []
    got = pyffi.compute_heavy(DATA, threads=1 + k % 3, progress=lambda d, t: calls.append(d))
    assert got == pytest.approx(EXPECTED, rel=1e-9)
    assert calls and calls[-1] == len(DATA) and calls == sorted(calls)


@check("load", "Library", "Record", "DeclarationError", "Callback", "CompileError")
def _load(rng: random.Random, k: int) -> None:
    for mode in ("abi", "api"):  # api: every thread imports the one extension built
        lib = pyffi.load(
            "m", cdef="double ldexp(double x, int e); double cos(double x);", mode=mode
        )
        assert isinstance(lib, pyffi.Library) and lib.mode == mode
        assert lib.ldexp(1.0, k) == 2.0**k
        assert lib.cos(0.0) == 1.0
    try:  # int32_t is pyffi.h's (stdint.h) too: the compiler refuses the redefinition
        pyffi.load("m", cdef="typedef char int32_t;", mode="api")
    except pyffi.CompileError as exc:
        assert "the C compiler failed" in str(exc) and "int32_t" in str(exc), str(exc)
    else:
        raise AssertionError("load(mode='api') of a bad typedef did not raise")
    bad = "\n" * k + "int g(nope_t x);"
    why = pyffi.load("m", cdef=bad).skipped["g"]
    assert why.startswith("cannot be declared (") and why.endswith(
        f"<cdef>:{k + 1}: int g(nope_t x);"
    ), why
    raises(
        pyffi.DeclarationError,
        f"strict=True: 1 declaration(s) skipped; the first, 'g', {why}",
        lambda: pyffi.load("m", cdef=bad, strict=True),
    )
    cb = lib.callback(lambda x: x * k, "double (*)(double)")
    assert isinstance(cb, pyffi.Callback) and cb.cdata(2.0) == 2.0 * k
    assert pyffi.Record("r", a=k) == pyffi.Record("r", a=k)


@check("csv", "parse_csv_fast", "CsvError")
def _csv(rng: random.Random, k: int) -> None:
    rows = [[f"t{k}", f'say "{i}"', f"a,b{i}"] for i in range(rng.randrange(1, 40))]
    data = "".join(
        ",".join('"' + f.replace('"', '""') + '"' for f in row) + "\r\n" for row in rows
    ).encode()
    assert pyffi.csv.read(data) == rows
    assert list(pyffi.csv.iter_rows(data, chunk_size=7 + k)) == rows
    raises(
        pyffi.CsvError,
        f"csv: line {k + 2}, column 4: 'x' after a closing quote (a "
        "delimiter or a line break was expected)",
        pyffi.csv.read,
        b"a\n" * (k + 1) + b'"b"x',
    )
    assert callable(pyffi.parse_csv_fast)
    cols = pyffi.csv.read_columns(f"a,b\n{k},{k}.5\n".encode())
    assert cols["a"] == [k] and cols["b"].tolist() == [k + 0.5]


@check("embed", "PythonError")
def _embed(rng: random.Random, k: int) -> None:
    ffi, lib = pyffi.embed.ffi, pyffi.embed.lib
    h, n = ffi.new("pyffi_obj *"), ffi.new("int64_t *")
    src = f"{k} * 3".encode()
    assert lib.pyffi_embed_eval(h, ffi.NULL, src, len(src)) == lib.PYFFI_OK
    assert lib.pyffi_embed_to_int64(n, h[0]) == lib.PYFFI_OK and n[0] == 3 * k
    assert lib.pyffi_embed_release(h[0]) == lib.PYFFI_OK
    # Each thread's exception detail is its own.
    src = f"int('thread {k}')".encode()
    assert lib.pyffi_embed_eval(h, ffi.NULL, src, len(src)) == pyffi.PythonError.status
    assert ffi.string(lib.pyffi_embed_error_message()).decode().endswith(f"'thread {k}'")


@check("get_include", "backend", "__version__")
def _package(rng: random.Random, k: int) -> None:
    assert pyffi.get_include().endswith("include")
    assert pyffi.backend in ("api", "abi")
    assert pyffi.__version__


def test_the_table_covers_the_public_api():
    assert set(CHECKS) == set(pyffi.__all__)


@pytest.mark.skipif(UNDER_VALGRIND, reason="8 threads for seconds is hours under valgrind")
@pytest.mark.parametrize("round_", range(STRESS_ROUNDS))
def test_every_public_function_from_8_threads_at_once(round_: int) -> None:
    barrier = threading.Barrier(THREADS)
    deadline = time.monotonic() + SECONDS
    failures: list[str] = []
    rounds = [0] * THREADS
    checks = sorted(set(CHECKS.values()), key=lambda f: f.__name__)

    def run(k: int) -> None:
        rng = random.Random(k)
        barrier.wait()
        while time.monotonic() < deadline and not failures:
            for fn in rng.sample(checks, len(checks)):
                try:
                    fn(rng, k)
                except Exception as exc:
                    failures.append(f"thread {k}, {fn.__name__}: {type(exc).__name__}: {exc}")
                    return
            rounds[k] += 1

    threads = [threading.Thread(target=run, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert min(rounds) >= 1, rounds  # every thread ran every check at least once
