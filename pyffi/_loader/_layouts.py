"""Layouts as the compiler lays them out: for the structs cffi cannot be told about.

cffi computes a struct's layout from its fields alone; ``__attribute__((packed))``,
``aligned(n)`` members and ``#pragma pack`` change it, and cffi never hears of them
(the lexer drops the attributes, the preprocessor's pragmas are not declarations).
For the structs that carry one (``Unit.layout``), a small program built with the
same header, include directories and defines prints each one's size, alignment and
field offsets; ``_validate`` keeps the struct only where cffi agrees, and declares
it opaque, with the reason, where it does not. A wrong layout is never declared.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import cffi
from cffi import model

from . import _cffi_private as private
from ._model import Unit
from ._toolchain import flags

__all__ = ["Layout", "Measure", "check_layouts", "measurer"]

#: (size, alignment, the offset of each field asked for)
Layout = tuple[int, int, tuple[int, ...]]
#: [(a type as C spells it, its fields)] -> each one's Layout; raises OSError or
#: RuntimeError (the compiler's message) when the program cannot be built.
Measure = Callable[[list[tuple[str, list[str]]]], list[Layout]]


def measurer(
    header: Path, include_dirs: tuple[str, ...], defines: Mapping[str, object] | None, **how: str
) -> Measure:
    """The Measure of types declared by ``header``, compiled as ``preprocess`` ran it
    (``how``: its ``cc`` and pyffi's ``include`` directory)."""
    cc, include = how["cc"], how["include"]

    def measure(types: list[tuple[str, list[str]]]) -> list[Layout]:
        lines = []
        for spelt, fields in types:
            offsets = "".join(f' printf(" %zu", offsetof({spelt}, {f}));' for f in fields)
            lines.append(
                f'  printf("%zu %zu", sizeof({spelt}), _Alignof({spelt}));{offsets} printf("\\n");'
            )
        source = (
            "#include <stddef.h>\n#include <stdio.h>\n"
            f'#include "{os.path.realpath(header)}"\n'
            "int main(void) {\n" + "\n".join(lines) + "\n  return 0;\n}\n"
        )
        with tempfile.TemporaryDirectory(prefix="pyffi-layout-") as tmp:
            exe = os.path.join(tmp, "layout")
            cmd = [*cc.split(), "-x", "c", "-", "-o", exe, *flags(include_dirs, defines, include)]
            built = subprocess.run(cmd, input=source, capture_output=True, text=True, check=False)
            if built.returncode != 0:
                raise RuntimeError(built.stderr.strip().splitlines()[-1:] or ["failed"])
            ran = subprocess.run([exe], capture_output=True, text=True, check=True)
        out = []
        for line in ran.stdout.splitlines():
            numbers = [int(x) for x in line.split()]
            out.append((numbers[0], numbers[1], tuple(numbers[2:])))
        return out

    return measure


# What building a type cffi read may raise (complete_struct_or_union: KeyError for a field
# named twice; OverflowError for sizes; the parser's errors).
_CANNOT_BUILD = (
    TypeError,
    ValueError,
    KeyError,
    AttributeError,
    OverflowError,
    NotImplementedError,
    cffi.CDefError,
    cffi.FFIError,
)


def check_layouts(
    units: list[Unit],
    final: list[int],
    texts: dict[int, str],
    probe: cffi.FFI,
    measure: Measure | None,
    skipped: dict[str, str],
) -> None:
    """Keep each flagged struct where cffi's layout is the compiler's; declare the others
    opaque (their text and the probe's type), with the reason in ``skipped``."""
    decl = private.declarations(probe)
    targets: list[tuple[int, str, str, Any]] = []  # (unit, name, C spelling, model type)
    for k in final:
        u = units[k]
        if not u.layout:
            continue
        for n in u.names:
            key = n if n.startswith(("struct ", "union ")) else f"typedef {n}"
            tp = decl.get(key, (None,))[0]
            if isinstance(tp, (model.StructType, model.UnionType)) and tp.fldnames is not None:
                targets.append((k, n, n, tp))
    if not targets:
        return
    fields = [
        [f for f, bits in zip(tp.fldnames, tp.fldbitsize) if f and bits < 0]
        for _k, _n, _s, tp in targets
    ]
    try:
        measured: list[Layout | None] = (
            list(measure([(s, f) for (_k, _n, s, _tp), f in zip(targets, fields)]))
            if measure is not None
            else [None] * len(targets)
        )
        why_not = "no header to compile it with (cdef text)"
    except (OSError, RuntimeError, ValueError, subprocess.CalledProcessError) as exc:
        measured, why_not = [None] * len(targets), f"the compiler could not measure it: {exc}"
    opaque: dict[int, str] = {}
    for (k, n, _spelt, tp), names, got in zip(targets, fields, measured):
        try:
            ct = private.ctype(probe, tp)
            offsets = tuple(probe.offsetof(ct, f) for f in names)
            mine = (probe.sizeof(ct), probe.alignof(ct), offsets)
        except _CANNOT_BUILD as exc:
            # cffi cannot build it (a field named twice...): its first error is the reason
            # (the build check, after the half-built type is forgotten, refuses the unit)
            private.forget_built_types(probe)
            u = units[k]
            skipped.setdefault(
                n,
                f"cannot be declared ({str(exc).splitlines()[0] if str(exc) else repr(exc)}): "
                f"{u.origin}: {' '.join(u.text.split())[:200]}",
            )
            continue
        if got == mine:
            continue
        if got is None:
            reason = f"its layout is packed or aligned, which cffi is not told of; {why_not}"
        else:
            reason = (
                f"its layout (packed or aligned) is not the one cffi computes: the compiler "
                f"gives size {got[0]}, alignment {got[1]}, offsets {list(got[2])}; cffi "
                f"{mine[0]}, {mine[1]}, {list(mine[2])}"
            )
        opaque[id(tp)] = reason
        skipped[n] = (
            f"{reason} ({units[k].origin}): declared opaque (pointers to it work, its fields "
            "and passing it by value do not)"
        )
        texts[k] = _opaque_unit(units[k], decl)
    if opaque:
        for _k, _n, _s, tp in targets:
            if id(tp) in opaque:
                tp.fldnames = tp.fldtypes = tp.fldbitsize = tp.fldquals = None
        private.forget_built_types(probe)  # what was built with the fields is built again


def _opaque_unit(u: Unit, decl: dict[str, Any]) -> str:
    """The declaration of unit ``u``'s structs and typedefs, without their fields."""
    out = []
    for n in u.names:
        if n.endswith("#fwd"):
            continue
        if n.startswith(("struct ", "union ")):
            out.append(f"{n};")
            continue
        tp = decl.get(f"typedef {n}", (None,))[0]
        if isinstance(tp, (model.StructType, model.UnionType)) and not tp.name.startswith("$"):
            kind = "union" if isinstance(tp, model.UnionType) else "struct"
            out.append(f"typedef {kind} {tp.name} {n};")
        else:
            out.append(f"typedef struct _pyffi_opaque_{n} {n};")
    return "\n".join(out)
