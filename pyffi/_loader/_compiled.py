"""mode="api": a header's declarations compiled into a cffi API-mode extension.

cffi writes the C source of the extension (``set_source`` with the header
included, ``emit_c_code``); pyffi compiles and links it against the library
with the C compiler, once: the module is cached under ``api/`` in the
declaration cache, named by a digest of everything that goes into it (the
declarations, the files the preprocessor read, the library, the compiler,
the flags, Python and cffi). A new header, define, compiler or Python is a
new name, so a stale module is never imported (and the older build of the
same library, header and options is removed). The build happens in a
temporary file renamed into place, under a lock file: concurrent processes
build it once and never import half a file.

What the compiler refuses is dropped and retried, by the entity of the
generated source it belongs to (a function's wrapper, a constant's getter):
that name is then listed in ``Library.skipped`` with the compiler's message.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cffi

from .._core.errors import CompileError
from .._core.paths import get_include
from . import _cache
from . import _cffi_private as private
from ._model import Declarations
from ._native import Native, generate
from ._toolchain import compiler_id

__all__ = ["Compiled", "compile_library"]

#: -O1: each wrapper is one call, so optimising harder only costs build time
#: (libgit2's 900 functions: 6 s at -O0, 13.5 s at -O1, 16 s at -O2).
#: -D_CFFI_NO_LIMITED_API: the compiled wrappers (``_native``) use the full C API (fast
#: calls, buffers); the module is built for one Python anyway (EXT_SUFFIX).
FLAGS = (
    "-shared",
    "-fPIC",
    "-O1",
    "-g0",
    "-Wno-deprecated-declarations",
    "-D_CFFI_NO_LIMITED_API",
)

_ENTITY = re.compile(
    r"^(?:\w[^\n;(]*?[ *])?(?:_cffi_(d|f|const|var|checkfld|check)|_pyffi_(w))_(\w+)\(", re.M
)
_ERROR_ANY = re.compile(r"^([^\n:]*):(\d+):(?:\d+:)? (?:fatal )?error: (.*)$")
_IN_FUNCTION = re.compile(r"In function [\u2018'`](\w+)[\u2019']:$")
_ENTITY_NAME = re.compile(r"^(?:_cffi_(d|f|const|var|checkfld|check)|_pyffi_(w))_(\w+)$")

_loaded: dict[str, tuple[Any, Any, Any]] = {}  # name -> (ffi, lib, native): one import a process
_loaded_lock = threading.Lock()


@dataclasses.dataclass
class Compiled:
    """The compiled extension of a Library: its ffi, its lib, what it left out, and its
    compiled wrappers (``_native``: the module and name -> (index, C types))."""

    ffi: Any
    lib: Any
    path: str  # the shared library's real path
    decls: Declarations  # without what the extension does not hold
    native: Any = None
    wrappers: dict[str, tuple[int, list[str]]] = dataclasses.field(default_factory=dict)


# The library ---------------------------------------------------------------------------


class _LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_size_t), ("l_name", ctypes.c_char_p)]


def real_path(handle: ctypes.CDLL, name: str) -> str:
    """The file the dynamic loader opened for ``handle`` (glibc's and musl's dlinfo)."""
    libc = ctypes.CDLL(None)
    dlinfo = getattr(libc, "dlinfo", None)
    if dlinfo is not None:
        lm = ctypes.POINTER(_LinkMap)()
        if dlinfo(ctypes.c_void_p(handle._handle), 2, ctypes.byref(lm)) == 0 and lm:  # LINKMAP
            found = lm.contents.l_name
            if found:
                return os.path.realpath(os.fsdecode(found))
    if os.sep in name:
        return os.path.realpath(name)
    raise CompileError(f'mode="api": cannot tell which file {name!r} is, to link against it')


def _exported(handle: ctypes.CDLL, name: str) -> bool:
    try:
        handle[name]
    except AttributeError:
        return False
    return True


# The source ----------------------------------------------------------------------------


def _constant_decl(name: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, bytes)):
        return None  # pointer constants keep the evaluator's value
    if isinstance(value, int):
        return f"#define {name} ..."
    if isinstance(value, float):
        return f"static const double {name};"
    if "\0" in (value if isinstance(value, str) else value.decode("latin-1")):
        return None  # a pointer would end the string at its first NUL
    return f"static const char *const {name};"


def _cdef_text(
    prefix: str, decls: Declarations, dropped: set[str], unexported: set[str]
) -> tuple[str, list[str]]:
    """The cdef of the whole extension and the macro constants it declares."""
    skip_units = {
        k
        for table in (decls.functions, decls.variables, decls.api_only)
        for n, k in table.items()
        if n in dropped or n in unexported
    }
    parts = [prefix]
    parts += [u for k, u in enumerate(decls.units) if k not in skip_units]
    declared = {*decls.functions, *decls.variables, *decls.api_only, *decls.types}
    consts = []
    for name in decls.macro_constants:
        if name in dropped or name in declared or name in decls.aliases:
            continue
        line = _constant_decl(name, decls.constants.get(name))
        if line is not None:
            parts.append(line)
            consts.append(name)
    return "\n".join(parts) + "\n", consts


def _shadowing_macros(ffi: Any, decls: Declarations) -> list[str]:
    """Macros named like a struct field: cffi's layout checks name the field after the
    header, where the macro would expand (libxml2's ``xmlGlobalState``), so they go."""
    fields: set[str] = set()
    for key, (tp, _q) in private.declarations(ffi).items():
        if key.startswith(("struct ", "union ", "typedef ")) and getattr(tp, "fldnames", None):
            fields.update(tp.fldnames)
    macros = set(decls.macros)
    keep = {*decls.api_only, *decls.functions, *decls.variables}
    return sorted(n for n in fields & macros if n not in keep)


def _entities(c_source: str) -> list[tuple[int, str, str]]:
    """(first line, kind, name) of each function of cffi's generated source."""
    found = []
    for m in _ENTITY.finditer(c_source):
        kind = m.group(1) or m.group(2)
        found.append((c_source.count("\n", 0, m.start()) + 1, kind, m.group(3)))
    return found


def _blame(c_source: str, output: str) -> dict[str, str]:
    """name -> the first compiler error inside that name's generated function (a compiled
    wrapper's name prefixed ``<native>``: only the wrapper goes).

    An error is the function's whose line it is in the generated source, or, for one
    gcc reports inside a header's macro (a macro the function calls: glib's
    ``g_pointer_bit_lock``), the function gcc names in its "In function" line."""
    spans = _entities(c_source)
    blamed: dict[str, str] = {}
    current: str | None = None  # gcc's "In function 'x':" context
    for raw in output.splitlines():
        context = _IN_FUNCTION.search(raw)
        if context:
            current = context.group(1)
            continue
        if raw.endswith("At top level:"):
            current = None
            continue
        m = _ERROR_ANY.match(raw)
        if m is None:
            continue
        message = m.group(3).strip()
        owner = None
        if m.group(1).endswith(".c"):
            line = int(m.group(2))
            for start, kind, name in spans:
                if start > line:
                    break
                owner = (kind, name)
        elif current is not None:
            named = _ENTITY_NAME.match(current)
            owner = (named.group(1) or named.group(2), named.group(3)) if named else None
        if owner is None or owner[0] not in ("d", "f", "const", "var", "w"):
            return {}  # a struct check or the header itself: nothing to drop
        blamed.setdefault(("<native>" if owner[0] == "w" else "") + owner[1], message)
    return blamed


def _run_compiler(
    cc: str, c_file: Path, out: Path, lib_path: str, include_dirs: list[str], defines: list[str]
) -> subprocess.CompletedProcess[str]:

    paths = sysconfig.get_paths()
    incs = [paths["include"], paths["platinclude"], get_include(), *include_dirs]
    cmd = [
        *cc.split(),
        *FLAGS,
        *(f"-I{d}" for d in dict.fromkeys(incs)),
        *defines,
        str(c_file),
        "-o",
        str(out),
        lib_path,
        f"-Wl,-rpath,{os.path.dirname(lib_path)}",
    ]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise CompileError(
            f'mode="api": cannot run the C compiler {cc!r} ({exc}); use mode="abi"'
        ) from None


# Build, cache, import -------------------------------------------------------------------


def _cache_dir() -> tuple[Path, bool]:
    where = _cache.directory()
    if where is not None:
        try:
            (where / "api").mkdir(parents=True, exist_ok=True)
            return where / "api", False
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="pyffi-api-")), True


def _import(name: str, so: Path) -> tuple[Any, Any, Any]:
    """(ffi, lib, the compiled wrappers' module) of the extension, once per process."""
    with _loaded_lock:
        if name in _loaded:
            return _loaded[name]
        module = _load_extension(name, so)
        native = _load_extension(f"{name}_native", so)  # the same file, a second init
        _loaded[name] = (module.ffi, module.lib, native)
        return _loaded[name]


def _load_extension(name: str, so: Path) -> Any:
    loader = importlib.machinery.ExtensionFileLoader(name, str(so))
    spec = importlib.util.spec_from_file_location(name, so, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def compile_library(
    path: str,
    handle: ctypes.CDLL,
    decls: Declarations,
    *,
    prefix: str,
    header: str | None,
    cdef: str | None,
    include_dirs: list[str],
    defines: Mapping[str, object] | None,
    cc: str | None,
) -> Compiled:
    """Compile (or find in the cache) the extension of ``decls`` for the library ``handle``."""
    if cc is None:
        raise CompileError(
            'mode="api" needs a C compiler and none was found (set CC, or install gcc); '
            'mode="abi" (the default) needs none'
        )
    python_h = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not python_h.is_file():
        raise CompileError(
            f'mode="api" compiles against Python.h, which is not installed ({python_h}: '
            'install the Python development headers, e.g. python3-dev); or use mode="abi"'
        )
    lib_path = real_path(handle, path)
    names = [*decls.functions, *decls.variables]
    unexported = {n for n in names if not _exported(handle, n)}
    flags = [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in (defines or {}).items()]
    if header is not None:
        source = f"#include <pyffi.h>\n#include {json.dumps(os.path.realpath(header))}\n"
    else:
        source = "#include <pyffi.h>\n" + (cdef or "")
    ident, name = _module_name(path, lib_path, decls, cc, source, unexported, include_dirs, flags)
    where, temporary = _cache_dir()
    so = where / f"{name}{sysconfig.get_config_var('EXT_SUFFIX') or '.so'}"
    meta = where / f"{name}.json"
    try:
        with open(where / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one build; the others wait and import it
            if not (so.is_file() and meta.is_file()):
                _build_module(
                    name,
                    so,
                    meta,
                    cc,
                    lib_path,
                    decls,
                    prefix,
                    source,
                    unexported,
                    include_dirs,
                    flags,
                )
            dropped = json.loads(meta.read_text(encoding="utf-8"))
            ffi, lib, native = _import(name, so)
            _prune(where, ident, name)
    finally:
        if temporary:
            shutil.rmtree(where, ignore_errors=True)
    wrappers = Native.from_json(dropped["native"]).functions
    return Compiled(ffi, lib, lib_path, _trimmed(decls, dropped, lib, ffi), native, wrappers)


def _module_name(
    path: str,
    lib_path: str,
    decls: Declarations,
    cc: str,
    source: str,
    unexported: set[str],
    include_dirs: list[str],
    flags: list[str],
) -> tuple[str, str]:
    """(ident, module name): the name is a digest of everything that goes into the
    module; the ident, of what it is for (an older build shares it)."""
    digests = [[p, _cache.digest(p)] for p in decls.files]
    st = os.stat(lib_path)
    key = _cache.key(
        [
            "api",
            sys.version,
            sys.implementation.cache_tag,
            sysconfig.get_config_var("EXT_SUFFIX"),
            compiler_id(cc),
            [lib_path, st.st_size, st.st_mtime_ns],
            decls.to_json(),
            sorted(unexported),
            source,
            digests,
            [os.path.realpath(d) for d in include_dirs],
            flags,
            FLAGS,
        ]
    )
    # What the module is for, without what it is made of: a module of the same ident
    # and another key is an older build of it (the header or the compiler changed).
    ident = _cache.key(
        [
            "api-ident",
            sys.implementation.cache_tag,
            sysconfig.get_config_var("EXT_SUFFIX"),
            path,
            source,
            [os.path.realpath(d) for d in include_dirs],
            flags,
        ]
    )[:16]
    return ident, f"_pyffi_api_{ident}_{key}"


def _prune(where: Path, ident: str, name: str) -> None:
    """Remove the older builds of this module (a process that imported one keeps its
    mapping; one waiting on its lock builds it again)."""
    for old in where.glob(f"_pyffi_api_{ident}_*"):
        if not old.name.startswith(f"{name}."):
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                old.unlink()


def _build_module(
    name: str,
    so: Path,
    meta: Path,
    cc: str,
    lib_path: str,
    decls: Declarations,
    prefix: str,
    source: str,
    unexported: set[str],
    include_dirs: list[str],
    flags: list[str],
) -> None:
    dropped: dict[str, str] = {}
    no_wrapper: set[str] = set()  # compiled wrappers the compiler refused: the Python one
    with tempfile.TemporaryDirectory(dir=so.parent, prefix=f".{name}.") as tmp:
        for _attempt in range(4):
            text, consts = _cdef_text(prefix, decls, set(dropped), unexported)
            ffi = cffi.FFI()
            ffi.cdef(text, override=True)
            undef = _shadowing_macros(ffi, decls)
            c_file = Path(tmp) / f"{name}.c"
            full = source + "".join(f"#undef {n}\n" for n in undef)
            private.make_c_source(ffi, name, full, str(c_file))
            callable_ = [*decls.functions, *decls.api_only]
            skip = set(dropped) | unexported | no_wrapper
            functions = {
                n: private.function_type(ffi, n)
                for n in callable_
                if n not in skip and f"function {n}" in private.declarations(ffi)
            }
            code, native = generate(ffi, functions, f"{name}_native")
            with open(c_file, "a", encoding="utf-8") as f:
                f.write(code)
            out = Path(tmp) / so.name
            done = _run_compiler(cc, c_file, out, lib_path, include_dirs, flags)
            if done.returncode == 0 and out.is_file():
                break
            blamed = _blame(c_file.read_text(encoding="utf-8"), done.stderr)
            if not blamed or _attempt == 3:
                tail = "\n".join(done.stderr.strip().splitlines()[-30:])
                raise CompileError(
                    f'mode="api": the C compiler failed on the extension for {lib_path}:\n{tail}'
                )
            for n, message in blamed.items():
                if n.startswith("<native>"):
                    no_wrapper.add(n[len("<native>") :])
                else:
                    dropped[n] = message
        else:  # pragma: no cover - the loop breaks or raises
            raise AssertionError
        meta_tmp = Path(tmp) / "meta.json"
        meta_tmp.write_text(
            json.dumps({"dropped": dropped, "constants": consts, "native": native.to_json()}),
            encoding="utf-8",
        )
        os.replace(meta_tmp, meta)
        os.replace(out, so)


def _trimmed(decls: Declarations, meta: dict[str, Any], lib: Any, ffi: Any) -> Declarations:
    """``decls`` as the extension holds them: dropped names skipped, constants compiled."""
    d = dataclasses.replace(
        decls,
        functions=dict(decls.functions),
        api_only=dict(decls.api_only),
        skipped=dict(decls.skipped),
        constants=dict(decls.constants),
    )
    for n, message in meta["dropped"].items():
        for table in (d.functions, d.api_only):
            table.pop(n, None)
        if n in d.constants:
            continue  # the evaluator's value stays
        d.skipped[n] = f'does not compile in mode="api": {message}'
    for n in d.api_only:
        d.skipped.pop(n, None)
    for n in meta["constants"]:
        value, old = getattr(lib, n), d.constants[n]
        if isinstance(old, str):
            value = ffi.string(value).decode("utf-8", "replace")
        elif isinstance(old, bytes):
            value = ffi.string(value)
        d.constants[n] = value
    return d
