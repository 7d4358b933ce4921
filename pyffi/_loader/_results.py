"""Results: a C function's return value as a Python value, and who frees it.

The converter is chosen once per function from its result type: ``char *``
gives str (copied, then freed through ``owned=`` if given), an owned pointer
gets ``ffi.gc`` with its free function, a struct by value gives a
:class:`Record` of Python values (its pointers freed by the ``owned=`` rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cffi import model

from .._core.errors import DeclarationError
from .._core.slices import SLICES
from ._cffi_private import c_name
from ._context import Context

__all__ = ["Record", "owned_struct_rule", "result_converter", "to_python"]


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


Record.__module__ = "pyffi"  # shown and pickled as pyffi.Record, where users find it


def result_converter(ctx: Context, name: str, tp: Any) -> Callable[[Any], Any] | None:
    """The converter of a C result of type ``tp`` (None: cffi's value as it is)."""
    ffi = ctx.ffi
    free_name = ctx.owned.get(name)
    free = ctx.function(free_name) if free_name else None
    if isinstance(tp, model.PrimitiveType) and tp.name == "long double":
        return float  # a Python float (a double: what precision is beyond it is lost)
    if isinstance(tp, (model.PrimitiveType, model.VoidType)):
        return None
    if isinstance(tp, model.PointerType):
        item = tp.totype
        if isinstance(item, model.PrimitiveType) and item.name in _TEXT:

            def text(ptr: Any) -> str | None:
                if ptr == ffi.NULL:
                    return None
                try:
                    raw_text: Any = ffi.string(ptr)  # bytes for a char *, str for wchar_t
                    if isinstance(raw_text, str):
                        return raw_text
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
        how, fields = ctx.owned_struct.get(name, ("", []))

        def record(value: Any) -> Any:
            try:
                return to_python(ffi, tp, value)
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
            want = c_name(arg)
            fields = [
                f
                for f, ft in zip(struct.fldnames or (), struct.fldtypes or ())
                if isinstance(ft, model.PointerType) and c_name(ft) == want
            ]
            if fields:
                return "fields", fields
    raise DeclarationError(
        f"owned={{{make!r}: {free!r}}}: {make}() returns {struct.get_c_name()} by value, and "
        f"{free}({', '.join(a.get_c_name() for a in free_tp.args)}) takes neither it, a "
        "pointer to it, nor the type of one of its pointer fields"
    )


# Pointers to these come back as text: char * decoded from UTF-8, wchar_t * as it is.
_TEXT = ("char", "wchar_t")


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and c_name(a) == c_name(b))


def to_python(ffi: Any, tp: Any, value: Any) -> Any:
    """A C value of model type ``tp`` as a Python value (copied)."""
    if isinstance(tp, model.PrimitiveType):
        return float(value) if tp.name == "long double" else value
    if isinstance(tp, model.StructType):
        if tp.name in SLICES:
            return _slice_to_python(ffi, tp.name, value)
        return Record(tp.name.lstrip("$"), **_fields(ffi, tp, value))
    if isinstance(tp, model.PointerType):
        item = tp.totype
        if isinstance(item, model.PrimitiveType) and item.name in _TEXT:
            if value == ffi.NULL:
                return None
            text = ffi.string(value)
            return text if isinstance(text, str) else text.decode("utf-8", "surrogateescape")
    if isinstance(tp, model.ArrayType):
        return [to_python(ffi, tp.item, v) for v in value]
    return value


def _fields(ffi: Any, tp: Any, value: Any) -> dict[str, Any]:
    """A struct's fields by name, as C reaches them: an anonymous struct or union
    member's fields as the struct's own (``a.lo``), an unnamed bit-field (padding) left
    out."""
    out: dict[str, Any] = {}
    for f, ft, bits in zip(tp.fldnames, tp.fldtypes, tp.fldbitsize):
        if f:
            out[f] = to_python(ffi, ft, getattr(value, f))
        elif bits < 0 and isinstance(ft, (model.StructType, model.UnionType)) and ft.fldnames:
            out.update(_fields(ffi, ft, value))  # cffi reaches them through the outer struct
    return out


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
