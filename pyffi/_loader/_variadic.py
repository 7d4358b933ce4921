"""Variadic arguments: no parameter type says what C expects, so the Python type does.

int -> ``int`` (or ``long long``, ``unsigned long long`` when it does not fit),
float -> ``double``, str/bytes -> ``char *`` (NUL-terminated copy), None ->
NULL, a cdata as it is, a :class:`Callback` its function pointer (kept in the
slot of the call, as for a fixed parameter). Anything else is a TypeError.
"""

from __future__ import annotations

from typing import Any

from .._core.errors import OutOfRangeError
from ._args import Call
from ._context import Context
from ._lifetimes import Callback, address
from ._numbers import RANGES

__all__ = ["promote"]


def promote(
    ctx: Context, name: str, fixed: int, values: tuple[Any, ...], call: Call, lead: tuple[Any, ...]
) -> list[Any]:
    """The variadic arguments of ``name`` (``fixed`` parameters before them) as cdata,
    by the documented promotion rule; ``lead`` is the fixed arguments."""
    ffi = ctx.ffi
    out: list[Any] = []
    n = fixed
    for k, v in enumerate(values):
        if isinstance(v, ffi.CData):
            out.append(v)
        elif isinstance(v, Callback):
            ints = [a for a in (*lead[1:], *values[:k]) if type(a) is int]
            slot = (name, n + k, address(ffi, lead[0]) if lead else None, *ints)
            ctx.registry.slots_keep(slot, v)
            out.append(v.cdata)
        elif v is None:
            out.append(ffi.NULL)
        elif isinstance(v, bool):
            out.append(ffi.cast("int", v))
        elif isinstance(v, int):
            for ctype in ("int", "long long", "unsigned long long"):
                lo, hi = RANGES[ctype]
                if lo <= v <= hi:
                    out.append(ffi.cast(ctype, v))
                    break
            else:
                raise OutOfRangeError(
                    f"{name}() variadic argument {k + 1} = {v!r} fits no C integer "
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
                    f"{name}() variadic argument {k + 1} contains a NUL character at byte {nul}"
                )
            buf = ffi.new("char[]", data)
            call.append(buf)
            out.append(buf)
        elif callable(v):
            raise TypeError(
                f"{name}() variadic argument {k + 1}: a callable has no C type "
                "here; pass lib.callback(fn, 'C function pointer type')"
            )
        else:
            raise TypeError(
                f"{name}() variadic argument {k + 1} must be int, float, str, "
                f"bytes, None, a Callback or a cdata, not {type(v).__name__}"
            )
    return out
