"""Fast paths: the common argument types converted inline, in the generated wrapper.

For each parameter the converter of ``_args`` is the general path: every input,
every check, every error message. Before it, the generated function tries the
inputs that need no check beyond their exact type: bytes to a ``const char *``,
a bytearray to a byte pointer (zero-copy), a dict to a struct, a cdata of the
parameter's own type, None to NULL. Each case is a condition on the argument and
an expression straight to ``_cffi_backend``; an expression that raises falls
back to the general path, which raises the documented error. So a case changes
the cost of a call, never its result or its error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cffi import model

from .._core.slices import SLICES
from . import _cffi_private as private
from ._numbers import BYTES

__all__ = ["Case", "caller_codes", "cases"]

_newp, _from_buffer, _typeof = (
    private.backend.newp,
    private.backend.from_buffer,
    private.backend.typeof,
)


@dataclass(frozen=True)
class Case:
    """``if COND: a = EXPR`` for one parameter.

    In ``cond`` and ``expr``, ``{x}`` is the argument and ``{c}`` this parameter's
    prefix for the names of ``consts``. With ``keep``, ``expr`` makes a box kept
    alive for the call and the argument is ``box[0]`` (a struct by value).
    ``safe``: the expression cannot raise (no fallback needed).
    """

    cond: str
    expr: str
    consts: dict[str, Any] = field(default_factory=dict)
    safe: bool = False
    keep: bool = False


def _null(ffi: Any) -> Case:
    return Case("{x} is None", "{c}NULL", {"NULL": ffi.NULL}, safe=True)


def _cdata(ffi: Any) -> Case:
    return Case("isinstance({x}, {c}CData)", "{x}", {"CData": ffi.CData}, safe=True)


def cases(ffi: Any, tp: Any) -> list[Case]:
    """The fast cases of a parameter of model type ``tp`` (none: the general path only)."""
    if isinstance(tp, model.EnumType) or (
        isinstance(tp, model.PrimitiveType) and tp.is_integer_type() and tp.name != "_Bool"
    ):
        return [Case("type({x}) is int", "{x}", safe=True)]  # cffi checks the range
    if isinstance(tp, model.PointerType):
        return _pointer_cases(ffi, tp)
    if isinstance(tp, model.StructType) and tp.fldnames is not None and tp.name not in SLICES:
        box = private.ctype(ffi, model.PointerType(tp))
        return [
            _cdata(ffi),
            Case(
                "type({x}) is dict or type({x}) is tuple",
                "{c}newp({c}box, {x})",
                {"newp": _newp, "box": box},
                keep=True,
            ),
        ]
    return []


def _pointer_cases(ffi: Any, tp: Any) -> list[Case]:
    item, const = tp.totype, bool(tp.quals & model.Q_CONST)
    if isinstance(item, model.StructType) and item.name in SLICES:
        return []  # the slice converters have their own fast paths
    if isinstance(item, model.PrimitiveType) and item.name in BYTES:
        return _byte_cases(ffi, private.ctype(ffi, model.ArrayType(item, None)), const)
    if isinstance(item, model.PrimitiveType):
        if not const:
            return [_null(ffi)]  # a list gets C's changes written back: the general path
        return [
            _null(ffi),
            Case(
                "type({x}) is list or type({x}) is tuple",
                "{c}newp({c}arr, {x})",
                {"newp": _newp, "arr": private.ctype(ffi, model.ArrayType(item, None))},
            ),
        ]
    if isinstance(item, model.StructType) and item.fldnames is not None:
        return [
            _null(ffi),
            _cdata(ffi),
            Case(
                "type({x}) is dict or type({x}) is tuple",
                "{c}newp({c}box, {x})",
                {"newp": _newp, "box": private.ctype(ffi, tp)},
            ),
        ]
    if isinstance(item, model.VoidType):
        chars = ffi.typeof("char[]")
        found = [_null(ffi), _cdata(ffi), _buffer_case(chars, "bytearray", const)]
        if const:
            found.append(_buffer_case(chars, "bytes", const))
        return found
    ctype = private.ctype(ffi, tp)
    return [
        _null(ffi),
        Case(
            "isinstance({x}, {c}CData) and {c}typeof({x}) is {c}ct",
            "{x}",
            {"CData": ffi.CData, "typeof": _typeof, "ct": ctype},
            safe=True,
        ),
    ]


def _byte_cases(ffi: Any, array: Any, const: bool) -> list[Case]:
    """``char *`` and the other 1-byte pointers: cffi takes bytes for them as they are."""
    found = []
    if const:  # C may not write: the bytes' own buffer, zero-copy, and the str's UTF-8
        found.append(Case("type({x}) is bytes", "{x}", safe=True))
        found.append(Case('type({x}) is str and "\\x00" not in {x}', "{x}.encode()"))
    return [*found, _buffer_case(array, "bytearray", const), _null(ffi)]


def _buffer_case(array: Any, kind: str, const: bool) -> Case:
    writable = "False" if const else "True"
    return Case(
        f"type({{x}}) is {kind}",
        f"{{c}}from_buffer({{c}}arr, {{x}}, {writable})",
        {"from_buffer": _from_buffer, "arr": array},
    )


def caller_codes(ffi: Any, tp: model.FunctionPtrType) -> tuple[str, tuple[Any, ...]] | None:
    """ABI mode: the codes of ``_caller`` for each parameter of ``tp`` (what goes to the
    cffi function as it is) and the ctype each reads, or None where one has no code."""
    if tp.ellipsis or len(tp.args) > 32:
        return None
    codes, types = [], []
    for a in tp.args:
        found = _code(ffi, a)
        if found is None:
            return None
        codes.append(found[0])
        types.append(found[1])
    return "".join(codes), tuple(types)


def _code(ffi: Any, tp: Any) -> tuple[str, Any] | None:
    if isinstance(tp, model.EnumType):
        return "i", None
    if isinstance(tp, model.PrimitiveType):
        if tp.name == "_Bool":
            return "b", None
        if tp.name in ("float", "double"):
            return "f", None
        return ("i", None) if tp.is_integer_type() else None
    if isinstance(tp, model.FunctionPtrType):
        return "T", private.ctype(ffi, tp)
    if isinstance(tp, model.StructType):
        return ("S", None) if tp.fldnames is not None and tp.name not in SLICES else None
    if not isinstance(tp, model.PointerType):
        return None
    item, const = tp.totype, bool(tp.quals & model.Q_CONST)
    if isinstance(item, model.StructType) and item.name in SLICES:
        return None
    if isinstance(item, model.VoidType) or (
        isinstance(item, model.PrimitiveType) and item.name in BYTES
    ):
        array = (
            ffi.typeof("char[]")
            if isinstance(item, model.VoidType)
            else private.ctype(ffi, model.ArrayType(item, None))
        )
        return ("Y" if const else "W"), array
    return "T", private.ctype(ffi, tp)
