"""The on-disk cache of extracted declarations.

An entry is keyed by the header's path, the include dirs, the defines, the
compiler and the versions of pyffi's extractor and cffi; it records every
file the preprocessor read with its SHA-256, and is used only if they all
still match. Entries are JSON, written to a temporary file and renamed
(atomic on POSIX), so concurrent processes never see half an entry; an
entry that cannot be read is rebuilt.

``PYFFI_CACHE_DIR`` names the directory (default ``$XDG_CACHE_HOME/pyffi``
or ``~/.cache/pyffi``); ``PYFFI_CACHE_DIR=""`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import cffi

from ._model import Declarations

#: Bumped whenever what the extractor writes, or a compiled module holds, changes.
FORMAT = 13


def directory() -> Path | None:
    env = os.environ.get("PYFFI_CACHE_DIR")
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pyffi"


def key(parts: list[Any]) -> str:
    text = json.dumps([FORMAT, cffi.__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def digest(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def lookup(name: str) -> Declarations | None:
    where = directory()
    if where is None:
        return None
    try:
        with open(where / f"{name}.json", encoding="utf-8") as f:
            entry = json.load(f)
        if entry.get("format") != FORMAT:
            return None
        for path, recorded in entry["files"]:
            if digest(path) != recorded:
                return None
        return Declarations.from_json(entry["declarations"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, corrupt or from another version: rebuilt by the caller


def store(name: str, decls: Declarations) -> None:
    where = directory()
    if where is None:
        return
    files = [[p, d] for p in decls.files if (d := digest(p)) is not None]
    entry = {"format": FORMAT, "files": files, "declarations": decls.to_json()}
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(entry))  # dumps: the C encoder (dump is pure Python)
            os.replace(tmp, where / f"{name}.json")
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full cache directory only costs speed
