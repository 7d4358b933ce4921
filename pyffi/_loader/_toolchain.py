"""The toolchain: the C compiler, the system's own headers, and one preprocessor run.

One run of the preprocessor (``cc -E -dD``) gives the declarations and the
``#define`` lines, each under a line marker naming its file. A file is the
library's own unless it is a system header (libc's, the compiler's: the
files a probe of the standard headers reaches); the library's declarations
and the system types they use are told apart later (``_units``, ``_validate``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._core.errors import DeclarationError
from ._model import Macro, Source

__all__ = [
    "FEATURE_MACROS",
    "compiler",
    "compiler_id",
    "flags",
    "preprocess",
    "python_features",
    "system_files",
]

_MARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"((?:\s+\d+)*)\s*$')
_DEFINE = re.compile(r"^#\s*define\s+([A-Za-z_]\w*)(\([^)]*\))?\s?(.*)$")
_UNDEF = re.compile(r"^#\s*undef\s+([A-Za-z_]\w*)")
_PRAGMA_PACK = re.compile(r"^#\s*pragma\s+pack\s*\(([^)]*)\)")
_CONFIG_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]*(.*?)[ \t]*$", re.M)
# Directory names under which a header is the system's, whatever its include path:
# libc's and the kernel's internals. Not sys/: libc's sys/ headers are the probe's
# (below); others are a library's own (libacl's sys/acl.h, libcap's sys/capability.h).
_SYSTEM_DIRS = ("bits", "gnu", "asm", "asm-generic", "linux")

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
    "sys/auxv.h",
    "sys/fanotify.h",
    "sys/fsuid.h",
    "sys/io.h",
    "sys/kd.h",
    "sys/klog.h",
    "sys/mount.h",
    "sys/mtio.h",
    "sys/personality.h",
    "sys/pidfd.h",
    "sys/procfs.h",
    "sys/ptrace.h",
    "sys/quota.h",
    "sys/raw.h",
    "sys/reboot.h",
    "sys/rseq.h",
    "sys/single_threaded.h",
    "sys/statfs.h",
    "sys/swap.h",
    "sys/sysinfo.h",
    "sys/timeb.h",
    "sys/timex.h",
    "sys/ttydefaults.h",
    "sys/ucontext.h",
    "sys/user.h",
    "sys/vfs.h",
    "sys/vt.h",
    "sys/xattr.h",
    "sys/dir.h",
    "sys/errno.h",
    "sys/fcntl.h",
    "sys/signal.h",
    "sys/syslog.h",
    "sys/termios.h",
    "sys/unistd.h",
    "sys/poll.h",
    "sys/acct.h",
    "sys/gmon.h",
    "sys/bitypes.h",
    "sys/elf.h",
    "sys/pci.h",
    "sys/perm.h",
    "sys/prctl.h",
    "sys/profil.h",
    "sys/reg.h",
    "sys/socketvar.h",
    "sys/sysctl.h",
    "sys/sysmacros.h",
    "sys/ustat.h",
    "sys/vlimit.h",
    "sys/vtimes.h",
    "sys/debugreg.h",
    "sys/gmon_out.h",
    "sys/soundcard.h",
    "sys/ttychars.h",
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


#: The feature-test macros Python.h defines before any system header: a header
#: compiled into an extension sees the system's declarations as they are with them.
FEATURE_MACROS = frozenset(
    [
        "_GNU_SOURCE",
        "_XOPEN_SOURCE",
        "_XOPEN_SOURCE_EXTENDED",
        "_POSIX_C_SOURCE",
        "_FILE_OFFSET_BITS",
        "_LARGEFILE_SOURCE",
        "_LARGEFILE64_SOURCE",
        "_REENTRANT",
        "_DARWIN_C_SOURCE",
        "_NETBSD_SOURCE",
        "__BSD_VISIBLE",
        "_ALL_SOURCE",
        "_POSIX_PTHREAD_SEMANTICS",
        "_TANDEM_SOURCE",
        "__EXTENSIONS__",
    ]
)


@functools.lru_cache(maxsize=4)
def python_features(cc: str) -> tuple[tuple[str, str], ...]:
    """The feature-test macros this Python's pyconfig.h defines, as (name, value).

    The preprocessor reads it (Debian's pyconfig.h only includes the one of
    its architecture): ``cc -dM -E`` on ``#include <pyconfig.h>``.
    """
    paths = sysconfig.get_paths()
    cmd = [
        *cc.split(),
        "-dM",
        "-E",
        f"-I{paths['include']}",
        f"-I{paths['platinclude']}",
        "-x",
        "c",
        "-",
    ]
    try:
        done = subprocess.run(
            cmd, input="#include <pyconfig.h>\n", capture_output=True, text=True, check=False
        )
    except OSError:
        return ()
    found = {m.group(1): m.group(2) or "1" for m in _CONFIG_DEFINE.finditer(done.stdout)}
    return tuple(sorted((k, v) for k, v in found.items() if k in FEATURE_MACROS))


# --- the preprocessor ----------------------------------------------------------------


def preprocess(
    header: Path,
    include_dirs: tuple[str, ...],
    defines: Mapping[str, object] | None,
    *,
    cc: str,
    include: str,
) -> Source:
    """Run ``cc -E -dD`` on ``header``; sort lines into the library's own and the system's."""
    text = _run(header, include_dirs, defines, cc, include)
    system = _SystemFiles(system_files(cc), include_dirs, include, compiler_include(cc))
    return _Sorter(header, system).read(text)


@functools.lru_cache(maxsize=4)
def compiler_include(cc: str) -> str:
    """The compiler's own header directory (gcc's stddef.h, stdarg.h), or "" if unknown."""
    try:
        done = subprocess.run(
            [*cc.split(), "-print-file-name=include"], capture_output=True, text=True, check=False
        )
    except OSError:
        return ""
    found = done.stdout.strip()
    return os.path.realpath(found) if os.path.isabs(found) else ""


def flags(
    include_dirs: tuple[str, ...], defines: Mapping[str, object] | None, include: str
) -> list[str]:
    """The compiler's -I and -D options for a header: pyffi's include directory first."""
    out = ["-I", include]
    for d in include_dirs:
        out += ["-I", os.fspath(d)]
    for name, value in (defines or {}).items():
        out.append(f"-D{name}" if value is None else f"-D{name}={value}")
    return out


def _run(
    header: Path,
    include_dirs: tuple[str, ...],
    defines: Mapping[str, object] | None,
    cc: str,
    include: str,
) -> str:
    """The preprocessor's output, as text (a header that is not UTF-8 is an error)."""
    if not header.is_file():
        raise DeclarationError(f"{header}: no such header file")
    cmd = [*cc.split(), "-E", "-dD", "-x", "c", *flags(include_dirs, defines, include)]
    cmd.append(str(header))
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()
        raise DeclarationError(f"{header}: the preprocessor failed:\n{err}")
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = done.stdout.count(b"\n", 0, exc.start)
        where = _origin_of_line(done.stdout, line)
        raise DeclarationError(
            f"{where}: the header is not UTF-8 text (byte {done.stdout[exc.start]:#04x} "
            "cannot be decoded); pyffi.load reads headers as UTF-8"
        ) from None


class _SystemFiles:
    """Which files are the system's: the probe's, pyffi's own headers (``ours``, their
    directory), and libc-style directories (never a file under the caller's include_dirs)."""

    def __init__(
        self, probed: frozenset[str], include_dirs: tuple[str, ...], ours: str, compiler: str
    ) -> None:
        self.probed = probed
        self.dirs = [os.path.realpath(d) for d in include_dirs]
        self.ours = os.path.realpath(ours)
        self.compiler = compiler

    def libc(self, path: str) -> bool:
        """A system file that is libc's (or POSIX's), not the compiler's own or pyffi's."""
        if os.path.dirname(path) == self.ours:
            return False
        return not (self.compiler and path.startswith(self.compiler + os.sep))

    def __contains__(self, path: str) -> bool:
        if path in self.probed or os.path.dirname(path) == self.ours:
            return True
        if any(path.startswith(d + os.sep) for d in self.dirs):
            return False
        return any(p in _SYSTEM_DIRS for p in path.split(os.sep)[-3:-1])


class _Sorter:
    """Reads the preprocessor's lines into runs of one file each, own or not."""

    def __init__(self, header: Path, system: _SystemFiles) -> None:
        self.top = os.path.realpath(header)
        self.system = system
        # math.h, stdio.h...: the header is libc's own, and so are the libc headers it
        # includes (pyffi.load("m", "/usr/include/math.h") declares libm's functions)
        self.of_libc = self.top in system and system.libc(self.top)
        self.chunks: list[tuple[str, str, Any, bool, bool]] = []
        self.macros: list[Macro] = []
        self.files: list[str] = []
        self.seen: set[str] = set()
        self.file_own: dict[str, bool] = {}
        self.current, self.own, self.lineno = str(header), True, 1
        self.buf: list[str] = []
        self.at: list[int] = []  # the source line of each line of buf
        self.packs: list[bool] = []  # #pragma pack(push...) states to pop back to
        self.packed = False  # a #pragma pack(n) is in force

    def read(self, text: str) -> Source:
        for raw in text.splitlines():
            m = _MARKER.match(raw)
            if m:
                self.marker(m.group(2), m.group(3).split(), int(m.group(1)))
                continue
            line = raw
            if raw.startswith("#"):
                self.directive(raw)
                line = ""  # a directive inside a declaration
            self.buf.append(line)
            self.at.append(self.lineno)
            self.lineno += 1
        self.flush()
        return Source(self.chunks, self.macros, self.files)

    def flush(self) -> None:
        if self.buf:
            self.chunks.append(
                ("\n".join(self.buf), self.current, list(self.at), self.own, self.packed)
            )
            self.buf.clear()
            self.at.clear()

    def pragma_pack(self, raw: str) -> None:
        """Follow #pragma pack: the units under one are checked against the compiler."""
        m = _PRAGMA_PACK.match(raw)
        if m is None:
            return
        self.flush()
        args = [a.strip() for a in m.group(1).split(",") if a.strip()]
        if args and args[0] == "push":
            self.packs.append(self.packed)
            args = args[1:]
        elif args and args[0] == "pop":
            self.packed = self.packs.pop() if self.packs else False
            return
        numbers = [a for a in args if a.isdigit()]
        if numbers or not args:
            self.packed = bool(numbers)  # pack(n): in force; pack(): the default again

    def marker(self, name: str, flags: list[str], new_line: int) -> None:
        if name.startswith("<"):  # <built-in>, <command-line>
            self.flush()
            self.current, self.own, self.lineno = name, False, new_line
            return
        path = os.path.realpath(name)
        if path == self.top:
            now_own = True
        elif path in self.file_own:
            now_own = self.file_own[path]
        else:  # entered from the file before: own if that one is and this is no system file
            libc = self.of_libc and self.system.libc(path)
            now_own = "1" in flags and self.own and (libc or path not in self.system)
        self.file_own.setdefault(path, now_own)
        if name != self.current or now_own != self.own:
            self.flush()
        self.current, self.own, self.lineno = name, now_own, new_line
        if path not in self.seen and os.path.isfile(path):
            self.seen.add(path)
            self.files.append(path)

    def directive(self, raw: str) -> None:
        if raw.startswith("#pragma"):
            self.pragma_pack(raw)
            return
        define, undef = _DEFINE.match(raw), _UNDEF.match(raw)
        # every macro (the system's expand the library's: UINT32_C), own ones marked
        if define and self.current != "<built-in>":
            name, params, body = define.group(1), define.group(2), define.group(3).strip()
            self.macros.append((name, params, body, self.current, self.lineno, self.own))
        elif undef:
            self.macros.append(
                (undef.group(1), None, "\0undef", self.current, self.lineno, self.own)
            )


def _origin_of_line(data: bytes, line: int) -> str:
    name, lineno = "<header>", 0
    for k, raw in enumerate(data.split(b"\n")[: line + 1]):
        m = _MARKER.match(raw.decode("latin-1"))
        if m:
            name, lineno = m.group(2), int(m.group(1))
        elif k < line:
            lineno += 1
    return f"{name}:{lineno}"
