"""Declarations from a library's headers: what cffi is given, what is skipped and why.

One run of the preprocessor (``cc -E -dD``) gives the declarations and the
``#define`` lines, each under a line marker naming its file. A file is the
library's own unless it is a system header (libc's, the compiler's: the
files a probe of the standard headers reaches); everything the library's
own declarations use from system headers (``size_t``, ``FILE``,
``va_list``, ``time_t``, ``struct tm``...) comes along as a closure, as the
real type where cffi can read it and as an opaque type otherwise.

The declarations are split into *units* (one top-level declaration each)
with the names each defines and the units each depends on, so a Library
can declare only what is used (see ``_library``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cffi
from cffi import commontypes, model

from .._core.errors import DeclarationError

_MARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"((?:\s+\d+)*)\s*$')
_DEFINE = re.compile(r"^#\s*define\s+([A-Za-z_]\w*)(\([^)]*\))?\s?(.*)$")
_UNDEF = re.compile(r"^#\s*undef\s+([A-Za-z_]\w*)")
TOKEN = re.compile(
    r"""(?P<id>[A-Za-z_]\w*)|(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)|(?P<str>L?"(?:[^"\\\n]|\\.)*")"""
    r"""|(?P<chr>L?'(?:[^'\\\n]|\\.)*')|(?P<op>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|"""
    r"""\|\||##|[-+*/%&|^~!<>=?:;,.(){}\[\]#])|(?P<ws>\s+)|(?P<other>.)""",
    re.S,
)
C_KEYWORDS = frozenset(
    [
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "_Bool",
        "_Complex",
        "_Noreturn",
        "_Static_assert",
        "_Thread_local",
        "_Atomic",
        "_Alignas",
        "_Alignof",
        "bool",
    ]
)
# Types cffi knows without a declaration.
KNOWN_TYPES = frozenset(commontypes.COMMON_TYPES) | frozenset(
    model.PrimitiveType.ALL_PRIMITIVE_TYPES
)
# The headers whose files are "system": libc's and POSIX's. Each is included
# only if the compiler has it (__has_include).
_SYSTEM_PROBE = [
    "assert.h",
    "complex.h",
    "ctype.h",
    "errno.h",
    "fenv.h",
    "float.h",
    "inttypes.h",
    "iso646.h",
    "limits.h",
    "locale.h",
    "math.h",
    "setjmp.h",
    "signal.h",
    "stdalign.h",
    "stdarg.h",
    "stdatomic.h",
    "stdbool.h",
    "stddef.h",
    "stdint.h",
    "stdio.h",
    "stdlib.h",
    "stdnoreturn.h",
    "string.h",
    "tgmath.h",
    "threads.h",
    "time.h",
    "uchar.h",
    "wchar.h",
    "wctype.h",
    "aio.h",
    "arpa/inet.h",
    "cpio.h",
    "dirent.h",
    "dlfcn.h",
    "fcntl.h",
    "fnmatch.h",
    "ftw.h",
    "glob.h",
    "grp.h",
    "iconv.h",
    "langinfo.h",
    "libgen.h",
    "monetary.h",
    "mqueue.h",
    "netdb.h",
    "net/if.h",
    "netinet/in.h",
    "netinet/tcp.h",
    "nl_types.h",
    "poll.h",
    "pthread.h",
    "pwd.h",
    "regex.h",
    "sched.h",
    "search.h",
    "semaphore.h",
    "spawn.h",
    "strings.h",
    "sys/ipc.h",
    "sys/mman.h",
    "sys/msg.h",
    "sys/resource.h",
    "sys/select.h",
    "sys/sem.h",
    "sys/shm.h",
    "sys/socket.h",
    "sys/stat.h",
    "sys/statvfs.h",
    "sys/time.h",
    "sys/times.h",
    "sys/types.h",
    "sys/uio.h",
    "sys/un.h",
    "sys/utsname.h",
    "sys/wait.h",
    "syslog.h",
    "tar.h",
    "termios.h",
    "ulimit.h",
    "unistd.h",
    "utime.h",
    "utmpx.h",
    "wordexp.h",
    "alloca.h",
    "endian.h",
    "err.h",
    "error.h",
    "features.h",
    "getopt.h",
    "malloc.h",
    "memory.h",
    "stdio_ext.h",
    "sys/cdefs.h",
    "sys/file.h",
    "sys/ioctl.h",
    "sys/param.h",
    "sys/poll.h",
    "sys/queue.h",
    "sys/sysmacros.h",
    "sys/epoll.h",
    "sys/eventfd.h",
    "sys/inotify.h",
    "sys/signalfd.h",
    "sys/timerfd.h",
    "sys/prctl.h",
    "sys/random.h",
    "sys/sendfile.h",
    "sys/syscall.h",
    "linux/types.h",
    "x86intrin.h",
    "immintrin.h",
    "emmintrin.h",
    "arm_neon.h",
]


def compiler() -> str | None:
    """The C compiler to preprocess with: $CC, else cc, gcc or clang."""
    for name in (os.environ.get("CC", ""), "cc", "gcc", "clang"):
        if name and shutil.which(name.split()[0]):
            return name
    return None


def compiler_id(cc: str) -> str:
    """Names the compiler for the cache: its resolved path, size and mtime (no subprocess)."""
    path = shutil.which(cc.split()[0]) or cc
    real = os.path.realpath(path)
    st = os.stat(real)
    return f"{cc}|{real}|{st.st_size}|{st.st_mtime_ns}"


@functools.lru_cache(maxsize=4)
def system_files(cc: str) -> frozenset[str]:
    """Every file the compiler reaches from libc's, POSIX's and its own standard headers."""
    probe = "".join(f"#if __has_include(<{h}>)\n#include <{h}>\n#endif\n" for h in _SYSTEM_PROBE)
    done = subprocess.run(
        [*cc.split(), "-E", "-x", "c", "-"],
        input=probe.encode(),
        capture_output=True,
        check=False,
    )
    files = set()
    for raw in done.stdout.decode("utf-8", "replace").splitlines():
        m = _MARKER.match(raw)
        if m and not m.group(2).startswith("<"):
            files.add(os.path.realpath(m.group(2)))
    return frozenset(files)


# --- GNU decorations ---------------------------------------------------------------

_GNU_WORDS = re.compile(
    r"\b(__extension__|__restrict__|__restrict|__inline__|__inline|__const|"
    r"_Noreturn|__signed__|__volatile__|__thread|_Thread_local)\b"
)
_GNU_CALLS = re.compile(r"\b(__attribute__|__asm__|__asm|asm|__declspec|_Alignas|__alignas)\s*\(")


def strip_gnu(text: str) -> str:
    """Drop what cffi cannot read: __attribute__((...)), __asm__(...), __restrict, ..."""
    text = _GNU_WORDS.sub(
        lambda m: {"__signed__": "signed", "__const": "const", "__volatile__": "volatile"}.get(
            m.group(1), ""
        ),
        text,
    )
    out, i = [], 0
    for m in _GNU_CALLS.finditer(text):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        out.append(text[i : m.start()])
        out.append("\n" * text.count("\n", m.start(), j))  # line numbers stay right
        i = j
    out.append(text[i:])
    return "".join(out)


# --- the preprocessor ----------------------------------------------------------------


@dataclass
class Source:
    """The preprocessed header set: its lines, their origins, the macros, the files read."""

    chunks: list[tuple[str, str, Any, bool]]  # (text, file, line of each line, own) per run
    macros: list[tuple[str, str | None, str, str, int, bool]]  # name, params, body, file, line, own
    files: list[str]


def preprocess(
    header: Path,
    include_dirs: tuple[str, ...],
    defines: Mapping[str, object] | None,
    *,
    cc: str,
    include: str,
) -> Source:
    """Run ``cc -E -dD`` on ``header``; sort lines into the library's own and the system's."""
    if not header.is_file():
        raise DeclarationError(f"{header}: no such header file")
    cmd = [*cc.split(), "-E", "-dD", "-x", "c", "-I", include]
    for d in include_dirs:
        cmd += ["-I", os.fspath(d)]
    for name, value in (defines or {}).items():
        cmd.append(f"-D{name}" if value is None else f"-D{name}={value}")
    cmd.append(str(header))
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise DeclarationError(f"{header}: the preprocessor failed:\n{err}")
    try:
        out = done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = done.stdout.count(b"\n", 0, exc.start)
        where = _origin_of_line(done.stdout, line)
        raise DeclarationError(
            f"{where}: the header is not UTF-8 text (byte {done.stdout[exc.start]:#04x} "
            "cannot be decoded); pyffi.load reads headers as UTF-8"
        ) from None
    system = system_files(cc)
    top = os.path.realpath(header)
    dirs = [os.path.realpath(d) for d in include_dirs]
    ours = os.path.realpath(os.path.join(include, "pyffi.h"))

    def is_system(path: str) -> bool:
        if path in system or path == ours:
            return True
        if any(path.startswith(d + os.sep) for d in dirs):
            return False
        parts = path.split(os.sep)
        return any(p in ("bits", "gnu", "asm", "asm-generic", "linux", "sys") for p in parts[-3:-1])

    chunks: list[tuple[str, str, Any, bool]] = []
    macros: list[tuple[str, str | None, str, str, int, bool]] = []
    files: list[str] = []
    seen: set[str] = set()
    file_own: dict[str, bool] = {}
    current, own, lineno = str(header), True, 1
    buf: list[str] = []
    at: list[int] = []  # the source line of each line of buf

    def flush() -> None:
        if buf:
            chunks.append(("\n".join(buf), current, list(at), own))
            buf.clear()
            at.clear()

    for raw in out.splitlines():
        m = _MARKER.match(raw)
        if m:
            name, flags = m.group(2), m.group(3).split()
            new_line = int(m.group(1))
            if name.startswith("<"):  # <built-in>, <command-line>
                flush()
                current, own, lineno = name, False, new_line
                continue
            path = os.path.realpath(name)
            if path == top:
                now_own = True
            elif path in file_own:
                now_own = file_own[path]
            else:  # entered from the file before: own if that one is and this is no system file
                now_own = "1" in flags and own and not is_system(path)
            file_own.setdefault(path, now_own)
            if name != current or now_own != own:
                flush()
            current, own, lineno = name, now_own, new_line
            if path not in seen and os.path.isfile(path):
                seen.add(path)
                files.append(path)
            continue
        if raw.startswith("#"):
            define, undef = _DEFINE.match(raw), _UNDEF.match(raw)
            # every macro (the system's expand the library's: UINT32_C), own ones marked
            if define and current != "<built-in>":
                name, params, body = define.group(1), define.group(2), define.group(3).strip()
                macros.append((name, params, body, current, lineno, own))
            elif undef:
                macros.append((undef.group(1), None, "\0undef", current, lineno, own))
            buf.append("")  # a directive inside a declaration
            at.append(lineno)
            lineno += 1
            continue
        buf.append(raw)
        at.append(lineno)
        lineno += 1
    flush()
    return Source(chunks, macros, files)


def _origin_of_line(data: bytes, line: int) -> str:
    name, lineno = "<header>", 0
    for k, raw in enumerate(data.split(b"\n")[: line + 1]):
        m = _MARKER.match(raw.decode("latin-1"))
        if m:
            name, lineno = m.group(2), int(m.group(1))
        elif k < line:
            lineno += 1
    return f"{name}:{lineno}"


# --- units ----------------------------------------------------------------------------


@dataclass
class Unit:
    """One top-level declaration."""

    text: str
    origin: str  # file:line
    own: bool
    kind: str  # "function", "variable", "typedef", "tag", "inline", "static", "other"
    names: list[str]  # what it defines: "f", "T", "struct s", enum constants
    uses: list[str] = field(default_factory=list)  # names it refers to


def tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "", m.group()) for m in TOKEN.finditer(text) if m.lastgroup != "ws"]


def split_units(chunks: Iterable[tuple[str, str, Any, bool]]) -> list[Unit]:
    """Top-level declarations (at ';' outside braces, or after a function body)."""
    units: list[Unit] = []
    for raw_text, file, where, own in chunks:
        lines = range(where, where + raw_text.count("\n") + 1) if isinstance(where, int) else where
        text = strip_gnu(raw_text)
        depth, start, body_fn = 0, 0, False
        prev = ""
        for m in TOKEN.finditer(text):
            kind, tok = m.lastgroup, m.group()
            if kind == "ws":
                continue
            end = None
            if tok == "{":
                if depth == 0 and prev == ")":
                    body_fn = True
                depth += 1
            elif tok == "}":
                depth -= 1
                if depth == 0 and body_fn:
                    end = m.end()
            elif tok == ";" and depth == 0:
                end = m.end()
            prev = tok
            if end is not None:
                piece = text[start:end]
                first = start + len(piece) - len(piece.lstrip())
                lineno = lines[text.count("\n", 0, first)]
                unit = classify(piece.strip(), f"{file}:{lineno}", own, body_fn)
                if unit is not None:
                    units.append(unit)
                start, body_fn = end, False
        rest = text[start:].strip()
        if rest and rest != ";":
            lineno = lines[min(text.count("\n", 0, start), len(lines) - 1)]
            unit = classify(rest, f"{file}:{lineno}", own, False)
            if unit is not None:
                units.append(unit)
    return units


def _collapse(toks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The tokens with every {...} body removed (kept as '{' '}')."""
    out, depth = [], 0
    for t in toks:
        if t[1] == "{":
            if depth == 0:
                out.append(t)
            depth += 1
        elif t[1] == "}":
            depth -= 1
            if depth == 0:
                out.append(t)
        elif depth == 0:
            out.append(t)
    return out


def _declarator_name(decl: list[tuple[str, str]]) -> str | None:
    """The name a declarator introduces: ``(*name)``, the word before ``(`` or the last word."""
    toks = [t for t in decl if t[1] not in ("const", "volatile", "restrict")]
    # drop [..] groups
    flat, depth = [], 0
    for t in toks:
        if t[1] == "[":
            depth += 1
        elif t[1] == "]":
            depth -= 1
        elif depth == 0:
            flat.append(t)
    for k in range(len(flat) - 3):  # a function type: int (name)(args)
        opens, word, closes, params = flat[k : k + 4]
        if (opens[1], word[0], closes[1], params[1]) == ("(", "id", ")", "(") and (
            word[1] not in C_KEYWORDS
        ):
            return word[1]
    for k in range(len(flat) - 2):
        if flat[k][1] == "(" and flat[k + 1][1] == "*":
            j = k + 1
            while j < len(flat) and flat[j][1] == "*":
                j += 1
            if j < len(flat) and flat[j][0] == "id":
                return flat[j][1]
    for k in range(len(flat) - 1):
        if flat[k][0] == "id" and flat[k + 1][1] == "(" and flat[k][1] not in C_KEYWORDS:
            return flat[k][1]
    ids = [t[1] for t in flat if t[0] == "id" and t[1] not in C_KEYWORDS]
    return ids[-1] if ids else None


def _split_declarators(toks: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    parts: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for t in toks:
        if t[1] in "([{":
            depth += 1
        elif t[1] in ")]}":
            depth -= 1
        if t[1] == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _enum_constants(toks: list[tuple[str, str]]) -> list[str]:
    names, depth, expect = [], 0, False
    for k, t in enumerate(toks):
        if t[1] == "{":
            depth += 1
            expect = depth == 1 and k > 0 and _is_enum_brace(toks, k)
            continue
        if t[1] == "}":
            depth -= 1
            continue
        if depth == 1 and expect and t[0] == "id" and (k == 0 or toks[k - 1][1] in ("{", ",")):
            names.append(t[1])
    return names


def _is_enum_brace(toks: list[tuple[str, str]], k: int) -> bool:
    j = k - 1
    if toks[j][0] == "id" and toks[j][1] != "enum":
        j -= 1
    return j >= 0 and toks[j][1] == "enum"


def classify(text: str, origin: str, own: bool, body: bool) -> Unit | None:
    toks = tokens(text)
    if not toks or toks[0][1] in (";", "_Static_assert"):
        return None
    top = _collapse(toks)
    words = [t[1] for t in top]
    if not words or words[0] in ("}", ")"):
        return None
    uses: list[str] = []
    for k, (kind, tok) in enumerate(toks):
        if kind != "id" or tok in C_KEYWORDS:
            continue
        if k and toks[k - 1][1] in ("struct", "union", "enum"):
            uses.append(f"{toks[k - 1][1]} {tok}")
        elif not (k and toks[k - 1][1] in (".", "->")):
            uses.append(tok)
    names: list[str] = []
    # tags defined here: struct X { ... }
    for k in range(len(top) - 2):
        if (
            top[k][1] in ("struct", "union", "enum")
            and top[k + 1][0] == "id"
            and top[k + 2][1] == "{"
        ):
            names.append(f"{top[k][1]} {top[k + 1][1]}")
    names += _enum_constants(toks)
    if body:
        name = _declarator_name(top[: words.index("{")] if "{" in words else top)
        kind = "inline"
        return Unit(text, origin, own, kind, [name] if name else [], uses)
    if words[0] == "typedef":
        decls = _split_declarators(top[1:-1] if words[-1] == ";" else top[1:])
        for d in decls:
            # the first declarator carries the type: skip up to the body or the type words
            n = _declarator_name(
                d if "{" not in [t[1] for t in d] else d[[t[1] for t in d].index("}") + 1 :]
            )
            if n:
                names.append(n)
        return Unit(text, origin, own, "typedef", names, uses)
    body_less = [t for t in top if t[1] not in ("{", "}")]
    if len(body_less) <= 4 and words[0] in ("struct", "union", "enum"):
        if "{" in words:
            return Unit(text, origin, own, "tag", names, uses)
        if len(words) == 3 and top[1][0] == "id":  # struct X;
            return Unit(text, origin, own, "tag", [f"{words[0]} {words[1]}#fwd"], uses)
    if words[0] == "static" or (words[0] == "inline"):
        decl = _declarator_name(top[1:-1])
        return Unit(text, origin, own, "static", [decl] if decl else [], uses)
    inner = top[:-1] if words[-1] == ";" else top
    decls = _split_declarators(inner)
    first = decls[0]
    fname = _function_name(first)
    if fname is not None:
        more = [_function_name(d) or _declarator_name(d) for d in decls[1:]]
        return Unit(text, origin, own, "function", [fname, *[m for m in more if m]], uses)
    if "{" in words:  # struct s { ... } var;  (a definition and a variable)
        return Unit(text, origin, own, "tag", names, uses)
    vname = _declarator_name(first)
    if vname is None:
        return Unit(text, origin, own, "other", names, uses)
    return Unit(text, origin, own, "variable", [vname, *names], uses)


def _function_name(decl: list[tuple[str, str]]) -> str | None:
    """The name of a function declarator (``int f(void)``, ``void (*signal(int, ...))(int)``)."""
    for k in range(len(decl) - 3):  # png's  png_uint_32 (png_get_x) (args)
        if (
            decl[k][1] == "("
            and decl[k + 1][0] == "id"
            and decl[k + 2][1] == ")"
            and decl[k + 3][1] == "("
            and (k == 0 or decl[k - 1][1] != "*")
        ):
            return decl[k + 1][1]
    for k in range(len(decl) - 1):
        kind, tok = decl[k]
        if kind == "id" and tok not in C_KEYWORDS and decl[k + 1][1] == "(":
            before = decl[k - 1][1] if k else ""
            if before == "*" and k >= 2 and decl[k - 2][1] == "(":
                # (*name)(...): a function pointer variable, unless it is (*f(args))(...)
                j = k + 1
                return (
                    tok if j < len(decl) and decl[j][1] == "(" and _closes_before(decl, j) else None
                )
            return tok
    return None


def closing(toks: list[tuple[str, str]], at: int) -> int:
    """The index of the ')' that closes the '(' at ``at``, or -1."""
    depth = 0
    for k in range(at, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[k][1], 0)
        if depth == 0:
            return k
    return -1


def _closes_before(decl: list[tuple[str, str]], j: int) -> bool:
    """True if the '(' at j opens a parameter list inside (*f(...)) (a function)."""
    k = closing(decl, j)
    return 0 <= k < len(decl) - 1 and decl[k + 1][1] == ")"


# --- the declaration set --------------------------------------------------------------


@dataclass
class Declarations:
    """What a Library is made of; plain data, cached as JSON."""

    units: list[str]  # cdef text of each kept unit, in declaration order
    deps: list[list[int]]  # the units each unit needs declared first
    origins: list[str]
    functions: dict[str, int]  # name -> unit
    variables: dict[str, int]
    types: dict[str, int]  # typedef names and "struct x" tags -> unit
    skipped: dict[str, str]  # name -> reason
    constants: dict[str, Any]
    aliases: dict[str, str]  # macro name -> function name
    files: list[str] = field(default_factory=list)
    # Callable only from compiled code (mode="api"): static inline functions and
    # function-like macros, name -> the unit of their prototype. Also in skipped.
    api_only: dict[str, int] = field(default_factory=dict)
    macro_constants: list[str] = field(default_factory=list)  # constants from #define
    macros: list[str] = field(default_factory=list)  # every own #define's name

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Declarations:
        return cls(**data)


def _snapshot(ffi: Any) -> tuple[Any, ...]:
    """cffi's parser state, to undo a cdef that failed halfway (private attributes)."""
    p = ffi._parser
    incomplete = [
        tp
        for key, (tp, _q) in p._declarations.items()
        if key.startswith(("struct ", "union ")) and tp.fldnames is None
    ]
    return (
        dict(p._declarations),
        dict(p._int_constants),
        set(p._included_declarations),
        p._anonymous_counter,
        incomplete,
    )


def _restore(ffi: Any, snap: tuple[Any, ...]) -> None:
    p = ffi._parser
    p._declarations, p._int_constants = dict(snap[0]), dict(snap[1])
    p._included_declarations, p._anonymous_counter = set(snap[2]), snap[3]
    for tp in snap[4]:  # a struct the failed cdef completed goes back to incomplete
        tp.fldnames = tp.fldtypes = tp.fldbitsize = tp.fldquals = None


def fold_array_sizes(text: str, ffi: Any, params: bool = False) -> str | None:
    """``text`` with each array size that is a constant expression cffi cannot
    evaluate (``sizeof(T)``, casts...) replaced by its value, or None."""
    from ._constants import Evaluator, NotConstant

    out, last, changed = [], 0, False
    for m in re.finditer(r"\[([^\[\]]+)\]", text):
        expr = m.group(1).strip()
        if re.fullmatch(r"\d+", expr):
            continue
        try:
            value, kind = Evaluator(tokens(expr), ffi, ffi._parser._int_constants).run()
        except (NotConstant, ValueError, TypeError, SyntaxError, OverflowError):
            if not params:
                return None
            value = ""  # a parameter's array size (C99 [n], [static n]): a pointer anyway
            kind = None
        if isinstance(kind, str) or not isinstance(value, (int, str)):
            return None
        out += [text[last : m.start()], f"[{value}]"]
        last, changed = m.end(), True
    return "".join([*out, text[last:]]) if changed else None


def opaque_text(name: str) -> str:
    if name.startswith(("struct ", "union ")):
        return f"{name};"
    if name.startswith("enum "):
        return f"typedef int _pyffi_enum_{name[5:]};"
    return f"typedef struct _pyffi_opaque_{name} {name};"


_NOT_IN_PROTOTYPE = re.compile(r"\b(static|inline|__inline__|__inline|extern|__extension__)\b")


def inline_prototype(text: str) -> str | None:
    """The prototype of a function definition: ``static inline int f(int x) {...}``
    becomes ``int f(int x);`` (what a compiled call needs declared)."""
    head = text.split("{", 1)[0]
    if ")" not in head:
        return None
    return " ".join(_NOT_IN_PROTOTYPE.sub(" ", head).split()) + ";"


def build(units: list[Unit], prefix: str) -> tuple[Declarations, Any, dict[str, int]]:
    """Keep the own units and the system units they need; validate each with cffi."""
    units = list(units)  # own inline definitions are replaced by their prototypes
    plain = {n for u in units if u.own and u.kind == "function" for n in u.names}
    inline: set[str] = set()
    defined: dict[str, int] = {}
    forwards: dict[str, int] = {}
    for k, u in enumerate(units):
        for n in u.names:
            if n.endswith("#fwd"):
                forwards.setdefault(n[:-4], k)
                continue
            counts = u.kind in ("typedef", "tag", "function", "variable", "other") or (
                u.kind in ("inline", "static") and u.own
            )
            # the own definition wins over a system one of the same name
            if counts and (n not in defined or (u.own and not units[defined[n]].own)):
                defined[n] = k
    for n, k in forwards.items():
        defined.setdefault(n, k)

    skipped: dict[str, str] = {}
    # the prefix's types (pyffi.h's slices) are known already
    given = set(re.findall(r"typedef struct (\w+)", prefix))
    known = KNOWN_TYPES | given | {f"struct {n}" for n in given}
    wanted: set[int] = set()
    order: list[int] = []

    def want(k: int) -> None:
        if k in wanted:
            return
        wanted.add(k)
        u = units[k]
        for n in u.uses:
            j = defined.get(n)
            if (
                j is not None
                and j != k
                and not units[j].own
                and n not in known
                and units[j].kind in ("typedef", "tag")
            ):
                want(j)
        order.append(k)

    for k, u in enumerate(units):
        if not u.own:
            continue
        if u.kind == "inline":
            for n in u.names:
                skipped[n] = (
                    f"is a static inline function in {u.origin}; ABI mode can only call "
                    'exported symbols (mode="api" compiles a call to it)'
                )
            proto = inline_prototype(u.text)
            # an inline definition of an exported function (gnu_inline): the export wins
            if proto is not None and u.names and not plain & set(u.names):
                units[k] = Unit(proto, u.origin, True, "function", u.names, u.uses)
                inline.update(u.names)
                want(k)
            continue
        if u.kind == "static":
            for n in u.names:
                skipped[n] = (
                    f"is declared static in {u.origin}; ABI mode can only reach exported symbols"
                )
            continue
        if u.kind == "typedef" and all(n in known for n in u.names) and u.names:
            continue  # e.g. a header's own 'typedef unsigned int uint32_t;': cffi knows it
        want(k)
    keep = sorted(order)

    probe = cffi.FFI()
    probe.cdef(prefix)
    texts: dict[int, str] = {k: units[k].text for k in keep}

    def cdef(text: str) -> None:
        # cffi's warnings (a global without 'extern', a string literal) say a
        # declaration is not what it seems: a failure here, never ignored.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            probe.cdef(text, override=True)

    # Validate in chunks; a chunk cffi refuses is undone and retried unit by unit.
    final: list[int] = []
    chunk = 200
    errors = (cffi.CDefError, cffi.FFIError, AssertionError, TypeError, ValueError, Warning)

    def attempt(text: str) -> str | None:
        snap = _snapshot(probe)
        try:
            cdef(text)
            return None
        except errors as exc:
            _restore(probe, snap)
            return str(exc).replace("<cdef source string>:", "").splitlines()[0].strip() or repr(
                exc
            )

    def one(k: int) -> None:
        u = units[k]
        detail = attempt(texts[k])
        if detail is None:
            final.append(k)
            return
        fixed = fold_array_sizes(texts[k], probe, u.kind == "function") if "[" in texts[k] else None
        if fixed is not None and attempt(fixed) is None:
            texts[k] = fixed
            final.append(k)
            return
        if not u.own and u.kind in ("typedef", "tag"):
            alt = "\n".join(opaque_text(n) for n in u.names if not n.endswith("#fwd"))
            if attempt(alt) is None:
                texts[k] = alt
                final.append(k)
                return
        reason = f"cannot be declared ({detail}): {u.origin}: {' '.join(u.text.split())[:200]}"
        for n in u.names or [f"<{u.origin}>"]:
            if n in inline:  # its prototype: not callable in either mode
                skipped[n] = f"is a static inline function whose prototype {reason}"
            elif not n.endswith("#fwd"):
                skipped.setdefault(n, reason)

    def settle(part: list[int]) -> None:
        # halves until the refused units are found: a few cdef calls, not one per unit
        if len(part) == 1:
            one(part[0])
        elif attempt("\n".join(texts[k] for k in part)) is None:
            final.extend(part)
        else:
            settle(part[: len(part) // 2])
            settle(part[len(part) // 2 :])

    for s in range(0, len(keep), chunk):
        settle(keep[s : s + chunk])
    index = {k: i for i, k in enumerate(final)}
    decl: dict[str, Any] = probe._parser._declarations  # type: ignore[attr-defined]
    functions: dict[str, int] = {}
    api_only: dict[str, int] = {}
    variables: dict[str, int] = {}
    types: dict[str, int] = {}
    enum_at: dict[str, int] = {}
    fwd: list[tuple[str, int]] = []
    int_constants: dict[str, int] = probe._parser._int_constants  # type: ignore[attr-defined]
    for k in final:
        u = units[k]
        for n in u.names:
            if n.endswith("#fwd"):
                fwd.append((n[:-4], index[k]))
                continue
            if f"function {n}" in decl:
                if u.own:
                    (api_only if n in inline else functions)[n] = index[k]
            elif f"variable {n}" in decl:
                if u.own:
                    variables[n] = index[k]
            elif n.startswith(("struct ", "union ", "enum ")) or f"typedef {n}" in decl:
                types.setdefault(n, index[k])
            elif n in int_constants:
                enum_at.setdefault(n, index[k])
    # Functions ABI mode cannot call: a parameter or result whose layout is unknown.
    for n, table in [*((n, functions) for n in functions), *((n, api_only) for n in api_only)]:
        tp = decl[f"function {n}"][0]
        for i, a in enumerate([*tp.args, tp.result]):
            if isinstance(a, (model.StructType, model.UnionType)) and a.fldnames is None:
                text = units[final[table[n]]].text
                if re.search(r"\b(va_list|__gnuc_va_list)\b", text):
                    why = (
                        f"has a va_list parameter ({units[final[table[n]]].origin}); "
                        "ABI mode cannot build a va_list: call the variadic form of the function"
                    )
                else:
                    what = "result" if i == len(tp.args) else f"parameter {i + 1}"
                    why = (
                        f"passes its {what} by value as {a.get_c_name()}, whose layout is not "
                        f"known ({units[final[table[n]]].origin})"
                    )
                skipped[n] = why
                del table[n]
                break
    deps: list[list[int]] = []
    for n, at in fwd:  # a forward declaration stands only where there is no definition
        types.setdefault(n, at)
    name_unit = {**enum_at, **types}
    for k in final:
        u = units[k]
        own_names = set(u.names)
        ds = sorted(
            {name_unit[n] for n in u.uses if n in name_unit and n not in own_names} - {index[k]}
        )
        deps.append(ds)
    constants = {n: int_constants[n] for n, at in enum_at.items() if units[final[at]].own}
    decls = Declarations(
        units=[texts[k] for k in final],
        deps=deps,
        origins=[units[k].origin for k in final],
        functions=functions,
        variables=variables,
        types=types,
        skipped=skipped,
        constants=constants,
        aliases={},
        api_only=api_only,
    )
    return decls, probe, int_constants
