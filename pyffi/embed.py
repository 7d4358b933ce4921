"""The embedding library: native programs calling Python (``include/pyffi_embed.h``).

``libpyffi_embed.so`` is installed in this package. A C or Rust program
links it to start Python, run code, import modules, call Python callables
with native values and read the results back; see the README's "Embedding"
section. This module says where the files are and what a build needs::

    $ cc prog.c $(python -m pyffi flags --cflags --libs)

>>> os.path.isfile(os.path.join(pyffi.get_include(), "pyffi_embed.h"))
True
>>> "-lpyffi_embed" in pyffi.embed.libs()
True

It also opens the library in cffi ABI mode over declarations generated from
that header (``_embed_cdef.h``, never written by hand), for Python code that
talks to native code using pyffi handles, and for tests. Opened inside a
Python process, the library uses that process's interpreter:

>>> from pyffi.embed import ffi, lib
>>> h = ffi.new("pyffi_obj *")
>>> lib.pyffi_embed_eval(h, ffi.NULL, b"6 * 7", 5) == lib.PYFFI_OK
True
>>> n = ffi.new("int64_t *")
>>> lib.pyffi_embed_to_int64(n, h[0]), n[0]
(0, 42)
>>> lib.pyffi_embed_release(h[0])
0
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
from typing import Any

import cffi

from ._core.paths import get_include, package_file

_PACKAGE = os.path.dirname(package_file("embed.py"))

# ffi and lib come from __getattr__ (made on first use).
__all__ = ["cflags", "library_path", "libs", "rustflags"]


def library_path() -> str:
    """The installed ``libpyffi_embed.so``."""
    return package_file("libpyffi_embed.so")


def _libpython() -> tuple[str, str]:
    """(directory, link name) of the libpython this Python runs on, e.g. ("/usr/lib", "python3.11").

    Raises RuntimeError for a Python built without a shared libpython: a native
    program then has no library to load Python from.
    """
    version = sysconfig.get_config_var("LDVERSION") or sysconfig.get_config_var("py_version_short")
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    name = f"python{version}"
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError(
            f"{sys.executable} was built without a shared libpython (Py_ENABLE_SHARED is 0): "
            "native programs cannot embed it through pyffi; use a Python configured with "
            "--enable-shared (Debian's python3 and pyenv's with PYTHON_CONFIGURE_OPTS="
            "--enable-shared have one)"
        )
    # Debian 11's python3.9 says LIBDIR=/usr/lib and keeps the library in its multiarch
    # directory, /usr/lib/x86_64-linux-gnu (Debian 12's says so in LIBDIR itself).
    places = [libdir, os.path.join(libdir, multiarch)] if multiarch else [libdir]
    for place in places:
        if os.path.exists(os.path.join(place, f"lib{name}.so")):
            return place, name
    raise RuntimeError(
        f"lib{name}.so is not in {' or '.join(places)}: install the Python development files "
        f"(Debian: apt-get install lib{name}-dev)"
    )


def _is_system_dir(libdir: str) -> bool:
    """Whether the linker and ld.so search ``libdir`` anyway (no -L or run path needed)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    system = {"/lib", "/lib64", "/usr/lib", "/usr/lib64"}
    if multiarch:
        system |= {f"/lib/{multiarch}", f"/usr/lib/{multiarch}"}
    return os.path.normpath(libdir) in system


def cflags() -> list[str]:
    """Compiler flags: the include directory of ``pyffi_embed.h``.

    The program needs none of Python's headers: the handles hide every
    Python type.
    """
    return [f"-I{get_include()}"]


def libs() -> list[str]:
    """Linker flags for ``libpyffi_embed.so`` and this Python's libpython, run paths included.

    libpython is linked even though the program calls none of its functions
    (``libpyffi_embed.so`` does), hence ``--no-as-needed`` around it.
    """
    libdir, name = _libpython()
    where = [] if _is_system_dir(libdir) else [f"-L{libdir}", f"-Wl,-rpath,{libdir}"]
    return [
        f"-L{_PACKAGE}",
        f"-Wl,-rpath,{_PACKAGE}",
        "-lpyffi_embed",
        *where,
        "-Wl,--push-state,--no-as-needed",
        f"-l{name}",
        "-Wl,--pop-state",
    ]


def rustflags() -> list[str]:
    """The same for ``rustc`` (or ``RUSTFLAGS``): search paths, libraries, run paths."""
    libdir, name = _libpython()
    where = (
        []
        if _is_system_dir(libdir)
        else ["-L", f"native={libdir}", "-C", f"link-arg=-Wl,-rpath,{libdir}"]
    )
    return [
        "-L",
        f"native={_PACKAGE}",
        "-l",
        "dylib=pyffi_embed",
        "-C",
        f"link-arg=-Wl,-rpath,{_PACKAGE}",
        *where,
        "-C",
        "link-arg=-Wl,--push-state,--no-as-needed",
        "-C",
        f"link-arg=-l{name}",
        "-C",
        "link-arg=-Wl,--pop-state",
    ]


@functools.cache
def _open() -> tuple[cffi.FFI, Any]:
    ffi = cffi.FFI()
    with open(package_file("_embed_cdef.h"), encoding="utf-8") as f:
        ffi.cdef(f.read())
    # Never unloaded: the library hands the interpreter capsules and functions of its
    # own (the handle table, native callables) that are destroyed at finalization,
    # after the FFILibrary that opened it; a dlclose before that is a jump into unmapped
    # code at exit (seen under ASan).
    flags = getattr(ffi, "RTLD_NOW", 2) | getattr(ffi, "RTLD_NODELETE", 0)
    return ffi, ffi.dlopen(library_path(), flags)


def __getattr__(name: str) -> Any:
    """``ffi`` and ``lib`` are made on first use: importing this module opens nothing."""
    if name == "ffi":
        return _open()[0]
    if name == "lib":
        return _open()[1]
    raise AttributeError(f"module 'pyffi.embed' has no attribute {name!r}")
