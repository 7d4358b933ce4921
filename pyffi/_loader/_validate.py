"""Validation: which units a Library keeps, each checked by cffi's own parser.

The library's own units are kept, with the system units their types need (a
closure); ``static inline`` definitions become prototypes (callable in
mode="api"). cffi then reads them in chunks; a chunk it refuses is halved
until the refused units are found (a few ``cdef`` calls, not one per unit),
and each refused unit gets a second chance (array sizes folded, a system type
made opaque) before it goes to ``skipped`` with cffi's reason. Plain
prototypes are declared from their parts' types (``_prototypes``). Last, every
type, function and variable kept is built as cffi builds it on first use: what
cffi reads but cannot build (an enum wider than ``long``, a bit-field wider
than its type, a function inside a struct) is skipped too, with what uses it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cffi
from cffi import model

from . import _cffi_private as private
from ._layouts import Measure, check_layouts
from ._macros import fold_array_sizes, fold_enum_values
from ._model import Declarations, Unit
from ._prototypes import KNOWN_TYPES, REFUSED, Prototypes
from ._units import inline_prototype

__all__ = ["opaque_text", "validate"]

# Units cffi reads at once before halving.
_CHUNK = 200


def validate(
    units: list[Unit], prefix: str, shortcut: bool = True, measure: Measure | None = None
) -> tuple[Declarations, cffi.FFI, dict[str, int]]:
    """The Declarations of ``units``, the probe FFI that read them, its integer constants
    (``shortcut=False``: every unit read by cffi's parser, none from its parts; ``measure``:
    the compiler's layouts, for structs packed or aligned)."""
    units = list(units)  # own inline definitions are replaced by their prototypes
    chosen = _select(units, prefix)
    checker = _Checker(units, prefix, chosen)
    checker.shortcut = shortcut
    for s in range(0, len(chosen.keep), _CHUNK):
        checker.chunk(chosen.keep[s : s + _CHUNK])
    checker.final.sort()  # source order (prototypes are declared ahead of their chunk)
    check_layouts(units, checker.final, checker.texts, checker.probe, measure, chosen.skipped)
    checker.build()
    return _index(units, checker, chosen)


# --- which units -----------------------------------------------------------------------


@dataclass
class _Selection:
    keep: list[int] = field(default_factory=list)  # unit indexes, in source order
    skipped: dict[str, str] = field(default_factory=dict)
    inline: set[str] = field(default_factory=set)  # own static inline functions


def _definitions(units: list[Unit]) -> dict[str, int]:
    """name -> the unit defining it (the own definition wins over a system one)."""
    defined: dict[str, int] = {}
    forwards: dict[str, int] = {}
    for k, u in enumerate(units):
        for n in u.names:
            if n.endswith("#fwd"):
                forwards.setdefault(n[:-4], k)
                continue
            counts = u.kind in ("typedef", "tag", "function", "variable", "other") or (
                u.kind in ("inline", "static") and u.own
            )
            if counts and (n not in defined or (u.own and not units[defined[n]].own)):
                defined[n] = k
    for n, k in forwards.items():
        defined.setdefault(n, k)
    return defined


def _select(units: list[Unit], prefix: str) -> _Selection:
    """The own units and the system typedefs and tags they use, transitively."""
    plain = {n for u in units if u.own and u.kind == "function" for n in u.names}
    defined = _definitions(units)
    # the prefix's types (pyffi.h's slices) are known already
    given = set(re.findall(r"typedef struct (\w+)", prefix))
    known = KNOWN_TYPES | given | {f"struct {n}" for n in given}
    chosen = _Selection()
    wanted: set[int] = set()

    def want(k: int) -> None:
        if k in wanted:
            return
        wanted.add(k)
        for n in units[k].uses:
            j = defined.get(n)
            if (
                j is not None
                and j != k
                and not units[j].own
                and n not in known
                and units[j].kind in ("typedef", "tag")
            ):
                want(j)
        chosen.keep.append(k)

    for k, u in enumerate(units):
        if not u.own:
            continue
        if u.kind == "inline":
            for n in u.names:
                chosen.skipped[n] = (
                    f"is a static inline function in {u.origin}; ABI mode can only call "
                    'exported symbols (mode="api" compiles a call to it)'
                )
            proto = inline_prototype(u.text)
            # an inline definition of an exported function (gnu_inline): the export wins
            if proto is not None and u.names and not plain & set(u.names):
                units[k] = Unit(proto, u.origin, True, "function", u.names, u.uses)
                chosen.inline.update(u.names)
                want(k)
            continue
        if u.kind == "static":
            for n in u.names:
                chosen.skipped[n] = (
                    f"is declared static in {u.origin}; ABI mode can only reach exported symbols"
                )
            continue
        if u.kind == "typedef" and all(n in known for n in u.names) and u.names:
            continue  # e.g. a header's own 'typedef unsigned int uint32_t;': cffi knows it
        want(k)
    chosen.keep.sort()
    return chosen


# --- cffi reads them ------------------------------------------------------------------


class _Checker:
    """Gives cffi the chosen units; what it refuses goes to ``skipped`` with its reason."""

    def __init__(self, units: list[Unit], prefix: str, chosen: _Selection) -> None:
        self.units, self.chosen = units, chosen
        self.probe = private.lean_parsing(cffi.FFI())
        self.probe.cdef(prefix)
        private.snapshot(self.probe)  # from here on, what cffi declares is journaled
        self.texts: dict[int, str] = {k: units[k].text for k in chosen.keep}
        self.final: list[int] = []
        self.prototypes = Prototypes(self.probe)
        self.shortcut = True

    def chunk(self, part: list[int]) -> None:
        """Declare ``part`` in order: plain prototypes from the types of their parts
        (each parameter spelling parsed once), the rest through cffi's parser."""
        pending: list[int] = []
        types_pending = False
        for k in part:
            u = self.units[k]
            if u.kind == "function" and (u.plain or u.toks) and self.shortcut:
                if types_pending:
                    self.settle(pending)  # the types it may use are declared first
                    self.prototypes.types_changed()
                    pending, types_pending = [], False
                if self.prototypes.declare(u):
                    self.final.append(k)
                    continue
            else:
                types_pending = True
            pending.append(k)
        if pending:
            self.settle(pending)
            if types_pending:
                self.prototypes.types_changed()

    def build(self) -> None:
        """Build each kept unit's types as cffi builds them on first use; a unit
        cffi read but cannot build goes to ``skipped`` with the reason."""
        decl = private.declarations(self.probe)
        conflicts = private.conflicts(self.probe)
        built: dict[int, str | None] = {}  # id(model type) -> why it cannot be built
        kept = []
        for k in self.final:
            why = None
            for n in self.units[k].names if self.units[k].kind == "function" else ():
                if n in conflicts:
                    first, second = (t.get_c_name() for t in conflicts[n])
                    why = f"declared twice with different types, {first} and {second}"
            for key in _keys(self.units[k]) if why is None else ():
                entry = decl.get(key)
                if entry is None:
                    continue
                tp = entry[0]
                if id(tp) not in built:
                    built[id(tp)] = _blocked(tp, built) or _unbuildable(self.probe, tp)
                why = built[id(tp)]
                if why is not None:
                    break
            if why is None:
                kept.append(k)
            else:
                self.refuse(k, why)
        self.final = kept

    def refuse(self, k: int, detail: str) -> None:
        """Unit ``k`` goes to ``skipped`` with cffi's reason."""
        u = self.units[k]
        reason = f"cannot be declared ({detail}): {u.origin}: {' '.join(u.text.split())[:200]}"
        for n in u.names or [f"<{u.origin}>"]:
            if n in self.chosen.inline:  # its prototype: not callable in either mode
                self.chosen.skipped[n] = f"is a static inline function whose prototype {reason}"
            elif not n.endswith("#fwd"):
                self.chosen.skipped.setdefault(n, reason)

    def attempt(self, text: str) -> str | None:
        """None if cffi reads ``text`` (kept), else its one-line reason (undone)."""
        snap = private.snapshot(self.probe)
        try:
            # cffi's warnings (a global without 'extern', a string literal) say a
            # declaration is not what it seems: a failure here, never ignored.
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                self.probe.cdef(text, override=True)
            return None
        except REFUSED as exc:
            private.restore(self.probe, snap)
            first = str(exc).replace("<cdef source string>:", "").splitlines()[0].strip()
            return first or repr(exc)

    def settle(self, part: list[int]) -> None:
        """Halve ``part`` until the refused units are found."""
        if len(part) == 1:
            self.one(part[0])
        elif self.attempt("\n".join(self.texts[k] for k in part)) is None:
            self.final.extend(part)
        else:
            self.settle(part[: len(part) // 2])
            self.settle(part[len(part) // 2 :])

    def one(self, k: int) -> None:
        u, text = self.units[k], self.texts[k]
        detail = self.attempt(text)
        if detail is None:
            self.final.append(k)
            return
        fixed = fold_array_sizes(text, self.probe, u.kind == "function") if "[" in text else None
        if fixed is not None and self.attempt(fixed) is None:
            self.texts[k] = fixed
            self.final.append(k)
            return
        fixed = fold_enum_values(text, self.probe) if "enum" in text else None
        if fixed is not None and self.attempt(fixed) is None:
            self.texts[k] = fixed
            self.final.append(k)
            return
        if not u.own and u.kind in ("typedef", "tag"):
            alt = "\n".join(opaque_text(n) for n in u.names if not n.endswith("#fwd"))
            if self.attempt(alt) is None:
                self.texts[k] = alt
                self.final.append(k)
                return
        self.refuse(k, detail)


_BUILD_ERRORS = (*REFUSED, NotImplementedError, OverflowError, KeyError, AttributeError)


def _keys(u: Unit) -> list[str]:
    """The keys of cffi's declarations that unit ``u`` makes."""
    keys = []
    for n in u.names:
        if n.endswith("#fwd"):
            continue
        if n.startswith(("struct ", "union ", "enum ")):
            keys.append(n)
        elif u.kind == "function":
            keys.append(f"function {n}")
        elif u.kind == "variable":
            keys += [f"variable {n}", f"constant {n}"]
        elif u.kind in ("typedef", "other"):
            keys.append(f"typedef {n}")
    return keys


def _blocked(tp: Any, built: dict[int, str | None]) -> str | None:
    """Why ``tp`` cannot be built if a type it is made of could not be (built before
    it, in source order): that type named, rather than cffi's second, vaguer error."""
    parts = [tp]
    seen = set()
    while parts:
        t = parts.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        if t is not tp and built.get(id(t)):
            return f"uses {t.get_c_name()}, which cannot be declared: {built[id(t)]}"
        if isinstance(t, model.BaseFunctionType):
            parts += [*t.args, t.result]
        elif isinstance(t, (model.PointerType, model.ArrayType)):
            parts.append(t.totype if isinstance(t, model.PointerType) else t.item)
    return None


def _unbuildable(probe: cffi.FFI, tp: Any) -> str | None:
    """None if cffi builds ``tp``, else its one-line reason."""
    if isinstance(tp, model.RawFunctionType):  # typedef int fn(int): used through pointers
        tp = tp.as_function_pointer()
    if isinstance(tp, model.BaseFunctionType) and any(
        isinstance(a, (model.StructType, model.UnionType)) and a.fldnames is None
        for a in (*tp.args, tp.result)
    ):
        return None  # an opaque struct by value (va_list): _drop_unreachable says so
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            private.ctype(probe, tp)
    except _BUILD_ERRORS as exc:
        return str(exc).splitlines()[0].strip() or repr(exc)
    return None


def opaque_text(name: str) -> str:
    """A declaration of system type ``name`` as an opaque type (its layout unknown)."""
    if name.startswith(("struct ", "union ")):
        return f"{name};"
    if name.startswith("enum "):
        return f"typedef int _pyffi_enum_{name[5:]};"
    return f"typedef struct _pyffi_opaque_{name} {name};"


# --- the tables --------------------------------------------------------------------------


@dataclass
class _Tables:
    functions: dict[str, int] = field(default_factory=dict)
    api_only: dict[str, int] = field(default_factory=dict)
    variables: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    enum_at: dict[str, int] = field(default_factory=dict)


def _index(
    units: list[Unit], checker: _Checker, chosen: _Selection
) -> tuple[Declarations, cffi.FFI, dict[str, int]]:
    """Name tables, dependencies and enum constants of the units cffi read."""
    final, probe = checker.final, checker.probe
    index = {k: i for i, k in enumerate(final)}
    decl = private.declarations(probe)
    ints = private.int_constants(probe)
    t = _Tables()
    fwd: list[tuple[str, int]] = []
    functions, inline = t.functions, chosen.inline
    for at, k in enumerate(final):
        u = units[k]
        if u.plain and u.own and u.names[0] not in inline:  # a prototype _prototypes declared
            functions[u.names[0]] = at
            continue
        for n in u.names:
            if n.endswith("#fwd"):
                fwd.append((n[:-4], index[k]))
            elif f"function {n}" in decl:
                if u.own:
                    (t.api_only if n in inline else t.functions)[n] = index[k]
            elif f"variable {n}" in decl:
                if u.own:
                    t.variables[n] = index[k]
            elif f"constant {n}" in decl:  # extern const T n;: cffi's "constant"
                kept = _constant_global(n, decl[f"constant {n}"][0], u, t, index[k], chosen)
                if not kept and len(u.names) == 1:
                    checker.texts[k] = ""  # no cdef (mode="api" compiles them all) sees it
            elif n.startswith(("struct ", "union ", "enum ")) or f"typedef {n}" in decl:
                t.types.setdefault(n, index[k])
            elif n in ints:
                t.enum_at.setdefault(n, index[k])
    texts = [checker.texts[k] for k in final]
    origins = [units[k].origin for k in final]
    _drop_unreachable(decl, t, texts, origins, chosen.skipped)
    _unnamed(units, final, t, chosen.skipped)
    for n, at in fwd:  # a forward declaration stands only where there is no definition
        t.types.setdefault(n, at)
    name_unit = {**t.enum_at, **t.types}
    deps: list[Sequence[int]] = []
    none: tuple[int, ...] = ()  # one shared empty tuple: nothing for the collector to track
    for i, k in enumerate(final):
        u = units[k]
        hits = [n for n in u.uses if n in name_unit]
        if hits:
            own_names = set(u.names)
            ds = {name_unit[n] for n in hits if n not in own_names}
            ds.discard(i)
            deps.append(tuple(sorted(ds)) if ds else none)
        else:
            deps.append(none)
    constants = {n: ints[n] for n, at in t.enum_at.items() if units[final[at]].own}
    decls = Declarations(
        units=texts,
        deps=deps,
        origins=origins,
        functions=t.functions,
        variables=t.variables,
        types=t.types,
        skipped=chosen.skipped,
        constants=constants,
        aliases={},
        api_only=t.api_only,
    )
    return decls, probe, ints


def _custom_layout(tp: Any) -> str | None:
    """The struct with bit-fields or anonymous members that function type ``tp`` passes
    or returns by value, spelt with what it has, or None."""
    for a in (*tp.args, tp.result):
        if isinstance(a, (model.StructType, model.UnionType)) and _has_custom_fields(a):
            return f"{a.get_c_name()} (bit-fields or anonymous members)"
    return None


def _has_custom_fields(tp: Any, depth: int = 0) -> bool:
    if tp.fldnames is None or depth > 32:
        return False
    for f, ft, bits in zip(tp.fldnames, tp.fldtypes, tp.fldbitsize):
        if bits >= 0 or not f:
            return True
        nested = isinstance(ft, (model.StructType, model.UnionType))
        if nested and _has_custom_fields(ft, depth + 1):
            return True
    return False


def _constant_global(n: str, tp: Any, u: Unit, t: _Tables, at: int, chosen: _Selection) -> bool:
    """``extern const T n;``: a variable when T is a number (cffi reads it), else skipped
    (False)."""
    if isinstance(tp, (model.PrimitiveType, model.EnumType)):
        if u.own:
            t.variables[n] = at
        return True
    if u.own:
        chosen.skipped[n] = (
            f"is a const global of type {tp.get_c_name()} ({u.origin}): cffi reads only "
            "numbers from a library's const globals"
        )
    return False


def _unnamed(units: list[Unit], final: list[int], t: _Tables, skipped: dict[str, str]) -> None:
    """Own functions and variables cffi declared under a name pyffi did not read: never
    silently missing, but in ``skipped`` under their place."""
    found = {*t.functions, *t.api_only, *t.variables, *skipped}
    for k in final:
        u = units[k]
        if u.own and u.kind in ("function", "variable") and not found.intersection(u.names):
            skipped[f"<{u.origin}>"] = (
                f"declares a name pyffi could not read (it read {list(u.names)}): "
                f"{' '.join(u.text.split())[:200]}"
            )


def _drop_unreachable(
    decl: dict[str, Any], t: _Tables, texts: list[str], origins: list[str], skipped: dict[str, str]
) -> None:
    """Functions ABI mode cannot call: a parameter or result whose layout is unknown.
    A unit left declaring nothing is emptied: no cdef (mode="api" compiles them all)
    sees a prototype cffi would refuse to render."""
    removed: set[int] = set()
    opaque: dict[int, tuple[int, Any] | None] = {}  # id(type) -> (position, type) or None
    customs: dict[int, str | None] = {}  # id(type) -> a struct libffi cannot pass, or None
    for table in (t.functions, t.api_only):
        _drop_from(table, decl, t, texts, origins, skipped, opaque, customs, removed)
    kept = {*t.functions.values(), *t.api_only.values(), *t.variables.values()}
    for at in removed - kept:
        texts[at] = ""


def _drop_from(
    table: dict[str, int],
    decl: dict[str, Any],
    t: _Tables,
    texts: list[str],
    origins: list[str],
    skipped: dict[str, str],
    opaque: dict[int, Any],
    customs: dict[int, str | None],
    removed: set[int],
) -> None:
    """_drop_unreachable for one table (the functions, or the api_only ones)."""
    for n in list(table):
        tp = decl[f"function {n}"][0]
        if id(tp) not in opaque:  # prototypes of one shape share their type
            opaque[id(tp)] = next(
                (
                    (i, a)
                    for i, a in enumerate([*tp.args, tp.result])
                    if isinstance(a, (model.StructType, model.UnionType)) and a.fldnames is None
                ),
                None,
            )
        found = opaque[id(tp)]
        if found is None and table is t.functions:
            if id(tp) not in customs:
                customs[id(tp)] = _custom_layout(tp)
            custom = customs[id(tp)]
            if custom is not None:  # libffi cannot pass it: only compiled code calls it
                at = table.pop(n)
                t.api_only[n] = at
                skipped[n] = (
                    f"passes {custom} by value ({origins[at]}); libffi (ABI mode) cannot pass "
                    'such a struct: mode="api" calls it'
                )
                continue
        if found is not None:
            i, a = found
            at = table[n]
            if re.search(r"\b(va_list|__gnuc_va_list)\b", texts[at]):
                why = (
                    f"has a va_list parameter ({origins[at]}); "
                    "ABI mode cannot build a va_list: call the variadic form of the function"
                )
            else:
                what = "result" if i == len(tp.args) else f"parameter {i + 1}"
                why = (
                    f"passes its {what} by value as {a.get_c_name()}, whose layout is not "
                    f"known ({origins[at]})"
                )
            skipped[n] = why
            removed.add(table.pop(n))
