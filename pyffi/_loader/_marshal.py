"""Marshalling for pyffi.load: each C parameter type's converter, results back to Python.

The C type of every parameter decides how a Python argument is converted
(see :func:`pyffi.load`); lists passed to non-const pointers get C's changes
written back, the same list object.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cffi
from cffi import model

from .._core.errors import DeclarationError, OutOfRangeError
from .._core.slices import SLICES
from ._callbacks import Callback

if TYPE_CHECKING:
    from ._library import Library


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
# The 1-byte item types: a pointer to one takes str (UTF-8), bytes or a byte buffer.
_BYTES = frozenset({"char", "signed char", "unsigned char", "int8_t", "uint8_t"})
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
# the array's n values; nothing else there is a tuple), and the Callbacks to
# retire when the call returns.
_Call = list[Any]


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
        self.ffi = lib._ffi

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
        if isinstance(tp, (model.PrimitiveType, model.EnumType)):
            return None  # cffi converts and checks; scalar_error names the culprit
        if isinstance(tp, model.StructType) and tp.name in SLICES:
            return self.slice_converter(i, tp, tp, by_value=True, const=True)
        if isinstance(tp, model.PointerType):
            item, const = tp.totype, bool(tp.quals & model.Q_CONST)
            if isinstance(item, model.PrimitiveType) and item.name in _BYTES:
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
        """``char *`` and the other 1-byte pointers: str (encoded), bytes, byte buffers."""
        ffi = self.ffi
        item = _c_name(tp.totype)
        chars = item == "char"
        lists = None if chars else self.array_converter(i, tp, item, const)

        def convert(value: Any, call: _Call) -> Any:
            if isinstance(value, str):
                data = self.encode(i, tp, value)
                nul = data.find(b"\0")
                if nul >= 0:
                    raise ValueError(
                        f"{self.name}() argument '{self.names[i]}' contains a NUL "
                        f"character at byte {nul}"
                    )
            elif isinstance(value, bytes):
                data = value
            elif lists is not None and isinstance(value, (list, tuple)):
                return lists(value, call)
            else:
                got = self.bytes_buffer(i, tp, item, value, const)
                call.append(got)
                return got
            if const and chars:
                return data  # cffi passes a pointer to the bytes' own NUL-terminated buffer
            if const and data is value:
                # the bytes' own buffer, zero-copy: it lives as long as the caller's
                # bytes object, so an API that keeps the pointer (libyaml's input) reads it
                view = ffi.from_buffer(f"{item}[]", data)
                call.append(view)
                return view
            buf = ffi.new("char[]", data)  # NUL-terminated; C may write: a private copy
            call.append(buf)
            return buf if chars else ffi.cast(f"{item} *", buf)

        return self.nullable(convert)

    def bytes_buffer(self, i: int, tp: Any, item: str, value: Any, const: bool) -> Any:
        """A zero-copy ``item[]`` over a buffer of 1-byte items (bytearray, memoryview...)."""
        try:
            view = memoryview(value)
        except TypeError:
            raise self.type_error(i, tp, value, "str, bytes or a buffer of bytes") from None
        with view:
            if view.itemsize != 1 or not view.c_contiguous:
                raise self.type_error(
                    i, tp, value, "str, bytes or a contiguous buffer of 1-byte items"
                )
            if not const and view.readonly:
                raise self.readonly_error(i, tp, value)
        writable: Any = not const
        return self.ffi.from_buffer(f"{item}[]", value, require_writable=writable)

    def encode(self, i: int, tp: Any, value: str) -> bytes:
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"{self.name}() argument '{self.names[i]}' cannot be encoded as "
                f"UTF-8: {exc.reason} at index {exc.start}"
            ) from None

    def buffer_or_none(
        self, value: Any, fmt: str, const: bool, i: int, tp: Any, cname: str | None = None
    ) -> Any:
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
            got = _KIND.get(code), view.itemsize
            if want[1] == 1 and view.itemsize == 1 and got[0] != "float":
                got = want  # char, signed char, unsigned char, int8_t, uint8_t: all bytes
            if got != want or not view.c_contiguous:
                item = _FMT_CTYPE[fmt]
                raise self.type_error(i, tp, value, f"a list or a contiguous buffer of {item}")
            if not const and view.readonly:
                raise self.readonly_error(i, tp, value)
            n = view.nbytes // view.itemsize
        item = (
            cname or _FMT_CTYPE[fmt]
        )  # the parameter's own type: cffi tells uint8_t from unsigned char
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
                got = self.buffer_or_none(value, fmt, const, i, tp, item)
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
        ffi, lib = self.ffi, self.lib
        ctype = ffi.typeof(_c_name(tp))
        kinds = callback_kinds(tp)
        mode, handle, enums = self.callback_policy(i)
        where = f"{self.name}() argument '{self.names[i]}'"
        registry = lib._registry

        def convert(value: Any, call: _Call) -> Any:
            if isinstance(value, Callback):
                if value.ctype is not ctype:
                    raise self.type_error(
                        i, tp, value, f"a callable or a Callback of {ctype.cname}"
                    )
            elif not callable(value):
                raise self.type_error(i, tp, value, "callable")
            slot = None
            if mode == "handle":
                slot = (self.name, i, _address(ffi, call[0]), *(call[1 + k] for k in range(enums)))
            cb = registry.get(value, ctype, where, kinds, mode, slot)
            if mode == "call" and cb is not value:
                call.append(cb)  # retired when the call returns (see _finish)
            return cb.cdata

        converter = self.nullable(convert)  # None is NULL, a cdata passes as it is
        if mode == "handle":
            # The slot is known only from the other arguments: the generated
            # function passes (handle, enum values...) in front of the list.
            converter.needs = (handle, self.enum_params(i))  # type: ignore[attr-defined]
        return converter

    def enum_params(self, i: int) -> list[int]:
        return [k for k, a in enumerate(self.tp.args) if k != i and isinstance(a, model.EnumType)]

    def callback_policy(self, i: int) -> tuple[str, int, int]:
        """(mode, handle parameter, number of enum parameters) for callback parameter i."""
        mode = self.lib._callback_modes.get(self.name)
        handle = self.handle_param(i)
        if mode is None:
            mode = "handle" if handle >= 0 else "library"
        if mode == "handle" and handle < 0:
            raise DeclarationError(
                f"callbacks={{{self.name!r}: 'handle'}}: {self.name}() has no handle "
                "parameter (a pointer to a struct, union or void) to tie its callback to"
            )
        return mode, handle, len(self.enum_params(i))

    def handle_param(self, i: int) -> int:
        """The first pointer-to-struct/union/void parameter other than callback i, or -1."""
        for k, a in enumerate(self.tp.args):
            if k == i or not isinstance(a, model.PointerType):
                continue
            item = a.totype
            if isinstance(item, (model.StructType, model.UnionType, model.VoidType)) and not (
                isinstance(item, model.StructType) and item.name in SLICES
            ):
                return k
        return -1

    # The call ---------------------------------------------------------------------

    def build(self) -> Callable[..., Any]:
        raw, name, names = self.raw, self.name, self.names
        tp = self.tp
        convs = [self.converter(i, a) for i, a in enumerate(tp.args)]
        result = self.result_converter()
        # One generated function per C function: fixed parameters (Python's
        # own argument-count errors), each converter called directly. Locals
        # carry a _pyffi_ prefix so no C parameter name can shadow them.
        params = list(names)
        if tp.ellipsis:
            params.append("*_pyffi_va")
        lines = [f"def {name}({', '.join(params)}):"]
        marshal = any(conv is not None for conv in convs) or tp.ellipsis
        if marshal:
            lines.append("    _pyffi_c = []")
        cargs = []
        for k, (conv, pname) in enumerate(zip(convs, names)):
            if conv is None:
                cargs.append(pname)
                continue
            needs = getattr(conv, "needs", None)
            if needs is not None:  # a callback tied to a handle: the slot's key first
                handle, enums = needs
                extra = [names[handle], *(names[e] for e in enums)]
                lines.append(f"    _pyffi_k{k} = [{', '.join(extra)}]")
                lines.append(f"    _pyffi_a{k} = _pyffi_conv{k}({pname}, _pyffi_k{k})")
                lines.append(f"    _pyffi_c += _pyffi_k{k}[{len(extra)}:]")
            else:
                lines.append(f"    _pyffi_a{k} = _pyffi_conv{k}({pname}, _pyffi_c)")
            cargs.append(f"_pyffi_a{k}")
        if tp.ellipsis:
            lead = ", ".join(names)
            lines.append(
                f"    _pyffi_v = _pyffi_promote(_pyffi_va, _pyffi_c, ({lead}{',' if lead else ''}))"
            )
            cargs.append("*_pyffi_v")
        comma = "," if len(names) == 1 else ""
        lines += [
            "    try:",
            f"        _pyffi_value = _pyffi_raw({', '.join(cargs)})",
            "    except (TypeError, OverflowError) as _pyffi_exc:",
            f"        raise _pyffi_fail(({', '.join(names)}{comma}), _pyffi_exc) from None",
            "    if _pyffi_late:",
            "        _pyffi_reraise()",
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
            "_pyffi_late": self.lib._late,
            "_pyffi_reraise": self.lib._reraise,
            "_pyffi_promote": self.promote,
        }
        namespace.update((f"_pyffi_conv{k}", conv) for k, conv in enumerate(convs))
        code = compile("\n".join(lines), self.lib._code_name, "exec")
        exec(code, namespace)
        return namespace[name]  # type: ignore[no-any-return]

    def promote(self, values: tuple[Any, ...], call: _Call, lead: tuple[Any, ...]) -> list[Any]:
        """The variadic arguments as cdata, by the documented promotion rule."""
        ffi = self.ffi
        out: list[Any] = []
        n = len(self.tp.args)
        for k, v in enumerate(values):
            if isinstance(v, ffi.CData):
                out.append(v)
            elif isinstance(v, Callback):
                ints = [a for a in (*lead[1:], *values[:k]) if type(a) is int]
                slot = (self.name, n + k, _address(ffi, lead[0]) if lead else None, *ints)
                self.lib._registry.slots_keep(slot, v)
                out.append(v.cdata)
            elif v is None:
                out.append(ffi.NULL)
            elif isinstance(v, bool):
                out.append(ffi.cast("int", v))
            elif isinstance(v, int):
                for ctype in ("int", "long long", "unsigned long long"):
                    lo, hi = _RANGES[ctype]
                    if lo <= v <= hi:
                        out.append(ffi.cast(ctype, v))
                        break
                else:
                    raise OutOfRangeError(
                        f"{self.name}() variadic argument {k + 1} = {v!r} fits no C integer "
                        "type (long long or unsigned long long)",
                        None,
                    )
            elif isinstance(v, float):
                out.append(ffi.cast("double", v))
            elif isinstance(v, (str, bytes)):
                data = v.encode("utf-8") if isinstance(v, str) else v
                nul = data.find(b"\0")
                if isinstance(v, str) and nul >= 0:
                    raise ValueError(
                        f"{self.name}() variadic argument {k + 1} contains a NUL character "
                        f"at byte {nul}"
                    )
                buf = ffi.new("char[]", data)
                call.append(buf)
                out.append(buf)
            elif callable(v):
                raise TypeError(
                    f"{self.name}() variadic argument {k + 1}: a callable has no C type "
                    "here; pass lib.callback(fn, 'C function pointer type')"
                )
            else:
                raise TypeError(
                    f"{self.name}() variadic argument {k + 1} must be int, float, str, "
                    f"bytes, None, a Callback or a cdata, not {type(v).__name__}"
                )
        return out

    def result_converter(self) -> Callable[[Any], Any] | None:
        ffi, tp, lib = self.ffi, self.tp.result, self.lib
        free_name = lib._owned.get(self.name)
        free = lib._function(free_name) if free_name else None
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
            how, fields = lib._owned_struct.get(self.name, ("", []))

            def record(value: Any) -> Any:
                try:
                    return _to_python(ffi, tp, value)
                finally:
                    if how == "address":
                        free(ffi.addressof(value))  # type: ignore[misc]
                    elif how == "value":
                        free(value)  # type: ignore[misc]
                    elif how == "fields":
                        for f in fields:
                            ptr = getattr(value, f)
                            if ptr != ffi.NULL:
                                free(ptr)  # type: ignore[misc]

            return record
        return None


def owned_struct_rule(
    ffi: Any, make: str, struct: Any, free: str, free_tp: Any
) -> tuple[str, list[str]]:
    """How ``free`` releases the struct ``make`` returns by value.

    ``"address"``: free takes a pointer to the struct; ``"value"``: the
    struct itself; ``"fields"``: the type of some of its pointer fields
    (called once on each non-NULL one).
    """
    if len(free_tp.args) == 1:
        arg = free_tp.args[0]
        if isinstance(arg, model.PointerType) and _same(arg.totype, struct):
            return "address", []
        if _same(arg, struct):  # the struct itself, by value (Rust's fn free(x: Girl))
            return "value", []
        if isinstance(arg, model.PointerType):
            want = _c_name(arg)
            fields = [
                f
                for f, ft in zip(struct.fldnames or (), struct.fldtypes or ())
                if isinstance(ft, model.PointerType) and _c_name(ft) == want
            ]
            if fields:
                return "fields", fields
    raise DeclarationError(
        f"owned={{{make!r}: {free!r}}}: {make}() returns {struct.get_c_name()} by value, and "
        f"{free}({', '.join(a.get_c_name() for a in free_tp.args)}) takes neither it, a "
        "pointer to it, nor the type of one of its pointer fields"
    )


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and _c_name(a) == _c_name(b))


def callback_kinds(tp: Any) -> list[str]:
    """How each argument of a callback reaches Python: "str" for text, "" as it is.

    A ``char *`` arrives as str only if no integer parameter follows it: a
    ``char *`` with a length (expat's character data, curl's write buffer)
    is not NUL-terminated, so it stays a cdata (``ffi.unpack(p, n)``).
    """
    args = list(tp.args)
    kinds = []
    for k, a in enumerate(args):
        nxt = args[k + 1] if k + 1 < len(args) else None
        sized = isinstance(nxt, (model.PrimitiveType, model.EnumType)) and (
            isinstance(nxt, model.EnumType) or nxt.is_integer_type()
        )
        if (
            isinstance(a, model.PointerType)
            and isinstance(a.totype, model.PrimitiveType)
            and a.totype.name == "char"
            and not sized
        ):
            kinds.append("str")
        elif isinstance(a, model.StructType) and a.name == "pyffi_str":
            kinds.append("pyffi_str")
        else:
            kinds.append("")
    return kinds


def _address(ffi: Any, value: Any) -> Any:
    if isinstance(value, ffi.CData):
        return int(ffi.cast("uintptr_t", value))
    return None if value is None else id(value)


_RANGES = {
    "int": (-(2**31), 2**31 - 1),
    "long long": (-(2**63), 2**63 - 1),
    "unsigned long long": (0, 2**64 - 1),
}


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
    """After the C call: write lists back, retire the call's own trampolines."""
    for item in c:
        if type(item) is tuple:
            lst, buf, count = item
            lst[:] = _backend.unpack(buf, count)  # the same list object, C's values
        elif type(item) is Callback:
            item._retire("the call that received it returned")


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


Record.__module__ = "pyffi"  # shown and pickled as pyffi.Record
