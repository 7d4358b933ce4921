"""Argument converters: each C parameter type's conversion of a Python argument.

The C type of every parameter decides how a Python argument is converted
(see :func:`pyffi.load`): scalars go to cffi as they are (it checks them),
``char *`` takes str, bytes or a byte buffer, a numeric pointer a list or a
buffer of its item type (zero-copy), a struct a dict or a tuple, a function
pointer any callable. Lists passed to non-const pointers get C's changes
written back, the same list object (``_wrapper.after_call``). Every error
names the function, the parameter and its C type.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from cffi import model

from .._core.errors import OutOfRangeError
from .._core.sequences import real_len
from .._core.slices import SLICES
from . import _cffi_private as private
from ._cffi_private import c_name, type_text
from ._context import Context
from ._lifetimes import Callback, address, callback_kinds, enum_params, policy
from ._numbers import BYTES, FLOATS, FMT_CTYPE, FORMAT_OF, KIND, NATIVE, item_size

# Wide characters: a pointer to them takes a str.
_WIDE = frozenset({"wchar_t", "char16_t", "char32_t"})

__all__ = ["Arguments", "Call"]

# Per-call bookkeeping is one list: objects to keep alive for the call (cdata),
# write-backs as plain tuples (list, C array, n: after the call the list gets
# the array's n values; nothing else there is a tuple), and the Callbacks to
# retire when the call returns.
Call = list[Any]

# _cffi_backend directly (no FFI argument parsing) on the fast paths.
newp, from_buffer = private.backend.newp, private.backend.from_buffer
_CHARS = private.backend.new_array_type(
    private.backend.new_pointer_type(private.backend.new_primitive_type("char")), None
)


class Arguments:
    """The argument converters of one declared function, built once, and its errors."""

    def __init__(
        self, ctx: Context, name: str, tp: model.FunctionPtrType, names: list[str]
    ) -> None:
        self.ctx, self.name, self.tp, self.names = ctx, name, tp, names
        self.ffi = ctx.ffi

    # Errors -----------------------------------------------------------------

    def type_error(self, i: int, tp: Any, value: object, expected: str) -> TypeError:
        return TypeError(
            f"{self.name}() argument '{self.names[i]}' ({type_text(tp)}) must be "
            f"{expected}, not {type(value).__name__}"
        )

    def readonly_error(self, i: int, tp: Any, value: object) -> TypeError:
        return TypeError(
            f"{self.name}() argument '{self.names[i]}' ({type_text(tp)}) needs a "
            f"writable buffer; the {type(value).__name__} given is read-only"
        )

    def scalar_error(self, args: tuple[Any, ...], exc: Exception) -> Exception:
        """Which primitive (or enum) argument cffi refused, and why: the same words in
        both modes (cffi's own spell an enum differently in ABI and API mode)."""
        ffi = self.ffi
        for i, (tp, value) in enumerate(zip(self.tp.args, args)):
            if not isinstance(tp, (model.PrimitiveType, model.EnumType)):
                continue
            ctype = ffi.typeof(tp.get_c_name() + " *")
            try:
                if value is None:
                    raise TypeError
                ffi.new(ctype, value)
            except TypeError:
                kind = (
                    "float"
                    if tp.name in FLOATS
                    else "bool"
                    if tp.name == "_Bool"
                    else "bytes of length 1"
                    if tp.name == "char"
                    else "int"
                )
                return self.type_error(i, tp, value, kind)
            except OverflowError:
                return OutOfRangeError(
                    f"{self.name}() argument '{self.names[i]}' = {value!r} does not fit "
                    f"{c_name(tp)}",
                    None,
                )
        return exc

    # Converters: f(value, call) -> C argument ---------------------------------

    def converter(self, i: int, tp: Any) -> Callable[[Any, Call], Any] | None:
        ffi = self.ffi
        if isinstance(tp, model.EnumType) or (
            isinstance(tp, model.PrimitiveType) and tp.is_integer_type() and tp.name != "_Bool"
        ):
            return self.integer_converter(i, tp)
        if isinstance(tp, model.PrimitiveType):
            return None  # cffi converts and checks; scalar_error names the culprit
        if isinstance(tp, model.StructType) and tp.name in SLICES:
            return self.slice_converter(i, tp, tp, by_value=True, const=True)
        if isinstance(tp, model.PointerType):
            item, const = tp.totype, bool(tp.quals & model.Q_CONST)
            if isinstance(item, model.PrimitiveType) and item.name in BYTES:
                return self.string_converter(i, tp, const)
            if isinstance(item, model.PrimitiveType) and item.name in _WIDE:
                return self.wide_converter(i, tp, item.name, const)
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
        ctype = private.ctype(ffi, tp)

        def passthrough(value: Any, call: Call) -> Any:
            if isinstance(value, ffi.CData) and ffi.typeof(value) is ctype:
                return value
            expected = f"a cdata {ctype.cname!r}" + (" or None" if ctype.kind == "pointer" else "")
            raise self.type_error(i, tp, value, expected)

        # Any other pointer (char **, struct pointers to pointers...): None is NULL too.
        return self.nullable(passthrough) if ctype.kind == "pointer" else passthrough

    def integer_converter(self, i: int, tp: Any) -> Callable[[Any, Call], Any]:
        """An integer parameter takes what ``__index__`` gives, as CPython's own C API does:
        cffi would truncate a Decimal, a Fraction or any object with ``__int__``."""

        def convert(value: Any, call: Call) -> Any:
            if isinstance(value, int):
                return value  # cffi checks the range (scalar_error names it)
            try:
                return operator.index(value)
            except TypeError:
                raise self.type_error(i, tp, value, "int") from None

        return convert

    def nullable(self, convert: Callable[[Any, Call], Any]) -> Callable[[Any, Call], Any]:
        """A pointer parameter's converter: None is NULL and a cdata passes as it is."""
        ffi = self.ffi

        def pointer(value: Any, call: Call) -> Any:
            if value is None:
                return ffi.NULL
            if isinstance(value, ffi.CData):
                return value
            return convert(value, call)

        return pointer

    def string_converter(self, i: int, tp: Any, const: bool) -> Callable[[Any, Call], Any]:
        """``char *`` and the other 1-byte pointers: str (encoded), bytes, byte buffers."""
        ffi = self.ffi
        item = c_name(tp.totype)
        chars = item == "char"
        lists = None if chars else self.array_converter(i, tp, item, const)

        def convert(value: Any, call: Call) -> Any:
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

    def refuse_objects(self, i: int, tp: Any, value: Any) -> None:
        """A buffer of Python object pointers (numpy's dtype=object, format 'O') is no
        memory for C: writing it would overwrite the pointers and crash the process later."""
        try:
            view = memoryview(value)
        except TypeError:
            return  # not a buffer: the caller's own check says what is wrong
        with view:
            if "O" in view.format:
                raise TypeError(
                    f"{self.name}() argument '{self.names[i]}' ({type_text(tp)}) cannot take "
                    f"a buffer of Python objects (format {view.format!r})"
                )

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
            code = view.format[1:] if view.format[:1] in NATIVE else view.format
            want = KIND.get(fmt), item_size(fmt)
            got = KIND.get(code), view.itemsize
            if want[1] == 1 and view.itemsize == 1 and got[0] != "float":
                got = want  # char, signed char, unsigned char, int8_t, uint8_t: all bytes
            if got != want or not view.c_contiguous:
                item = FMT_CTYPE[fmt]
                raise self.type_error(i, tp, value, f"a list or a contiguous buffer of {item}")
            if not const and view.readonly:
                raise self.readonly_error(i, tp, value)
            n = view.nbytes // view.itemsize
        item = (
            cname or FMT_CTYPE[fmt]
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
                        f"must be {'float' if item in FLOATS else 'int'}, not "
                        f"{type(x).__name__}"
                    ) from None
                except OverflowError:
                    raise OutOfRangeError(
                        f"{self.name}() argument '{self.names[i]}'{where} "
                        f"item {k} = {x!r} does not fit {item}",
                        None,
                    ) from None
            raise

    def wide_converter(self, i: int, tp: Any, item: str, const: bool) -> Callable[[Any, Call], Any]:
        """``wchar_t *`` (char16_t, char32_t): a str as wide characters with a NUL added
        (a private copy C may write); lists and buffers as for other numbers."""
        ffi = self.ffi
        lists = self.array_converter(i, tp, item, const)
        array_type = ffi.typeof(f"{item}[]")

        def convert(value: Any, call: Call) -> Any:
            if isinstance(value, (list, tuple)):
                raise self.type_error(i, tp, value, f"a str or a buffer of {item}")
            if not isinstance(value, str):
                return lists(value, call)  # None, or a buffer of the item's format
            nul = value.find("\0")
            if nul >= 0:
                raise ValueError(
                    f"{self.name}() argument '{self.names[i]}' contains a NUL character at "
                    f"index {nul}"
                )
            try:
                buf = ffi.new(array_type, value)
            except (ValueError, TypeError, OverflowError) as exc:
                raise ValueError(
                    f"{self.name}() argument '{self.names[i]}' ({type_text(tp)}) cannot hold "
                    f"this str: {exc}"
                ) from None
            call.append(buf)
            return buf

        return convert

    def array_converter(
        self, i: int, tp: Any, item: str, const: bool
    ) -> Callable[[Any, Call], Any]:
        fmt = FORMAT_OF.get(item)

        def convert(value: Any, call: Call) -> Any:
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
                n = real_len(value)
                call.append((value, buf, n))  # a write-back
            return buf

        return self.nullable(convert)

    def vec(
        self, kind: str, value: Any, const: bool, call: Call, i: int, tp: Any, where: str = ""
    ) -> tuple[Any, int]:
        """(pointer, length) for a pyffi_vec_i64/f64 element array, write-back registered."""
        item = "int64_t" if kind == "pyffi_vec_i64" else "double"
        got: tuple[Any, int] | None = self.buffer_or_none(value, FORMAT_OF[item], const, i, tp)
        if got is not None:
            call.append(got[0])
            return got
        if not isinstance(value, list) and not (const and isinstance(value, tuple)):
            raise self.type_error(
                i, tp, value, f"a list of {'ints' if item == 'int64_t' else 'floats'} or a buffer"
            )
        buf = self.new_array(item, value, i, tp, where)
        call.append(buf)
        n = real_len(value)
        if not const:
            call.append((value, buf, n))  # a write-back
        return buf, n

    def slice_value(
        self, kind: str, value: Any, const: bool, call: Call, i: int, tp: Any
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
            self.refuse_objects(i, tp, value)
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
    ) -> Callable[[Any, Call], Any]:
        ffi, kind = self.ffi, struct.name

        box_type = ffi.typeof(f"{kind} *")

        def convert(value: Any, call: Call) -> Any:
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

            def fast_str(value: Any, call: Call) -> Any:
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

            def fast_vec(value: Any, call: Call) -> Any:
                if type(value) is list:
                    try:
                        buf = newp(array_type, value)
                    except (TypeError, OverflowError):
                        return general(value, call)  # raises, naming the item
                    n = real_len(value)
                    if not const:
                        call.append((value, buf, n))  # a write-back
                    return [(buf, n)]
                return general(value, call)

            return fast_vec
        return general

    def struct_converter(
        self, i: int, tp: Any, struct: Any, *, by_value: bool
    ) -> Callable[[Any, Call], Any]:
        ffi = self.ffi
        ctype = private.ctype(ffi, model.PointerType(struct))
        bare = struct.name.lstrip("$")
        spelt = f"{'union' if isinstance(struct, model.UnionType) else 'struct'} {bare}"

        def convert(value: Any, call: Call) -> Any:
            if isinstance(value, ffi.CData):  # a struct by value: passed as it is
                return value
            if not isinstance(value, (dict, tuple)):
                raise self.type_error(i, tp, value, "a dict of its fields or a tuple")
            try:
                box = ffi.new(ctype, value)
            except (TypeError, OverflowError, ValueError, KeyError) as exc:
                where = f"{self.name}() argument '{self.names[i]}' ({type_text(tp)})"
                if isinstance(exc, KeyError):  # a dict naming a field the struct lacks
                    unknown = [k for k in value if k not in (struct.fldnames or ())]
                    field = repr(unknown[0]) if unknown else str(exc)
                    raise TypeError(
                        f"{where}: {spelt} has no field {field}; "
                        f"its fields: {', '.join(struct.fldnames or ())}"
                    ) from None
                # cffi names the struct 'kv_pair' in ABI mode, 'struct kv_pair' in API
                # mode: the message spells it one way in both
                said = str(exc).replace(f"'{bare}'", f"'{spelt}'")
                raise type(exc)(f"{where}: {said}") from None
            call.append(box)
            return box[0] if by_value else box

        return convert if by_value else self.nullable(convert)

    def void_converter(self, i: int, tp: Any, const: bool) -> Callable[[Any, Call], Any]:
        ffi = self.ffi

        def convert(value: Any, call: Call) -> Any:
            self.refuse_objects(i, tp, value)
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

    def callback_converter(self, i: int, tp: Any) -> Callable[[Any, Call], Any]:
        ffi = self.ffi
        ctype = private.ctype(ffi, tp)
        kinds = callback_kinds(tp)
        mode, handle, enums = policy(self.name, self.tp, i, self.ctx.callback_modes)
        where = f"{self.name}() argument '{self.names[i]}'"
        registry = self.ctx.registry

        def convert(value: Any, call: Call) -> Any:
            if isinstance(value, Callback):
                if value.ctype is not ctype:
                    raise self.type_error(
                        i, tp, value, f"a callable or a Callback of {ctype.cname}"
                    )
            elif not callable(value):
                raise self.type_error(i, tp, value, "callable")
            slot = None
            if mode == "handle":
                slot = (self.name, i, address(ffi, call[0]), *(call[1 + k] for k in range(enums)))
            cb = registry.get(value, ctype, where, kinds, mode, slot)
            if mode == "call" and cb is not value:
                call.append(cb)  # retired when the call returns (see _finish)
            return cb.cdata

        converter = self.nullable(convert)  # None is NULL, a cdata passes as it is
        if mode == "handle":
            # The slot is known only from the other arguments: the generated
            # function passes (handle, enum values...) in front of the list.
            converter.needs = (handle, enum_params(self.tp, i))  # type: ignore[attr-defined]
        return converter
