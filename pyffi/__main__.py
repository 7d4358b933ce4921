"""``python -m pyffi``: the command line (``python -m pyffi --help`` lists it).

``tour`` (the default)
    every example of the chapters with its result or its exception, through
    both backends (the backend is fixed when pyffi is imported, so each runs in
    a child interpreter with ``PYFFI_BACKEND`` set; ``--here`` runs this one's);
``flags --cflags --libs`` / ``flags --rustflags``
    what a C or Rust program needs to build against the embedding library
    (``pyffi_embed.h``) and this Python::

        cc prog.c $(python -m pyffi flags --cflags --libs)
        rustc prog.rs $(python -m pyffi flags --rustflags)

    (``python -m pyffi --cflags --libs``, the older spelling, does the same);
``stubs LIBRARY HEADER -o NAME.pyi``
    type stubs for ``pyffi.load(LIBRARY, HEADER)`` (see ``pyffi._loader._stubs``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

# (expression, shown as written) evaluated with `pyffi` in scope.
TOUR = [
    "pyffi.add(11, 22)",
    "pyffi.add(2**31 - 1, 1)",
    "pyffi.add_one(41)",
    "pyffi.get_square_root(100)",
    "pyffi.get_square_root(-4)",
    "pyffi.add_u32(123)",
    "pyffi.add_u32(-1)",
    "pyffi.add_isize(2**63 - 2)",
    "pyffi.add_f32(3.14)",
    "pyffi.add_f64(3.14)",
    "pyffi.add_f32(1e39)",
    "pyffi.reverse_bool(True)",
    "pyffi.get_char(97)",
    "pyffi.get_char(b'a')",
    "pyffi.get_char(255)",
    "pyffi.get_unicode('憨')",
    "pyffi.get_unicode('嘿')",
    "pyffi.get_unicode('\\ud800')",
    "pyffi.sum_as_string(5, 3)",
    "pyffi.sum_as_string(2**64 - 1, 1)",
    "pyffi.divide(7, 2)",
    "pyffi.divide(1, 0)",
    "pyffi.add('1', 2)",
    "pyffi.to_uppercase('hello 古明地覺 straße')",
    "pyffi.to_lowercase('ΟΔΟΣ ΣΑΣ')",
    "pyffi.to_uppercase('straße'.encode())",
    "pyffi.to_uppercase(b'ab\\xff')",
    "pyffi.create_array()",
    "pyffi.create_array(0)",
    "memoryview(pyffi.create_array(4, 12)).tolist()",
    "pyffi.sort_array(a := array.array('d', [2.5, float('nan'), -1.0])) or a",
    "pyffi.sort_array(b'read-only')",
    "pyffi.process_dict({'b': 2, 'a': 1, 'é': 3})",
    "pyffi.Point(0, 0).distance(pyffi.Point(3, 4))",
    "pyffi.create_struct('Bob', 42)",
    "pyffi.calc(10, 2, lambda a, b: a // b)",
    "pyffi.calc(10, 2, lambda a, b: a / b)",
    "pyffi.calc(1, 2, lambda a, b: {}['missing'])",
    "pyffi.sort_by(xs := [3, 1, 2], lambda a, b: b - a) or xs",
    "pyffi.map_f64(lambda x: x * x, [1.0, 2.0, 3.0])",
    "pyffi.compute_heavy(array.array('d', [0.0, 1.0]), threads=2)",
    "pyffi.compute_heavy([1.0], threads=0)",
    "pyffi.load('m', cdef='double cos(double x);').cos(0.0)",
    'pyffi.csv.read(b\'name,note\\r\\n"Smith, J","said ""hi"""\\n\')',
    "pyffi.csv.read(b'a,\"b\"c\\n')",
]


def tour() -> None:
    """Print every TOUR expression with its result (or the exception it raises)."""
    import array

    import pyffi

    print(f"== pyffi {pyffi.__version__}, backend: {pyffi.backend} ==")
    width = max(len(expr) for expr in TOUR)
    for expr in TOUR:
        try:
            shown = repr(eval(expr, {"pyffi": pyffi, "array": array}))
        except Exception as exc:  # the tour shows errors too
            shown = f"{type(exc).__name__}: {exc}"
        print(f"  {expr:<{width}}  ->  {shown}")


def _python_without_cwd() -> list[str]:
    """``python -m pyffi`` that imports the installed pyffi, even from a source checkout.

    -P (3.11+) keeps the working directory off sys.path; older Pythons drop it by hand.
    """
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", "pyffi"]
    return [
        sys.executable,
        "-c",
        "import runpy, sys; del sys.path[0]; runpy.run_module('pyffi', run_name='__main__')",
    ]


FLAGS = ("--cflags", "--libs", "--rustflags")


def print_flags(options: list[str]) -> int:
    """Print the build flags ``options`` ask for, on one line; 2 for an unknown option."""
    from . import embed

    unknown = [o for o in options if o not in FLAGS]
    if unknown:
        print(
            f"python -m pyffi: unknown option {unknown[0]!r} (known: {', '.join(FLAGS)})",
            file=sys.stderr,
        )
        return 2
    words: list[str] = []
    try:
        for option in options:
            words += {
                "--cflags": embed.cflags,
                "--libs": embed.libs,
                "--rustflags": embed.rustflags,
            }[option]()
    except RuntimeError as exc:
        print(f"python -m pyffi: {exc}", file=sys.stderr)
        return 1
    print(" ".join(words))
    return 0


def _stubs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("library", help="the shared library: a path or a name (z, sqlite3)")
    parser.add_argument("header", help="its C header")
    parser.add_argument("-o", "--output", required=True, help="the .pyi file to write")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR")
    parser.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]")
    parser.add_argument("--owned", action="append", default=[], metavar="FUNCTION=FREE")
    parser.add_argument(
        "--mode",
        choices=["abi", "api"],
        default="abi",
        help='the load mode: "api" adds the static inline functions and macros it compiles',
    )


def stubs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``python -m pyffi stubs LIBRARY HEADER [options] -o OUT.pyi``."""
    from ._core.errors import CompileError
    from ._loader import load
    from ._loader._stubs import stub_text

    defines = dict(d.split("=", 1) if "=" in d else (d, "1") for d in args.defines)
    owned = {}
    for item in args.owned:
        if "=" not in item:
            parser.error(f"--owned {item!r}: expected FUNCTION=FREE")
        fn, free = item.split("=", 1)
        owned[fn] = free
    try:
        lib = load(
            args.library,
            args.header,
            include_dirs=args.include_dirs,
            defines=defines or None,
            owned=owned or None,
            mode=args.mode,
        )
    except (OSError, ValueError, CompileError) as exc:
        print(f"python -m pyffi stubs: {exc}", file=sys.stderr)
        return 1
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(stub_text(lib, args.header))
    print(
        f"{args.output}: {len(lib.functions()) - len(lib.missing())} functions, "
        f"{len(lib.constants)} constants"
    )
    return 0


def both_tours() -> int:
    """The tour through each backend, each in a child interpreter."""
    status = 0
    for backend in ("api", "abi"):
        env = dict(os.environ, PYFFI_BACKEND=backend)
        sys.stdout.flush()
        status |= subprocess.call([*_python_without_cwd(), "tour", "--here"], env=env)
        print()
    return status


def parser() -> argparse.ArgumentParser:
    """The command line: ``tour``, ``flags``, ``stubs``."""
    top = argparse.ArgumentParser(
        prog="python -m pyffi",
        description="pyffi's command line: the tour, build flags for embedding, type stubs.",
    )
    words = top.add_subparsers(dest="command", metavar="{tour,flags,stubs}")
    tour_p = words.add_parser("tour", help="every chapter example through both backends")
    tour_p.add_argument(
        "--here", action="store_true", help="only this interpreter's backend (PYFFI_BACKEND)"
    )
    flags_p = words.add_parser(
        "flags", help="compiler and linker flags for a C or Rust program embedding Python"
    )
    for flag, what in (
        ("--cflags", "the include directory of pyffi_embed.h"),
        ("--libs", "libpyffi_embed and this Python's libpython"),
        ("--rustflags", "the same for rustc"),
    ):
        flags_p.add_argument(flag, dest="flags", action="append_const", const=flag, help=what)
    stubs_p = words.add_parser("stubs", help="type stubs (.pyi) for pyffi.load(LIBRARY, HEADER)")
    _stubs_arguments(stubs_p)
    return top


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words[:1] == ["--one"]:  # the older spelling of "tour --here"
        words = ["tour", "--here"]
    if words and words[0].startswith("--") and words[0] not in ("--help",):
        return print_flags(words)  # the older spelling: python -m pyffi --cflags --libs
    top = parser()
    args = top.parse_args(words or ["tour"])
    if args.command == "tour":
        if args.here:
            tour()
            return 0
        return both_tours()
    if args.command == "flags":
        if not args.flags:
            top.error("flags: give at least one of --cflags, --libs, --rustflags")
        return print_flags(args.flags)
    return stubs(args, top)


if __name__ == "__main__":
    sys.exit(main())
