"""The generated wrapper: one Python function per C function, straight-line code.

Fixed parameters (Python's own argument-count errors), each parameter's
converter called directly (none where cffi's own conversion is exact), the C
call, the write-backs and retirements after it (:func:`after_call`), a
callback's exception re-raised, the result converted. Locals carry a
``_pyffi_`` prefix so no C parameter name can shadow them.
"""

from __future__ import annotations

import builtins
import functools
import sys
import types
from collections.abc import Callable
from typing import Any

import cffi
from cffi import model

from . import _cffi_private as private
from ._args import Arguments, Call
from ._caller import check_layout, make
from ._context import Context
from ._fastpaths import Case, caller_codes, cases
from ._lifetimes import Callback
from ._results import result_converter
from ._variadic import promote

__all__ = ["after_call", "make_caller", "make_wrapper"]

_unpack = private.backend.unpack


def make_wrapper(
    ctx: Context, name: str, tp: model.FunctionPtrType, raw: Any, names: list[str]
) -> Callable[..., Any]:
    """The Python function that calls C function ``raw`` (``name``, of type ``tp``)."""
    args = Arguments(ctx, name, tp, names)
    convs = [args.converter(i, a) for i, a in enumerate(tp.args)]
    result = result_converter(ctx, name, tp.result)
    # One generated function per C function: fixed parameters (Python's
    # own argument-count errors), each parameter's fast cases inline, then its
    # converter. Locals carry a _pyffi_ prefix so no C parameter name can shadow them.
    # The text names the parameters _pyffi_p0, _pyffi_p1...: functions of the same
    # shape share one compiled code object, renamed to their own names.
    real, names = names, [f"_pyffi_p{k}" for k in range(len(names))]
    params = list(names)
    if tp.ellipsis:
        params.append("*_pyffi_va")
    lines = [f"def _pyffi_fn({', '.join(params)}):"]
    namespace: dict[str, Any] = {}
    marshal = any(conv is not None for conv in convs) or tp.ellipsis
    if marshal:
        lines.append("    _pyffi_c = None")  # the per-call list, made when a converter needs it
    cargs = []
    for k, (conv, pname) in enumerate(zip(convs, names)):
        if conv is None:
            cargs.append(pname)
            continue
        lines += _argument_lines(k, pname, conv, names, cases(ctx.ffi, tp.args[k]), namespace)
        cargs.append(f"_pyffi_a{k}")
    if tp.ellipsis:
        lead = ", ".join(names)
        lines.append(_NEW_CALL)
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
        "    return _pyffi_value" if result is None else "    return _pyffi_result(_pyffi_value)"
    )
    namespace.update(
        {
            "_pyffi_raw": raw,
            "_pyffi_fail": args.scalar_error,
            "_pyffi_finish": after_call,
            "_pyffi_result": result,
            "_pyffi_late": ctx.registry.late,
            "_pyffi_reraise": ctx.registry.reraise,
            "_pyffi_promote": functools.partial(promote, ctx, name, len(tp.args)),
            "_pyffi_MISS": _MISS,
        }
    )
    namespace.update((f"_pyffi_conv{k}", conv) for k, conv in enumerate(convs))
    code = _shape("\n".join(lines))
    varnames = (*real, *code.co_varnames[len(real) :])
    code = code.replace(co_varnames=varnames, co_name=name, co_filename=ctx.registry.code_name)
    if sys.version_info >= (3, 11):
        code = code.replace(co_qualname=name)
    namespace["__builtins__"] = builtins  # Python < 3.11 takes them only from here
    fn = types.FunctionType(code, namespace, name)
    fn.__qualname__ = name
    return fn


def _check_caller_layout() -> bool:
    probe = cffi.FFI()
    cdata = probe.cast("void *", 0x5EED0)
    return check_layout(cdata, probe.typeof(cdata), 0x5EED0)


_check_caller_layout()  # once: 'T' codes read a cdata's pointer only if the layout is cffi's


def make_caller(
    ctx: Context, name: str, tp: model.FunctionPtrType, raw: Any, slow: Callable[..., Any]
) -> Callable[..., Any]:
    """ABI mode: ``slow`` (the Python wrapper) behind a C Caller that passes the arguments
    cffi takes as they are straight to ``raw``; ``slow`` itself where no Caller fits."""
    found = caller_codes(ctx.ffi, tp)
    if found is None or result_converter(ctx, name, tp.result) is not None:
        return slow
    codes, types = found
    return make(
        name,
        raw,
        slow,
        ctx.registry.state,
        codes,
        types,
        ctx.ffi.CData,
        ctx.ffi.NULL,
        private.backend.from_buffer,
    )


@functools.lru_cache(maxsize=4096)
def _shape(text: str) -> types.CodeType:
    """The code object of a generated function's text, compiled once per shape."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "<pyffi.load>", "exec"), namespace)
    code: types.CodeType = namespace["_pyffi_fn"].__code__
    return code


_NEW_CALL = "    if _pyffi_c is None:\n        _pyffi_c = []"
_MISS = object()  # no fast case took the argument


def _argument_lines(
    k: int,
    pname: str,
    conv: Any,
    names: list[str],
    fast: list[Case],
    namespace: dict[str, Any],
) -> list[str]:
    """The lines that set ``_pyffi_a{k}`` from argument ``pname``: fast cases, then the
    converter (``_pyffi_conv{k}``) for whatever they did not take."""
    out = f"_pyffi_a{k}"
    needs = getattr(conv, "needs", None)
    if needs is not None:  # a callback tied to a handle: the slot's key first
        handle, enums = needs
        extra = [names[handle], *(names[e] for e in enums)]
        return [
            _NEW_CALL,
            f"    _pyffi_k{k} = [{', '.join(extra)}]",
            f"    {out} = _pyffi_conv{k}({pname}, _pyffi_k{k})",
            f"    _pyffi_c += _pyffi_k{k}[{len(extra)}:]",
        ]
    lines = []
    if fast:
        lines.append(f"    {out} = _pyffi_MISS")
    for n, case in enumerate(fast):
        prefix = f"_pyffi_f{k}_"
        namespace.update((prefix + key, value) for key, value in case.consts.items())
        cond = case.cond.format(x=pname, c=prefix)
        expr = case.expr.format(x=pname, c=prefix)
        lines.append(f"    {'if' if n == 0 else 'elif'} {cond}:")
        if case.keep:  # a struct by value: its box lives as long as the call
            body = [f"_pyffi_b{k} = {expr}", f"{out} = _pyffi_b{k}[0]"]
        else:
            body = [f"{out} = {expr}"]
        if case.safe:
            lines += [f"        {line}" for line in body]
        else:  # what the fast expression refuses, the converter takes (or names)
            lines.append("        try:")
            lines += [f"            {line}" for line in body]
            lines += ["        except Exception:", "            pass"]
    if fast:
        lines.append(f"    if {out} is _pyffi_MISS:")
        indent = "        "
    else:
        indent = "    "
    lines += [
        f"{indent}if _pyffi_c is None:",
        f"{indent}    _pyffi_c = []",
        f"{indent}{out} = _pyffi_conv{k}({pname}, _pyffi_c)",
    ]
    return lines


def after_call(c: Call) -> None:
    """After the C call: write lists back, retire the call's own trampolines."""
    for item in c:
        if type(item) is tuple:
            lst, buf, count = item
            lst[:] = _unpack(buf, count)  # the same list object, C's values
        elif type(item) is Callback:
            item._retire("the call that received it returned")
