"""Type stubs (.pyi) for a Library: its functions typed by pyffi.load's marshalling rules.

``python -m pyffi stubs LIBRARY HEADER -o NAME.pyi`` writes a class
``Library`` whose methods are the library's exported functions, with the
Python types the marshalling takes and gives (``str | bytes | buffer`` for a
``char *``, a list or a buffer for a numeric pointer, ``Callable`` for a
function pointer, ``Record`` for a struct returned by value...), its
constants with their types, and each C declaration as the docstring. Use it
with a cast, so mypy and IDEs check every call::

    from typing import TYPE_CHECKING, cast
    import pyffi
    if TYPE_CHECKING:
        from zlib_stubs import Library as Zlib
    z = cast("Zlib", pyffi.load("z", "/usr/include/zlib.h"))
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from cffi import model

from .._core.slices import SLICES
from ._library import Library, context_of
from ._numbers import BYTES, FLOATS
from ._units import param_names

__all__ = ["stub_text"]

_SLICE_TYPES = {
    "pyffi_str": "str",
    "pyffi_bytes": "bytes",
    "pyffi_vec_i64": "list[int]",
    "pyffi_vec_f64": "list[float]",
    "pyffi_vec_str": "list[str]",
    "pyffi_vec_vec_i64": "list[list[int]]",
}

_HEADER = '''"""Type stubs for {path} (from {header}), written by `python -m pyffi stubs`.

Use them with a cast: `lib = cast("Library", pyffi.load(...))` under TYPE_CHECKING.
"""

from collections.abc import Callable
from typing import Any

from _typeshed import ReadableBuffer, WriteableBuffer

import pyffi

class CData:
    """A cffi cdata: a pointer a function returned, or made with ``lib.ffi.new``."""

class Library:
    """{path}: the functions, constants and variables pyffi.load marshals."""

    path: str
    constants: dict[str, Any]
    skipped: dict[str, str]
    variables: list[str]
    ffi: Any
    raw: Any
    def functions(self) -> list[str]: ...
    def missing(self) -> list[str]: ...
    def callback(self, fn: Callable[..., Any], ctype: str) -> pyffi.Callback: ...
'''


def _scalar(tp: Any) -> str:
    """The Python type of a C scalar, as an argument and as a result."""
    if isinstance(tp, model.EnumType):
        return "int"
    name = tp.name
    if name in FLOATS or name == "long double":
        return "float"
    if name in ("_Bool", "bool"):
        return "bool"
    if name == "char":
        return "bytes"
    if name in ("wchar_t", "char16_t", "char32_t"):
        return "str"
    return "int"


def _callback(tp: Any) -> str:
    ret = tp.result
    if isinstance(ret, model.VoidType):
        result = "None"
    elif isinstance(ret, (model.PrimitiveType, model.EnumType)):
        result = _scalar(ret)
    else:
        result = "Any"
    return f"Callable[..., {result}] | pyffi.Callback | CData | None"


def param_type(tp: Any) -> str:
    """What a parameter of C type ``tp`` takes, following ``_args``' converters."""
    if isinstance(tp, (model.PrimitiveType, model.EnumType)):
        return _scalar(tp)
    if isinstance(tp, model.StructType) and tp.name in SLICES:
        return _SLICE_TYPES.get(tp.name, "Any")
    if isinstance(tp, model.PointerType):
        item, const = tp.totype, bool(tp.quals & model.Q_CONST)
        buffer = "ReadableBuffer" if const else "WriteableBuffer"
        if isinstance(item, model.PrimitiveType) and item.name in BYTES:
            lists = (
                ""
                if item.name == "char"
                else " | list[int]" + (" | tuple[int, ...]" if const else "")
            )
            return f"str | {buffer}{lists} | CData | None"
        if isinstance(item, model.StructType) and item.name in SLICES:
            return f"{_SLICE_TYPES.get(item.name, 'Any')} | CData | None"
        if isinstance(item, model.PrimitiveType):
            x = "float" if item.name in FLOATS else "int"
            seq = f"list[{x}]" + (f" | tuple[{x}, ...]" if const else "")
            return f"{seq} | {buffer} | CData | None"
        if isinstance(item, model.StructType) and item.fldnames is not None:
            return "dict[str, Any] | tuple[Any, ...] | CData | None"
        if isinstance(item, model.VoidType):
            return f"{buffer} | CData | None"
        return "CData | None"
    if isinstance(tp, model.StructType) and tp.fldnames is not None:
        return "dict[str, Any] | tuple[Any, ...] | CData"
    if isinstance(tp, model.FunctionPtrType):
        return _callback(tp)
    return "Any"


def result_type(tp: Any) -> str:
    """What a function returning C type ``tp`` gives back."""
    if isinstance(tp, model.VoidType):
        return "None"
    if isinstance(tp, (model.PrimitiveType, model.EnumType)):
        return _scalar(tp)
    if isinstance(tp, model.PointerType):
        item = tp.totype
        if isinstance(item, model.PrimitiveType) and item.name == "char":
            return "str | None"
        return "CData"
    if isinstance(tp, model.StructType):
        if tp.name in SLICES:
            return _SLICE_TYPES.get(tp.name, "Any")
        return "pyffi.Record"
    return "Any"


def _ident(name: str, taken: set[str]) -> str:
    out = re.sub(r"\W", "_", name) or "arg"
    if keyword.iskeyword(out) or out in ("self",) or out[0].isdigit():
        out += "_"
    while out in taken:
        out += "_"
    taken.add(out)
    return out


def _doc(text: str) -> str:
    one = " ".join(text.split()).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f'"""``{one}``"""' if len(one) < 300 else f'"""``{one[:296]} ...``"""'


def stub_text(lib: Library, header: str) -> str:
    """The .pyi text for ``lib`` (opened from ``header``)."""
    ctx = context_of(lib)
    decls = ctx.decls
    missing = set(lib.missing())
    out = [_HEADER.format(path=lib.path, header=header)]
    for name in sorted(ctx.callable):  # in mode="api", inline functions and macros too
        if name in missing or not name.isidentifier() or keyword.iskeyword(name):
            continue
        tp = ctx.type_of(name)
        text = decls.units[ctx.callable[name]]
        taken: set[str] = set()
        names = [_ident(n, taken) for n in param_names(text, name, len(tp.args))]
        params = ["self"] + [f"{n}: {param_type(t)}" for n, t in zip(names, tp.args)]
        if tp.ellipsis:
            params.append("*args: Any")
        out.append(f"    def {name}({', '.join(params)}) -> {result_type(tp.result)}:")
        out.append(f"        {_doc(text)}")
        out.append("        ...")
    for name in sorted(decls.aliases):
        target = decls.aliases[name]
        if target in decls.functions and target not in missing and name.isidentifier():
            out.append(f"    {name} = {target}")
    for name, value in sorted(lib.constants.items()):
        if not name.isidentifier() or keyword.iskeyword(name):
            continue
        kind = type(value).__name__ if isinstance(value, (bool, int, float, str, bytes)) else "Any"
        out.append(f"    {name}: {kind}")
    for name in sorted(decls.variables):
        if name.isidentifier() and not keyword.iskeyword(name):
            out.append(f"    {name}: Any")
    return "\n".join(out) + "\n"
