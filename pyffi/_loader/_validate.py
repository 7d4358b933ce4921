"""Validation: which units a Library keeps, each checked by cffi's own parser.

The library's own units are kept, with the system units their types need (a
closure); ``static inline`` definitions become prototypes (callable in
mode="api"). cffi then reads them in chunks; a chunk it refuses is halved
until the refused units are found (a few ``cdef`` calls, not one per unit),
and each refused unit gets a second chance (array sizes folded, a system type
made opaque) before it goes to ``skipped`` with cffi's reason.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import cffi
from cffi import commontypes, model

from . import _cffi_private as private
from ._lexer import C_KEYWORDS
from ._macros import fold_array_sizes
from ._model import Declarations, Unit
from ._units import PLAIN, PLAIN_TOKEN, inline_prototype

__all__ = ["KNOWN_TYPES", "opaque_text", "validate"]

# Types cffi knows without a declaration.
KNOWN_TYPES = frozenset(commontypes.COMMON_TYPES) | frozenset(
    model.PrimitiveType.ALL_PRIMITIVE_TYPES
)
# What a failed cdef raises.
_REFUSED = (cffi.CDefError, cffi.FFIError, AssertionError, TypeError, ValueError, Warning)
# Units cffi reads at once before halving.
_CHUNK = 200


def validate(
    units: list[Unit], prefix: str, shortcut: bool = True
) -> tuple[Declarations, cffi.FFI, dict[str, int]]:
    """The Declarations of ``units``, the probe FFI that read them, its integer constants
    (``shortcut=False``: every unit read by cffi's parser, none from its parts)."""
    units = list(units)  # own inline definitions are replaced by their prototypes
    chosen = _select(units, prefix)
    checker = _Checker(units, prefix, chosen)
    checker.shortcut = shortcut
    for s in range(0, len(chosen.keep), _CHUNK):
        checker.chunk(chosen.keep[s : s + _CHUNK])
    checker.final.sort()  # source order (prototypes are declared ahead of their chunk)
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
        self.texts: dict[int, str] = {k: units[k].text for k in chosen.keep}
        self.final: list[int] = []
        self.prototypes = _Prototypes(self.probe)
        self.shortcut = True

    def chunk(self, part: list[int]) -> None:
        """Declare ``part`` in order: plain prototypes from the types of their parts
        (each parameter spelling parsed once), the rest through cffi's parser."""
        pending: list[int] = []
        types_pending = False
        for k in part:
            u = self.units[k]
            if u.kind == "function" and u.toks and self.shortcut:
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
        except _REFUSED as exc:
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
        if not u.own and u.kind in ("typedef", "tag"):
            alt = "\n".join(opaque_text(n) for n in u.names if not n.endswith("#fwd"))
            if self.attempt(alt) is None:
                self.texts[k] = alt
                self.final.append(k)
                return
        reason = f"cannot be declared ({detail}): {u.origin}: {' '.join(u.text.split())[:200]}"
        for n in u.names or [f"<{u.origin}>"]:
            if n in self.chosen.inline:  # its prototype: not callable in either mode
                self.chosen.skipped[n] = f"is a static inline function whose prototype {reason}"
            elif not n.endswith("#fwd"):
                self.chosen.skipped.setdefault(n, reason)


_SHAPE_OPS = frozenset(["(", ")", "*", ",", "..."])
_TAGS = frozenset(["struct", "union", "enum"])
_ID_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_REFUSED_PART = (*_REFUSED, NotImplementedError, KeyError, IndexError, AttributeError)


class _Prototypes:
    """Function prototypes declared from the types of their parts.

    cffi's parser costs a few hundred microseconds a declaration, and a header
    may hold 200,000 prototypes; their parameter spellings repeat. Each
    parameter (``const char *name``) and result (``int *``) is given to cffi's
    parser once per *shape*: its words that are not types (names) replaced by
    numbered placeholders, so ``const char *s`` and ``const char *t`` are one.
    The function type is then assembled as cffi assembles it. A prototype with
    anything else (an array size, a value, a declarator around the name, two
    declarators) goes to cffi's parser whole.
    """

    def __init__(self, probe: cffi.FFI) -> None:
        self.probe = probe
        self.parts: dict[tuple[str, ...], Any] = {}  # a part's shape -> its type (None: refused)
        self.functions: dict[tuple[Any, ...], Any] = {}  # the parts' shapes -> function type
        self.shapes: dict[str, tuple[str, ...]] = {}  # a part's text -> its shape
        self.types: dict[str, bool] = {}  # word -> is a type name

    def types_changed(self) -> None:
        """New typedefs may have been declared: the shapes seen so far are forgotten."""
        self.shapes.clear()
        self.types.clear()

    def is_type(self, word: str) -> bool:
        known = self.types.get(word)
        if known is None:
            known = self.types[word] = (
                word in C_KEYWORDS
                or word in KNOWN_TYPES
                or "typedef " + word in private.declarations(self.probe)
            )
        return known

    def shape(self, text: str) -> tuple[str, ...]:
        found = self.shapes.get(text)
        if found is None:
            found = self.shapes[text] = _shape(text, self.is_type)
        return found

    def declare(self, u: Unit) -> bool:
        """Declare ``u`` if it is a plain prototype of parts cffi accepts."""
        split = _prototype_parts(u)
        if split is None:
            return False
        result, params, ellipsis = split
        keys = [self.shape(result), *map(self.shape, params)]
        whole = (*keys, ellipsis)
        tp = self.functions.get(whole)
        if tp is not None:
            private.declare_function_type(self.probe, u.names[0], tp)
            return True
        result_tp = self.part(keys[0], result, private.result_type)
        args = [self.part(key, p, private.parameter_type) for key, p in zip(keys[1:], params)]
        if result_tp is None or any(a is None for a in args):
            return False  # cffi's parser, given the whole unit, says why
        if not ellipsis and args == [model.void_type]:
            args = []
        if model.void_type in args or (ellipsis and not args):
            return False
        self.functions[whole] = private.declare_function(
            self.probe, u.names[0], tuple(args), result_tp, ellipsis
        )
        return True

    def part(self, key: tuple[str, ...], text: str, parse: Any) -> Any:
        if key not in self.parts:
            snap = private.snapshot(self.probe)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    self.parts[key] = parse(self.probe, text)
            except _REFUSED_PART:
                private.restore(self.probe, snap)
                self.parts[key] = None
        return self.parts[key]


def _prototype_parts(u: Unit) -> tuple[str, list[str], bool] | None:
    """(result, each parameter, variadic) of ``RESULT name(PARAMS);`` as text."""
    if len(u.names) != 1:
        return None
    m = PLAIN.fullmatch(u.text)  # most prototypes: no parenthesis among the parameters
    if m is not None and m.group(1) == u.names[0]:
        result = u.text[: m.start(1)]
        params = m.group(2).split(",")
    else:
        split = _parts_of_tokens(u)
        if split is None:
            return None
        result, params = split
    if result.startswith("extern") and not result[6:7].isalnum() and result[6:7] != "_":
        result = result[6:]
    params = [p.strip() for p in params]
    ellipsis = params[-1] == "..."
    if ellipsis:
        params.pop()
    if not result.strip() or any(not p or "..." in p for p in params):
        return None
    return result, params, ellipsis


def _parts_of_tokens(u: Unit) -> tuple[str, list[str]] | None:
    """(result, parameters) of a prototype whose parameters hold parentheses
    (``int (*cb)(int)``), from its tokens."""
    toks = u.toks
    try:
        at = toks.index(u.names[0])
    except ValueError:
        return None
    if at + 1 >= len(toks) or toks[at + 1] != "(" or toks[-1] != ";":
        return None
    result = toks[:at]
    if "(" in result or ")" in result:
        return None
    inner = toks[at + 2 : -2]  # between the parentheses, when the list ends the unit
    if toks[-2] != ")" or any(t not in _SHAPE_OPS and t[0] not in _ID_START for t in inner):
        return None  # a value, an array size: cffi's parser evaluates those
    params = _split_parameters(inner)
    if params is None:
        return None
    return " ".join(result), [" ".join(p) for p in params]


def _split_parameters(inner: tuple[str, ...]) -> list[list[str]] | None:
    """The parameters (lists of words) of a list holding parentheses (``int (*cb)(int)``)."""
    params: list[list[str]] = [[]]
    depth = 0
    for t in inner:
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth < 0:
                return None  # the list closes early: a declarator around the name
        elif t == "," and depth == 0:
            params.append([])
            continue
        params[-1].append(t)
    return params if depth == 0 else None


def _shape(text: str, is_type: Any) -> tuple[str, ...]:
    """The words of ``text`` with each that is not a type replaced by a numbered
    placeholder: what decides how cffi's parser reads them (which are typedef names)."""
    out: list[str] = []
    seen: dict[str, str] = {}
    prev = ""
    for tok in PLAIN_TOKEN.findall(text):
        word = tok
        if tok[0] in _ID_START and prev not in _TAGS and not is_type(tok):
            word = seen.setdefault(tok, f"\0{len(seen)}")
        out.append(word)
        prev = tok
    return tuple(out)


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
    for k in final:
        u = units[k]
        for n in u.names:
            if n.endswith("#fwd"):
                fwd.append((n[:-4], index[k]))
            elif f"function {n}" in decl:
                if u.own:
                    (t.api_only if n in chosen.inline else t.functions)[n] = index[k]
            elif f"variable {n}" in decl:
                if u.own:
                    t.variables[n] = index[k]
            elif n.startswith(("struct ", "union ", "enum ")) or f"typedef {n}" in decl:
                t.types.setdefault(n, index[k])
            elif n in ints:
                t.enum_at.setdefault(n, index[k])
    texts = [checker.texts[k] for k in final]
    origins = [units[k].origin for k in final]
    _drop_unreachable(decl, t, texts, origins, chosen.skipped)
    for n, at in fwd:  # a forward declaration stands only where there is no definition
        t.types.setdefault(n, at)
    name_unit = {**t.enum_at, **t.types}
    deps: list[list[int]] = []
    for i, k in enumerate(final):
        u = units[k]
        hits = [n for n in u.uses if n in name_unit]
        if hits:
            own_names = set(u.names)
            ds = {name_unit[n] for n in hits if n not in own_names}
            ds.discard(i)
            deps.append(sorted(ds))
        else:
            deps.append([])
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


def _drop_unreachable(
    decl: dict[str, Any], t: _Tables, texts: list[str], origins: list[str], skipped: dict[str, str]
) -> None:
    """Functions ABI mode cannot call: a parameter or result whose layout is unknown."""
    opaque: dict[int, tuple[int, Any] | None] = {}  # id(type) -> (position, type) or None
    for n, table in [
        *((n, t.functions) for n in t.functions),
        *((n, t.api_only) for n in t.api_only),
    ]:
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
            del table[n]
