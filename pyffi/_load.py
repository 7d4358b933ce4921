"""pyffi.load: any C-ABI library (C or Rust) from its header, with automatic marshalling.

The declarations come from a header (run through the C preprocessor, keeping
only the user's own files) or from cdef text; the library is opened with
cffi's ABI mode. Each function is wrapped on first use: the C type of every
parameter decides how a Python argument is converted (see :func:`load`),
and lists passed to non-const pointers get C's changes written back.
"""

from __future__ import annotations

import ctypes.util
import keyword
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import cffi
from cffi import model

from ._errors import DeclarationError, OutOfRangeError

__all__ = ["Library", "Record", "load"]

# The slice types of include/pyffi.h, taken from the installed declarations
# (generated from the header: never written twice).
_CDEF_FILE = Path(__file__).resolve().parent / "_cdef.h"
_SLICE_TYPEDEF = re.compile(r"typedef struct (pyffi_(?:str|bytes|vec_\w+)) \{[^}]*\} \1;")
SLICE_CDEF = (
    "\n".join(m.group(0) for m in _SLICE_TYPEDEF.finditer(_CDEF_FILE.read_text(encoding="utf-8")))
    + "\n"
)
SLICES = frozenset(_SLICE_TYPEDEF.findall(SLICE_CDEF))

_INTS = {
    "char": None,
    "signed char": "b",
    "unsigned char": "B",
    "short": "h",
    "unsigned short": "H",
    "int": "i",
    "unsigned int": "I",
    "long": "l",
    "unsigned long": "L",
    "long long": "q",
    "unsigned long long": "Q",
    "int8_t": "b",
    "uint8_t": "B",
    "int16_t": "h",
    "uint16_t": "H",
    "int32_t": "i",
    "uint32_t": "I",
    "int64_t": "q",
    "uint64_t": "Q",
    "size_t": "N",
    "ssize_t": "n",
    "intptr_t": "n",
    "uintptr_t": "N",
    "ptrdiff_t": "n",
    "_Bool": "?",
}
_FLOATS = {"float": "f", "double": "d"}
# Buffer format characters of the same kind and size are interchangeable.
_KIND = {
    **dict.fromkeys("bhilqn", "signed"),
    **dict.fromkeys("BHILQN", "unsigned"),
    "f": "float",
    "d": "float",
    "?": "bool",
    "c": "unsigned",
}
_NATIVE = ("@", "=", "<" if sys.byteorder == "little" else ">")


class Record:
    """A C struct returned by value, converted to Python values field by field.

    >>> r = pyffi.Record("pair", a=1, b=2.5); r.a, r
    (1, pair(a=1, b=2.5))
    """

    def __init__(self, _type: str, **fields: Any) -> None:
        self.__dict__.update(fields)
        self._type = _type

    def _asdict(self) -> dict[str, Any]:
        """The fields as a dict, in declaration order."""
        return {k: v for k, v in self.__dict__.items() if k != "_type"}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._type == other._type and self._asdict() == other._asdict()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._asdict().items())
        return f"{self._type}({fields})"


# --- declarations -----------------------------------------------------------

_MARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"')


def _compiler() -> str | None:
    for name in (os.environ.get("CC", ""), "cc", "gcc", "clang"):
        if name and shutil.which(name.split()[0]):
            return name
    return None


def _strip_gnu(text: str) -> str:
    """Drop GNU decorations cffi cannot read (__attribute__((...)), __restrict, ...)."""
    text = re.sub(r"\b(__extension__|__restrict__|__restrict|__inline__|__inline)\b", "", text)
    out, i = [], 0
    for m in re.finditer(r"\b__attribute__\s*\(", text):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        out.append(text[i : m.start()])
        i = j
    out.append(text[i:])
    return "".join(out)


def _preprocess(
    header: Path, include_dirs: tuple[str, ...], defines: Mapping[str, object] | None
) -> tuple[str, list[tuple[str, int]]]:
    """The user's own declarations from ``header`` and where each line came from."""
    from . import get_include

    cc = _compiler()
    if cc is None:
        raise DeclarationError(
            f"{header}: no C compiler found to preprocess it (set CC, or "
            "pass the declarations as cdef= text)"
        )
    if not header.is_file():
        raise DeclarationError(f"{header}: no such header file")
    cmd = [*cc.split(), "-E", "-x", "c", "-I", get_include()]
    for d in include_dirs:
        cmd += ["-I", os.fspath(d)]
    for name, value in (defines or {}).items():
        cmd.append(f"-D{name}" if value is None else f"-D{name}={value}")
    cmd.append(str(header))
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DeclarationError(f"{header}: the preprocessor failed:\n{done.stderr.strip()}")
    own = [header.resolve()] + [Path(d).resolve() for d in include_dirs]
    ours = (Path(get_include()) / "pyffi.h").resolve()

    def is_own(name: str) -> bool:
        path = Path(name).resolve()
        if path == ours:
            return False
        return any(path == p or p in path.parents for p in own)

    lines: list[str] = []
    where: list[tuple[str, int]] = []
    keep, current, lineno = False, "", 0
    for raw in done.stdout.splitlines():
        marker = _MARKER.match(raw)
        if marker:
            lineno, current = int(marker.group(1)), marker.group(2)
            keep = is_own(current)
            continue
        if keep and not raw.lstrip().startswith("#"):
            lines.append(raw)
            where.append((current, lineno))
        lineno += 1
    return "\n".join(lines) + "\n", where


def _statements(text: str) -> list[tuple[int, str]]:
    """Top-level declarations of ``text`` (split at ';' outside braces), with start lines."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if (ch == ";" and depth == 0) or i == len(text) - 1:
            chunk = text[start : i + 1]
            if chunk.strip():
                first = start + len(chunk) - len(chunk.lstrip())
                out.append((text.count("\n", 0, first) + 1, chunk.strip()))
            start = i + 1
    return out


def _declare(text: str, where: list[tuple[str, int]] | None, origin: str) -> cffi.FFI:
    """An FFI with the slice types and ``text`` declared; DeclarationError naming the culprit."""
    prefix = "" if "typedef struct pyffi_str" in text else SLICE_CDEF
    ffi = cffi.FFI()
    try:
        ffi.cdef(prefix + text)
        return ffi
    except (cffi.CDefError, cffi.FFIError) as exc:
        reason = str(exc).splitlines()[0]
    # Find the first declaration cffi refuses, to name its file and line.
    probe = cffi.FFI()
    probe.cdef(prefix)
    for line, statement in _statements(text):
        try:
            probe.cdef(statement)
        except (cffi.CDefError, cffi.FFIError) as exc:
            name, lineno = where[line - 1] if where and line - 1 < len(where) else (origin, line)
            detail = str(exc).splitlines()[0]
            raise DeclarationError(
                f"{name}:{lineno}: cffi cannot read this declaration "
                f"({detail}): {' '.join(statement.split())}"
            ) from None
    raise DeclarationError(f"{origin}: cffi cannot read the declarations: {reason}")


# --- opening the library ------------------------------------------------------


def _open(ffi: cffi.FFI, path: str | os.PathLike[str]) -> tuple[Any, str]:
    text = os.fspath(path)
    if os.sep in text or os.path.exists(text):
        names = [text]
    else:
        names = [text, f"lib{text}.so", f"{text}.so"]
        found = ctypes.util.find_library(text)
        if found and found not in names:
            names.append(found)
    errors = []
    for name in names:
        try:
            return ffi.dlopen(name), name
        except OSError as exc:
            errors.append(str(exc))
    raise OSError(
        f"cannot load library {text!r}; tried {', '.join(map(repr, names))}: {errors[-1]}"
    )


# --- marshalling ----------------------------------------------------------------


def _param_names(text: str, func: str, count: int) -> list[str]:
    """Parameter names of ``func`` as written in the declarations (``argN`` if unnamed)."""
    names = [f"arg{i + 1}" for i in range(count)]
    m = re.search(rf"\b{re.escape(func)}\s*\(", text)
    if not m:
        return names
    depth, i, params, cur = 1, m.end(), [], ""
    while i < len(text) and depth:
        ch = text[i]
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 1 and ch == ",":
            params.append(cur)
            cur = ""
        elif depth:
            cur += ch
        i += 1
    params.append(cur)
    if len(params) != count:
        return names
    for k, p in enumerate(params):
        inner = re.search(r"\(\s*\*\s*(\w+)\s*\)", p)  # a function pointer: int (*cb)(int)
        word = (
            inner.group(1) if inner else (re.findall(r"(\w+)\s*(?:\[[^\]]*\]\s*)*$", p) or [""])[0]
        )
        words = p.replace("*", " ").split()
        if (
            word
            and word.isidentifier()
            and not keyword.iskeyword(word)
            and len(words) > 1
            and word
            not in (
                "const",
                "volatile",
                "unsigned",
                "signed",
                "int",
                "char",
                "long",
                "short",
                "double",
                "float",
                "void",
                "struct",
            )
        ):
            names[k] = word
    if len(set(names)) != len(names):
        return [f"arg{i + 1}" for i in range(count)]
    return names


# Per-call bookkeeping is one list: objects to keep alive for the call (cdata),
# write-backs as plain tuples (list, C array, n: after the call the list gets
# the array's n values; nothing else there is a tuple), and _CallbackState.
_Call = list[Any]


class _CallbackState(list[Any]):
    """[callable, first exception raised in it] for one call."""

    __slots__ = ()


def _c_name(tp: model.BaseTypeByIdentity) -> str:
    return tp.get_c_name().replace(" const", "").strip() if tp else "?"


def _type_text(tp: model.BaseTypeByIdentity) -> str:
    # with const, as declared; cffi's stubs do not list this (stable) private method
    text: str = tp._get_c_name()  # type: ignore[attr-defined]
    return text


class _Function:
    """Builds the converters of one declared function, once."""

    def __init__(
        self, lib: Library, name: str, tp: model.FunctionPtrType, raw_fn: Any, names: list[str]
    ) -> None:
        self.lib, self.name, self.tp, self.raw, self.names = lib, name, tp, raw_fn, names
        self.ffi = lib.ffi

    # Errors -----------------------------------------------------------------

    def type_error(self, i: int, tp: Any, value: object, expected: str) -> TypeError:
        return TypeError(
            f"{self.name}() argument '{self.names[i]}' ({_type_text(tp)}) must be "
            f"{expected}, not {type(value).__name__}"
        )

    def readonly_error(self, i: int, tp: Any, value: object) -> TypeError:
        return TypeError(
            f"{self.name}() argument '{self.names[i]}' ({_type_text(tp)}) needs a "
            f"writable buffer; the {type(value).__name__} given is read-only"
        )

    def scalar_error(self, args: tuple[Any, ...], exc: Exception) -> Exception:
        """Which primitive argument cffi refused, and why."""
        ffi = self.ffi
        for i, (tp, value) in enumerate(zip(self.tp.args, args)):
            if not isinstance(tp, model.PrimitiveType):
                continue
            ctype = ffi.typeof(tp.name + " *")
            try:
                if value is None:
                    raise TypeError
                ffi.new(ctype, value)
            except TypeError:
                kind = (
                    "float"
                    if tp.name in _FLOATS
                    else "bool"
                    if tp.name == "_Bool"
                    else "bytes of length 1"
                    if tp.name == "char"
                    else "int"
                )
                return self.type_error(i, tp, value, kind)
            except OverflowError:
                return OutOfRangeError(
                    f"{self.name}() argument '{self.names[i]}' = {value!r} does not fit {tp.name}",
                    None,
                )
        return exc

    # Converters: f(value, call) -> C argument ---------------------------------

    def converter(self, i: int, tp: Any) -> Callable[[Any, _Call], Any] | None:
        ffi = self.ffi
        if isinstance(tp, model.PrimitiveType):
            return None  # cffi converts and checks; scalar_error names the culprit
        if isinstance(tp, model.StructType) and tp.name in SLICES:
            return self.slice_converter(i, tp, tp, by_value=True, const=True)
        if isinstance(tp, model.PointerType):
            item, const = tp.totype, bool(tp.quals & model.Q_CONST)
            if isinstance(item, model.PrimitiveType) and item.name == "char":
                return self.string_converter(i, tp, const)
            if isinstance(item, model.StructType) and item.name in SLICES:
                return self.slice_converter(i, tp, item, by_value=False, const=const)
            if isinstance(item, model.PrimitiveType):
                return self.array_converter(i, tp, item.name, const)
            if isinstance(item, model.StructType) and item.fldnames is not None:
                return self.struct_converter(i, tp, item, by_value=False)
            if isinstance(item, model.VoidType):
                return self.void_converter(i, tp, const)
        if isinstance(tp, model.StructType) and tp.fldnames is not None:
            return self.struct_converter(i, tp, tp, by_value=True)
        if isinstance(tp, model.FunctionPtrType):
            return self.callback_converter(i, tp)
        ctype = ffi.typeof(_c_name(tp))

        def passthrough(value: Any, call: _Call) -> Any:
            if isinstance(value, ffi.CData) and ffi.typeof(value) is ctype:
                return value
            expected = f"a cdata {ctype.cname!r}" + (" or None" if ctype.kind == "pointer" else "")
            raise self.type_error(i, tp, value, expected)

        # Any other pointer (char **, struct pointers to pointers...): None is NULL too.
        return self.nullable(passthrough) if ctype.kind == "pointer" else passthrough

    def nullable(self, convert: Callable[[Any, _Call], Any]) -> Callable[[Any, _Call], Any]:
        """A pointer parameter's converter: None is NULL and a cdata passes as it is."""
        ffi = self.ffi

        def pointer(value: Any, call: _Call) -> Any:
            if value is None:
                return ffi.NULL
            if isinstance(value, ffi.CData):
                return value
            return convert(value, call)

        return pointer

    def string_converter(self, i: int, tp: Any, const: bool) -> Callable[[Any, _Call], Any]:
        ffi = self.ffi

        def convert(value: Any, call: _Call) -> Any:
            if isinstance(value, str):
                data = self.encode(i, tp, value)
            elif isinstance(value, (bytes, bytearray)):
                data = bytes(value)
            else:
                raise self.type_error(i, tp, value, "str or bytes")
            nul = data.find(b"\0")
            if nul >= 0:
                raise ValueError(
                    f"{self.name}() argument '{self.names[i]}' contains a NUL "
                    f"character at byte {nul}"
                )
            if const:
                return data  # cffi passes a pointer to the bytes' own NUL-terminated buffer
            buf = ffi.new("char[]", data)  # C may write: a private copy
            return buf

        return self.nullable(convert)

    def encode(self, i: int, tp: Any, value: str) -> bytes:
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{self.name}() argument '{self.names[i]}' cannot be encoded as "
                f"UTF-8: {exc.reason} at index {exc.start}"
            ) from None

    def buffer_or_none(self, value: Any, fmt: str, const: bool, i: int, tp: Any) -> Any:
        """A zero-copy C array over a buffer of the right item type, or None if not a buffer."""
        if isinstance(value, (list, tuple, str)):
            return None
        try:
            view = memoryview(value)
        except TypeError:
            return None
        with view:
            code = view.format[1:] if view.format[:1] in _NATIVE else view.format
            want = _KIND.get(fmt), ctypes_size(fmt)
            if (_KIND.get(code), view.itemsize) != want or not view.c_contiguous:
                item = _FMT_CTYPE[fmt]
                raise self.type_error(i, tp, value, f"a list or a contiguous buffer of {item}")
            if not const and view.readonly:
                raise self.readonly_error(i, tp, value)
            n = view.nbytes // view.itemsize
        item = _FMT_CTYPE[fmt]
        writable: Any = not const  # a bool, where cffi's stubs know only the literals
        return self.ffi.from_buffer(f"{item}[]", value, require_writable=writable), n

    def new_array(self, item: str, values: Any, i: int, tp: Any, where: str = "") -> Any:
        try:
            return self.ffi.new(f"{item}[]", values)
        except (TypeError, OverflowError):
            if not isinstance(values, (list, tuple)):
                raise self.type_error(i, tp, values, "a list or a buffer") from None
            for k, x in enumerate(values):
                try:
                    if x is None:
                        raise TypeError
                    self.ffi.new(f"{item}[1]", [x])
                except TypeError:
                    raise TypeError(
                        f"{self.name}() argument '{self.names[i]}'{where} item {k} "
                        f"must be {'float' if item in _FLOATS else 'int'}, not "
                        f"{type(x).__name__}"
                    ) from None
                except OverflowError:
                    raise OutOfRangeError(
                        f"{self.name}() argument '{self.names[i]}'{where} "
                        f"item {k} = {x!r} does not fit {item}",
                        None,
                    ) from None
            raise

    def array_converter(
        self, i: int, tp: Any, item: str, const: bool
    ) -> Callable[[Any, _Call], Any]:
        fmt = _FORMAT_OF.get(item)

        def convert(value: Any, call: _Call) -> Any:
            if fmt is not None:
                got = self.buffer_or_none(value, fmt, const, i, tp)
                if got is not None:
                    call.append(got[0])
                    return got[0]
            if not isinstance(value, list) and not (const and isinstance(value, tuple)):
                raise self.type_error(
                    i, tp, value, "a list" + (" or tuple" if const else "") + " or a buffer"
                )
            buf = self.new_array(item, value, i, tp)
            if not const:
                n = len(value)
                call.append((value, buf, n))  # a write-back
            return buf

        return self.nullable(convert)

    def vec(
        self, kind: str, value: Any, const: bool, call: _Call, i: int, tp: Any, where: str = ""
    ) -> tuple[Any, int]:
        """(pointer, length) for a pyffi_vec_i64/f64 element array, write-back registered."""
        item = "int64_t" if kind == "pyffi_vec_i64" else "double"
        got: tuple[Any, int] | None = self.buffer_or_none(value, _FORMAT_OF[item], const, i, tp)
        if got is not None:
            call.append(got[0])
            return got
        if not isinstance(value, list) and not (const and isinstance(value, tuple)):
            raise self.type_error(
                i, tp, value, f"a list of {'ints' if item == 'int64_t' else 'floats'} or a buffer"
            )
        buf = self.new_array(item, value, i, tp, where)
        call.append(buf)
        n = len(value)
        if not const:
            call.append((value, buf, n))  # a write-back
        return buf, n

    def slice_value(
        self, kind: str, value: Any, const: bool, call: _Call, i: int, tp: Any
    ) -> tuple[Any, int]:
        """The (ptr, len) initializer of slice type ``kind`` for ``value``."""
        ffi = self.ffi
        if kind == "pyffi_str":
            if isinstance(value, str):
                data = self.encode(i, tp, value)
            elif isinstance(value, (bytes, bytearray)):
                data = bytes(value)
            else:
                raise self.type_error(i, tp, value, "str")
            buf = ffi.from_buffer(_CHARS, data)  # zero-copy; holds the bytes alive
            call.append(buf)
            return buf, len(data)
        if kind == "pyffi_bytes":
            if isinstance(value, str):
                raise self.type_error(i, tp, value, "a bytes-like object")
            try:
                writable: Any = not const  # a bool, where cffi's stubs know only the literals
                buf = ffi.from_buffer("uint8_t[]", value, require_writable=writable)
            except TypeError:
                raise self.type_error(i, tp, value, "a bytes-like object") from None
            except BufferError:
                raise self.readonly_error(i, tp, value) from None
            call.append(buf)
            return buf, len(buf)
        if kind in ("pyffi_vec_i64", "pyffi_vec_f64"):
            return self.vec(kind, value, const, call, i, tp)
        if not isinstance(value, list) and not (const and isinstance(value, tuple)):
            raise self.type_error(i, tp, value, "a list")
        if kind == "pyffi_vec_str":
            items = []
            for k, s in enumerate(value):
                if not isinstance(s, str):
                    raise TypeError(
                        f"{self.name}() argument '{self.names[i]}' item {k} must be "
                        f"str, not {type(s).__name__}"
                    )
                items.append(self.slice_value("pyffi_str", s, True, call, i, tp))
            arr = ffi.new("pyffi_str[]", items)
            call.append(arr)
            return arr, len(items)
        # pyffi_vec_vec_i64
        inner = [
            self.vec("pyffi_vec_i64", row, const, call, i, tp, where=f" row {k}")
            for k, row in enumerate(value)
        ]
        arr = ffi.new("pyffi_vec_i64[]", inner)
        call.append(arr)
        return arr, len(inner)

    def slice_converter(
        self, i: int, tp: Any, struct: Any, *, by_value: bool, const: bool
    ) -> Callable[[Any, _Call], Any]:
        ffi, kind = self.ffi, struct.name

        box_type = ffi.typeof(f"{kind} *")

        def convert(value: Any, call: _Call) -> Any:
            if isinstance(value, ffi.CData):  # a struct by value: passed as it is
                return value
            init = self.slice_value(kind, value, const, call, i, tp)
            if by_value:
                return ffi.new(box_type, init)[0]
            # For a pointer parameter cffi makes a one-struct temporary array
            # from a list, for the call: cheaper than a box of our own.
            return [init]

        if by_value:
            return convert
        general = self.nullable(convert)
        # Fast paths for the common cases, straight to _cffi_backend; any
        # other input, or any error, goes through the general path above.
        if kind == "pyffi_str":

            def fast_str(value: Any, call: _Call) -> Any:
                if type(value) is str:
                    try:
                        data = value.encode()  # UTF-8
                    except UnicodeEncodeError:
                        return general(value, call)
                    return [(from_buffer(_CHARS, data, False), len(data))]
                return general(value, call)

            return fast_str
        if kind in ("pyffi_vec_i64", "pyffi_vec_f64"):
            array_type = ffi.typeof("int64_t[]" if kind == "pyffi_vec_i64" else "double[]")

            def fast_vec(value: Any, call: _Call) -> Any:
                if type(value) is list:
                    try:
                        buf = newp(array_type, value)
                    except (TypeError, OverflowError):
                        return general(value, call)  # raises, naming the item
                    n = len(value)
                    if not const:
                        call.append((value, buf, n))  # a write-back
                    return [(buf, n)]
                return general(value, call)

            return fast_vec
        return general

    def struct_converter(
        self, i: int, tp: Any, struct: Any, *, by_value: bool
    ) -> Callable[[Any, _Call], Any]:
        ffi = self.ffi
        ctype = ffi.typeof(_c_name(struct) + " *")

        def convert(value: Any, call: _Call) -> Any:
            if isinstance(value, ffi.CData):  # a struct by value: passed as it is
                return value
            if not isinstance(value, (dict, tuple)):
                raise self.type_error(i, tp, value, "a dict of its fields or a tuple")
            try:
                box = ffi.new(ctype, value)
            except (TypeError, OverflowError, ValueError, KeyError) as exc:
                raise type(exc)(
                    f"{self.name}() argument '{self.names[i]}' ({_type_text(tp)}): {exc}"
                ) from None
            call.append(box)
            return box[0] if by_value else box

        return convert if by_value else self.nullable(convert)

    def void_converter(self, i: int, tp: Any, const: bool) -> Callable[[Any, _Call], Any]:
        ffi = self.ffi

        def convert(value: Any, call: _Call) -> Any:
            try:
                writable: Any = not const  # a bool, where cffi's stubs know only the literals
                buf = ffi.from_buffer(value, require_writable=writable)
            except TypeError:
                raise self.type_error(i, tp, value, "a buffer, a cdata or None") from None
            except BufferError:
                raise self.readonly_error(i, tp, value) from None
            call.append(buf)
            return buf

        return self.nullable(convert)

    def callback_converter(self, i: int, tp: Any) -> Callable[[Any, _Call], Any]:
        ffi = self.ffi
        ctype = ffi.typeof(_c_name(tp))
        arg_kinds = [
            (
                "str"
                if isinstance(a, model.PointerType)
                and isinstance(a.totype, model.PrimitiveType)
                and a.totype.name == "char"
                else "pyffi_str"
                if isinstance(a, model.StructType) and a.name == "pyffi_str"
                else ""
            )
            for a in tp.args
        ]

        def convert(value: Any, call: _Call) -> Any:
            if value is None:
                return ffi.NULL
            if isinstance(value, ffi.CData):
                return value
            if not callable(value):
                raise self.type_error(i, tp, value, "callable")
            state = _CallbackState([value, None])

            def entry(*args: Any) -> Any:
                if state[1] is not None:
                    return None  # already failed: C gets the error value until it returns
                try:
                    return value(*(_callback_arg(ffi, k, a) for k, a in zip(arg_kinds, args)))
                except BaseException as exc:
                    state[1] = exc
                    return None

            def on_error(exc_type: Any, exc: BaseException | None, tb: Any) -> None:
                if state[1] is None:  # the result did not convert to the C return type
                    state[1] = exc

            cb = ffi.callback(ctype, entry, onerror=on_error)
            call.append(cb)
            call.append(state)
            return cb

        return convert

    # The call ---------------------------------------------------------------------

    def build(self) -> Callable[..., Any]:
        raw, name, names = self.raw, self.name, self.names
        tp = self.tp
        convs = [self.converter(i, a) for i, a in enumerate(tp.args)]
        result = self.result_converter()
        if tp.ellipsis:
            raise DeclarationError(
                f"{name}: variadic functions are not marshalled; use Library.raw.{name}"
            )
        # One generated function per C function: fixed parameters (Python's
        # own argument-count errors), each converter called directly. Locals
        # carry a _pyffi_ prefix so no C parameter name can shadow them.
        lines = [f"def {name}({', '.join(names)}):"]
        marshal = any(conv is not None for conv in convs)
        if marshal:
            lines.append("    _pyffi_c = []")
        cargs = []
        for k, (conv, pname) in enumerate(zip(convs, names)):
            if conv is None:
                cargs.append(pname)
            else:
                lines.append(f"    _pyffi_a{k} = _pyffi_conv{k}({pname}, _pyffi_c)")
                cargs.append(f"_pyffi_a{k}")
        comma = "," if len(names) == 1 else ""
        lines += [
            "    try:",
            f"        _pyffi_value = _pyffi_raw({', '.join(cargs)})",
            "    except (TypeError, OverflowError) as _pyffi_exc:",
            f"        raise _pyffi_fail(({', '.join(names)}{comma}), _pyffi_exc) from None",
        ]
        if marshal:
            lines += ["    if _pyffi_c:", "        _pyffi_finish(_pyffi_c)"]
        lines.append(
            "    return _pyffi_value"
            if result is None
            else "    return _pyffi_result(_pyffi_value)"
        )
        namespace: dict[str, Any] = {
            "_pyffi_raw": raw,
            "_pyffi_fail": self.scalar_error,
            "_pyffi_finish": _finish,
            "_pyffi_result": result,
        }
        namespace.update((f"_pyffi_conv{k}", conv) for k, conv in enumerate(convs))
        exec("\n".join(lines), namespace)
        return namespace[name]  # type: ignore[no-any-return]

    def result_converter(self) -> Callable[[Any], Any] | None:
        ffi, tp, lib = self.ffi, self.tp.result, self.lib
        free_name = lib._owned.get(self.name)
        free = getattr(lib.raw, free_name) if free_name else None
        if isinstance(tp, (model.PrimitiveType, model.VoidType)):
            return None
        if isinstance(tp, model.PointerType):
            item = tp.totype
            if isinstance(item, model.PrimitiveType) and item.name == "char":

                def text(ptr: Any) -> str | None:
                    if ptr == ffi.NULL:
                        return None
                    try:
                        raw_text: Any = ffi.string(ptr)  # bytes for a char * (str for wchar_t)
                        return raw_text.decode("utf-8", "surrogateescape")  # type: ignore[no-any-return]
                    finally:
                        if free is not None:
                            free(ptr)

                return text
            if free is not None:

                def owned(ptr: Any) -> Any:
                    return None if ptr == ffi.NULL else ffi.gc(ptr, free)

                return owned
            return None
        if isinstance(tp, model.StructType):
            free_by_pointer = False
            if free_name:
                free_tp = lib._functions[free_name][0]
                free_by_pointer = bool(free_tp.args) and isinstance(
                    free_tp.args[0], model.PointerType
                )

            def record(value: Any) -> Any:
                try:
                    return _to_python(ffi, tp, value)
                finally:
                    if free is not None:
                        free(ffi.addressof(value) if free_by_pointer else value)

            return record
        return None


_FMT_CTYPE = {
    "b": "int8_t",
    "B": "uint8_t",
    "h": "int16_t",
    "H": "uint16_t",
    "i": "int32_t",
    "I": "uint32_t",
    "q": "int64_t",
    "Q": "uint64_t",
    "f": "float",
    "d": "double",
    "?": "_Bool",
}
_FORMAT_OF: dict[str, str] = {}


def ctypes_size(fmt: str) -> int:
    return {"b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "f": 4, "d": 8, "?": 1}[
        fmt
    ]


def _init_formats() -> None:
    probe = cffi.FFI()
    for cname in list(_INTS) + list(_FLOATS):
        if cname == "char":
            continue
        size = probe.sizeof(cname)
        if cname in _FLOATS:
            _FORMAT_OF[cname] = _FLOATS[cname]
        elif cname == "_Bool":
            _FORMAT_OF[cname] = "?"
        else:
            signed = int(probe.cast(cname, -1)) < 0
            _FORMAT_OF[cname] = (
                {1: "b", 2: "h", 4: "i", 8: "q"}[size].upper()
                if not signed
                else {1: "b", 2: "h", 4: "i", 8: "q"}[size]
            )


_init_formats()


_backend = cffi.FFI()._backend  # type: ignore[attr-defined]  # the _cffi_backend module: newp/from_buffer/unpack, no
newp, from_buffer = _backend.newp, _backend.from_buffer
_CHARS = _backend.new_array_type(
    _backend.new_pointer_type(  # string parsing per call
        _backend.new_primitive_type("char")
    ),
    None,
)


def _finish(c: list[Any]) -> None:
    """After the C call: re-raise a callback's exception, else write lists back."""
    for item in c:
        if type(item) is _CallbackState and item[1] is not None:
            error, item[1] = item[1], None
            raise error
    for item in c:
        if type(item) is tuple:
            lst, buf, count = item
            lst[:] = _backend.unpack(buf, count)  # the same list object, C's values


def _callback_arg(ffi: Any, kind: str, value: Any) -> Any:
    if kind == "str":
        return None if value == ffi.NULL else ffi.string(value).decode("utf-8", "surrogateescape")
    if kind == "pyffi_str":
        return ffi.unpack(value.ptr, value.len).decode("utf-8", "surrogateescape")
    return value


def _to_python(ffi: Any, tp: Any, value: Any) -> Any:
    """A C value of model type ``tp`` as a Python value (copied)."""
    if isinstance(tp, model.PrimitiveType):
        return value
    if isinstance(tp, model.StructType):
        if tp.name in SLICES:
            return _slice_to_python(ffi, tp.name, value)
        fields = {
            f: _to_python(ffi, ft, getattr(value, f)) for f, ft in zip(tp.fldnames, tp.fldtypes)
        }
        return Record(tp.name.lstrip("$"), **fields)
    if isinstance(tp, model.PointerType):
        item = tp.totype
        if isinstance(item, model.PrimitiveType) and item.name == "char":
            return (
                None if value == ffi.NULL else ffi.string(value).decode("utf-8", "surrogateescape")
            )
    if isinstance(tp, model.ArrayType):
        return [_to_python(ffi, tp.item, v) for v in value]
    return value


def _slice_to_python(ffi: Any, kind: str, value: Any) -> Any:
    if value.ptr == ffi.NULL:
        return "" if kind == "pyffi_str" else b"" if kind == "pyffi_bytes" else []
    if kind == "pyffi_str":
        return ffi.unpack(value.ptr, value.len).decode("utf-8", "surrogateescape")
    if kind == "pyffi_bytes":
        return ffi.unpack(ffi.cast("char *", value.ptr), value.len)
    if kind in ("pyffi_vec_i64", "pyffi_vec_f64"):
        return ffi.unpack(value.ptr, value.len)
    if kind == "pyffi_vec_str":
        return [_slice_to_python(ffi, "pyffi_str", value.ptr[k]) for k in range(value.len)]
    return [_slice_to_python(ffi, "pyffi_vec_i64", value.ptr[k]) for k in range(value.len)]


# --- the library ------------------------------------------------------------------


class Library:
    """A shared library opened by :func:`load`; its declared functions as attributes.

    ``lib.f(...)`` converts each argument by its declared C type and the
    result back (see :func:`load`). ``ffi`` and ``raw`` are the underlying
    cffi objects, for anything the marshalling does not cover.
    """

    def __init__(
        self, ffi: cffi.FFI, raw: Any, name: str, text: str, owned: Mapping[str, str] | None
    ) -> None:
        self.ffi = ffi
        self.raw = raw
        self.path = name
        self._text = text
        self._functions: dict[str, tuple[model.FunctionPtrType, Any]] = {
            key.split(" ", 1)[1]: value
            # cffi's parsed declarations (private; its stubs do not list them)
            for key, value in ffi._parser._declarations.items()  # type: ignore[attr-defined]
            if key.startswith("function ")
        }
        self._owned = dict(owned or {})
        for func, free in self._owned.items():
            for what, fname in (("function", func), ("free function", free)):
                if fname not in self._functions:
                    raise ValueError(
                        f"owned={{{func!r}: {free!r}}}: {what} {fname!r} is not declared"
                    )
        self._wrapped: dict[str, Callable[..., Any]] = {}

    def functions(self) -> list[str]:
        """Every function the declarations name, in declaration order."""
        return list(self._functions)

    def missing(self) -> list[str]:
        """The declared functions the library does not export."""
        gone = []
        for name in self._functions:
            try:
                getattr(self.raw, name)
            except AttributeError:
                gone.append(name)
        return gone

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in self.__dict__.get("_functions", {}):
            raise AttributeError(
                f"{self.__dict__.get('path', 'library')!r} has no declared function {name!r}"
            )
        try:
            raw_fn = getattr(self.raw, name)
        except AttributeError:
            raise AttributeError(
                f"function {name!r} is declared but the library {self.path!r} does not export it"
            ) from None
        tp = self._functions[name][0]
        fn = _Function(self, name, tp, raw_fn, _param_names(self._text, name, len(tp.args))).build()
        self.__dict__[name] = fn  # the next lookups skip __getattr__
        return fn

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._functions))

    def __repr__(self) -> str:
        return f"<pyffi.Library {self.path!r}: {len(self._functions)} functions>"


def load(
    path: str | os.PathLike[str],
    header: str | os.PathLike[str] | None = None,
    *,
    cdef: str | None = None,
    owned: Mapping[str, str] | None = None,
    include_dirs: tuple[str | os.PathLike[str], ...] | list[Any] = (),
    defines: Mapping[str, object] | None = None,
) -> Library:
    """Open a C-ABI shared library (C or Rust) and marshal calls from its declarations.

    ``header`` is a C header, run through the C preprocessor (with
    :func:`pyffi.get_include` and ``include_dirs`` on the include path and
    ``defines`` as ``-D``); only declarations from the header itself and
    from files under ``include_dirs`` are kept. Or ``cdef`` is the
    declarations as text (no compiler needed). The slice types of
    ``pyffi.h`` (``pyffi_str``, ``pyffi_vec_i64``, ...) are always known.

    ``path`` is a file or a bare library name (``"m"`` tries ``m``,
    ``libm.so``, ``m.so`` and ``ctypes.util.find_library``).
    ``owned={"make": "free"}``: results of ``make`` belong to Python and go
    back through ``free`` (a ``char *`` is copied to str and freed at once;
    other pointers get ``ffi.gc``; a struct's pointer fields are freed after
    conversion).

    >>> lib = pyffi.load("m", cdef="double cos(double x);")
    >>> lib.cos(0.0)
    1.0
    """
    if header is not None and cdef is not None:
        raise TypeError("load() takes header or cdef, not both")
    if header is not None:
        text, where = _preprocess(Path(header), tuple(map(os.fspath, include_dirs)), defines)
        origin = os.fspath(header)
    elif cdef is not None:
        if not isinstance(cdef, str):
            raise TypeError(f"load() argument 'cdef' must be str, not {type(cdef).__name__}")
        text, where, origin = cdef, None, "<cdef>"
    else:
        raise DeclarationError("load() needs the declarations: a header file or cdef text")
    text = _strip_gnu(text)
    ffi = _declare(text, where, origin)
    raw, name = _open(ffi, path)
    return Library(ffi, raw, name, text, owned)
