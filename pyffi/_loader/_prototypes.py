"""Plain function prototypes declared from the types of their parts (``_validate``).

cffi's parser costs a few hundred microseconds a declaration, and a header may
hold 200,000 prototypes, whose parameter spellings repeat: each part is given
to cffi's parser once per shape, and the function type assembled as cffi
assembles it (``_cffi_private.declare_function``).
"""

from __future__ import annotations

import warnings
from typing import Any

import cffi
from cffi import commontypes, model

from . import _cffi_private as private
from ._lexer import C_KEYWORDS
from ._model import Unit
from ._units import PLAIN_TOKEN

__all__ = ["KNOWN_TYPES", "REFUSED", "Prototypes"]

# Types cffi knows without a declaration.
KNOWN_TYPES = frozenset(commontypes.COMMON_TYPES) | frozenset(
    model.PrimitiveType.ALL_PRIMITIVE_TYPES
)
# What a failed cdef raises.
REFUSED = (
    cffi.CDefError,
    cffi.FFIError,
    AssertionError,
    TypeError,
    ValueError,
    NotImplementedError,
    Warning,
)

_SHAPE_OPS = frozenset(["(", ")", "*", ",", "..."])
_TAGS = frozenset(["struct", "union", "enum"])
_ID_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_REFUSED_PART = (*REFUSED, NotImplementedError, KeyError, IndexError, AttributeError)


class Prototypes:
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
        self.functions: dict[tuple[Any, ...], Any] = {}  # the parts' shapes -> (type, quals)
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
        entry = self.functions.get(whole)
        if entry is not None:
            private.declare_function_type(self.probe, u.names[0], entry)
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
    if u.plain:  # most prototypes: no parenthesis among the parameters (_units.PLAIN)
        result, listed = u.plain
        params = listed.split(",")
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
