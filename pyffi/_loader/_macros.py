"""Macros: ``#define`` constants, aliases, macro prototypes and array sizes, in one place.

Each object-like macro of the library's own headers is expanded (object-
and function-like macros, ``#`` and ``##``) and, if what remains is a
constant expression, evaluated with C's rules (``_cexpr``). A macro that
names a declared function (``#define mpz_add __gmpz_add``) is an alias; a
function-like macro whose body is one call gets a prototype (mode="api"
calls it); the others are reported as skipped. Array sizes cffi cannot
evaluate (``sizeof(T)``, casts) are folded into numbers the same way.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import cffi

from . import _cffi_private as private
from ._cexpr import Evaluator, NotConstant
from ._lexer import Tok, closing, tokens
from ._model import Declarations, Macro

__all__ = [
    "Macros",
    "arguments",
    "cdef_macros",
    "fold_array_sizes",
    "fold_enum_values",
    "macro_prototype",
    "resolve",
]

_CDEF_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)]*\))?[ \t]*(.*)$", re.M)


# --- expansion ---------------------------------------------------------------------------


#: The most tokens one ``#define``'s expansion may produce before it is given up
#: (``#define A2 A1+A1`` doubles at each level: 2**N tokens).
BUDGET = 200_000


class TooCostly(NotConstant):
    """The expansion exceeds :data:`BUDGET` tokens."""


class Macros:
    """Every macro of a header set, expanded as the C preprocessor expands them.

    While :meth:`constant` evaluates a ``#define``, the expansion of each macro
    is kept per (name, hidden names): a macro used twice is expanded once, and an
    expansion that is a parenthesized constant (``(A1 + A1)``) is replaced by one
    ``val`` token carrying its value, so doubling chains cost linear time. What
    still grows past :data:`BUDGET` tokens raises :class:`TooCostly`.
    """

    def __init__(self, defs: list[Macro]) -> None:
        self.table: dict[str, tuple[list[str] | None, list[Tok], str]] = {}
        self.own: dict[str, None] = {}  # the library's own macros, in order
        self.values: list[tuple[Any, Any]] = []  # what the ``val`` tokens stand for
        self.weights: list[int] = []  # how many tokens of the full expansion each stands for
        self._memo: dict[tuple[str, frozenset[str]], list[Tok]] = {}
        self._ffi: Any = None
        self._enums: dict[str, int] = {}
        self._spent = 0
        for name, params, body, file, line, own in defs:
            if body == "\0undef":
                self.table.pop(name, None)
                self.own.pop(name, None)
                continue
            if own:
                self.own[name] = None
            else:
                self.own.pop(name, None)
            plist = None
            if params is not None:
                plist = [p.strip() for p in params[1:-1].split(",") if p.strip()]
            self.table[name] = (plist, tokens(body), f"{file}:{line}")

    def constant(self, name: str, ffi: Any, enums: dict[str, int]) -> list[Tok]:
        """The expansion of the object-like macro ``name``, constants folded."""
        self._ffi, self._enums, self._spent = ffi, enums, 0
        return self.expand(self.table[name][1], frozenset({name}))

    def evaluator(self, toks: list[Tok]) -> Evaluator:
        return Evaluator(toks, self._ffi, self._enums, self.values)

    def _folded(self, toks: list[Tok]) -> list[Tok]:
        """``toks`` as one ``val`` token if they are a parenthesized constant."""
        if self._ffi is None or len(toks) < 3 or toks[0][1] != "(":
            return toks
        if closing(toks, 0) != len(toks) - 1:
            return toks
        try:
            value = self.evaluator(toks).run()
        except (NotConstant, RecursionError, ValueError, SyntaxError, OverflowError, TypeError):
            return toks
        if value[1] == "str":
            return toks
        self.values.append(value)
        self.weights.append(self.weight(toks))
        return [("val", str(len(self.values) - 1))]

    def weight(self, toks: list[Tok]) -> int:
        """How many tokens ``toks`` are once every ``val`` token is expanded again: what
        the C preprocessor produces (a compiler given the macro works that much)."""
        return sum(self.weights[int(t)] if k == "val" else 1 for k, t in toks)

    def _spend(self, n: int) -> None:
        self._spent += n
        if self._spent > BUDGET:
            raise TooCostly(f"expanding it takes more than {BUDGET} tokens")

    def expand(
        self, toks: list[Tok], hide: frozenset[str] = frozenset(), depth: int = 0
    ) -> list[Tok]:
        if depth > 64:
            raise NotConstant("macro expansion too deep")
        out: list[Tok] = []
        i = 0
        while i < len(toks):
            kind, tok = toks[i]
            entry = self.table.get(tok) if kind == "id" and tok not in hide else None
            if entry is None:
                out.append(toks[i])
                i += 1
                continue
            params, body, _ = entry
            if params is None:
                key = (tok, hide)
                done = self._memo.get(key)
                if done is None:
                    done = self._folded(self.expand(body, hide | {tok}, depth + 1))
                    self._memo[key] = done
                out += done
                i += 1
                continue
            if i + 1 >= len(toks) or toks[i + 1][1] != "(":
                out.append(toks[i])
                i += 1
                continue
            args, i = arguments(toks, i + 2)
            if params == [] and args == [[]]:
                args = []
            out += self._folded(
                self.expand(
                    self.substitute(body, params, args, hide, depth), hide | {tok}, depth + 1
                )
            )
        self._spend(len(out))
        return out

    def substitute(
        self,
        body: list[Tok],
        params: list[str],
        args: list[list[Tok]],
        hide: frozenset[str],
        depth: int,
    ) -> list[Tok]:
        variadic = bool(params) and params[-1].endswith("...")
        names = [p[:-3].strip() or "__VA_ARGS__" if p.endswith("...") else p for p in params]
        if variadic:
            fixed = len(names) - 1
            rest = args[fixed:]
            joined: list[Tok] = []
            for k, a in enumerate(rest):
                if k:
                    joined.append(("op", ","))
                joined += a
            args = [*args[:fixed], joined]
        if len(args) != len(names):
            raise NotConstant("wrong macro argument count")
        value = dict(zip(names, args))
        expanded: dict[str, list[Tok]] = {}  # each argument expanded once
        out: list[Tok] = []
        k = 0
        while k < len(body):
            kind, tok = body[k]
            if tok == "#" and k + 1 < len(body) and body[k + 1][1] in value:
                text = _spell(value[body[k + 1][1]])
                out.append(("str", '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'))
                k += 2
                continue
            if tok == "##" and out and k + 1 < len(body):
                right = body[k + 1]
                rtoks = value.get(right[1], [right]) if right[0] == "id" else [right]
                left = out.pop()
                pasted = tokens(left[1] + (rtoks[0][1] if rtoks else ""))
                out += pasted + rtoks[1:]
                k += 2
                continue
            if kind == "id" and tok in value:
                nxt = body[k + 1][1] if k + 1 < len(body) else ""
                if nxt == "##":
                    out += value[tok]
                else:
                    if tok not in expanded:
                        expanded[tok] = self.expand(value[tok], hide, depth + 1)
                    out += expanded[tok]
                k += 1
                continue
            out.append(body[k])
            k += 1
        return out


def _spell(toks: list[Tok]) -> str:
    """``#x``: the tokens as text. The tokens keep no spacing: one space between two,
    none around ``.`` (version numbers, ``1.9.4``: written without spaces)."""
    text = ""
    for k, (_, t) in enumerate(toks):
        if k and t != "." and toks[k - 1][1] != ".":
            text += " "
        text += t
    return text


def arguments(toks: list[Tok], i: int) -> tuple[list[list[Tok]], int]:
    args: list[list[Tok]] = [[]]
    depth = 0
    while i < len(toks):
        tok = toks[i][1]
        if tok == "(":
            depth += 1
        elif tok == ")":
            if depth == 0:
                return args, i + 1
            depth -= 1
        elif tok == "," and depth == 0:
            args.append([])
            i += 1
            continue
        args[-1].append(toks[i])
        i += 1
    raise NotConstant("unterminated macro call")


# --- the stage ---------------------------------------------------------------------------


def resolve(
    decls: Declarations,
    macros: Macros,
    probe: Any,
    int_constants: dict[str, int],
) -> Declarations:
    """``decls`` with the macros' constants, aliases, skips and prototypes."""
    consts, aliases, skipped, heavy = evaluate(
        macros, probe, int_constants, set(decls.functions), set(decls.variables)
    )
    # what mode="api" has the compiler evaluate: not the enums (they win), not what
    # expands past BUDGET tokens (the evaluator's value, which the memo made cheap)
    decls.macro_constants = [n for n in consts if n not in decls.constants and n not in heavy]
    decls.macros = list(macros.own)
    decls.constants = {**consts, **decls.constants}
    decls.aliases = aliases
    for name, why in skipped.items():
        decls.skipped.setdefault(name, why)
    _macro_functions(decls, macros, probe)
    return decls


def _macro_functions(decls: Declarations, macros: Macros, probe: cffi.FFI) -> None:
    """Give the function-like macros that wrap one call a prototype (for mode="api").

    ``#define deflateInit(strm, level) deflateInit_((strm), (level), VERSION, size)``:
    each parameter is a whole argument of a call to a declared function, so the
    macro takes those arguments' types and returns that function's result:
    ``int deflateInit(z_streamp strm, int level);``.
    """
    known = private.declarations(probe)
    for name in list(macros.own):
        params, body, origin = macros.table[name]
        if params is None or name in decls.functions or name in decls.api_only:
            continue
        if any(k.endswith(f" {name}") for k in known):
            continue  # the name is also a type, variable or function of the declarations
        proto = macro_prototype(name, params, body, known, decls)
        if proto is None:
            continue
        snap = private.snapshot(probe)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                probe.cdef(proto, override=True)
        except (cffi.CDefError, cffi.FFIError, AssertionError, TypeError, ValueError, Warning):
            private.restore(probe, snap)
            continue
        target = decls.functions.get(_call_target(body) or "")
        decls.units.append(proto)
        decls.deps.append(list(decls.deps[target]) if target is not None else [])
        decls.origins.append(origin)
        decls.api_only[name] = len(decls.units) - 1
        decls.skipped[name] = (
            f"is a function-like macro ({origin}); only compiled code can expand it "
            f'(mode="api" calls it as {proto})'
        )


def _strip_parens(toks: list[Tok]) -> list[Tok]:
    while len(toks) >= 2 and toks[0][1] == "(" and closing(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    return toks


def _call_target(body: list[Tok]) -> str | None:
    toks = _strip_parens(body)
    if len(toks) >= 3 and toks[0][0] == "id" and toks[1][1] == "(":
        return toks[0][1] if closing(toks, 1) == len(toks) - 1 else None
    return None


def macro_prototype(
    name: str,
    params: list[str],
    body: list[Tok],
    known: dict[str, Any],
    decls: Declarations,
) -> str | None:
    """``RESULT name(T1 p1, ...);`` for a macro whose body is one call, else None."""
    target = _call_target(body)
    if target is None or "..." in params:
        return None
    target = decls.aliases.get(target, target)
    if target not in decls.functions and target not in decls.api_only:
        return None
    tp = known.get(f"function {target}", (None,))[0]
    if tp is None:
        return None
    args, _end = arguments(_strip_parens(body), 2)  # the call's arguments, split as cpp does
    types = []
    for p in params:
        at = next((j for j, a in enumerate(args) if _strip_parens(a) == [("id", p)]), None)
        if at is None or at >= len(tp.args):
            return None  # a parameter used otherwise than as an argument: no known type
        types.append(tp.args[at].get_c_name(f" {p}"))
    text: str = tp.result.get_c_name(f" {name}({', '.join(types) or 'void'})")
    return text + ";"


def evaluate(
    macros: Macros,
    ffi: Any,
    enums: dict[str, int],
    functions: set[str],
    variables: set[str],
) -> tuple[dict[str, Any], dict[str, str], dict[str, str], set[str]]:
    """(constants, aliases, skipped, heavy) of the macros: heavy are the constants
    whose full expansion exceeds :data:`BUDGET` tokens."""
    constants: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    skipped: dict[str, str] = {}
    heavy: set[str] = set()
    for name in macros.own:
        params, body, origin = macros.table[name]
        if params is not None:
            if name not in functions:
                skipped[name] = (
                    f"is a function-like macro ({origin}); only compiled code can expand it"
                )
            continue
        if not body:
            continue
        try:
            expanded = macros.constant(name, ffi, enums)
        except TooCostly as e:
            skipped[name] = f"is a #define not evaluated ({origin}): {e}"
            continue
        except NotConstant:
            continue
        if len(expanded) == 1 and expanded[0][0] == "id":
            target = expanded[0][1]
            if target in functions or target in variables:
                if target != name:
                    aliases[name] = target
                continue
        if not expanded:
            continue
        try:
            value, kind = macros.evaluator(expanded).run()
        except (NotConstant, RecursionError, ValueError, SyntaxError, OverflowError, TypeError):
            continue
        if isinstance(kind, tuple) and kind[0] == "ptr":
            constants[name] = {"cast": kind[1], "value": value}
        else:
            constants[name] = value
        if macros.weight(expanded) > BUDGET:
            heavy.add(name)
    return constants, aliases, skipped, heavy


def fold_array_sizes(text: str, ffi: Any, params: bool = False) -> str | None:
    """``text`` with each array size that is a constant expression cffi cannot
    evaluate (``sizeof(T)``, casts...) replaced by its value, or None."""
    out, last, changed = [], 0, False
    for m in re.finditer(r"\[([^\[\]]+)\]", text):
        expr = m.group(1).strip()
        if re.fullmatch(r"\d+", expr):
            continue
        try:
            value, kind = Evaluator(tokens(expr), ffi, private.int_constants(ffi)).run()
        except (NotConstant, ValueError, TypeError, SyntaxError, OverflowError):
            if not params:
                return None
            value = ""  # a parameter's array size (C99 [n], [static n]): a pointer anyway
            kind = None
        if isinstance(kind, str) or not isinstance(value, (int, str)):
            return None
        out += [text[last : m.start()], f"[{value}]"]
        last, changed = m.end(), True
    return "".join([*out, text[last:]]) if changed else None


_ENUM_BODY = re.compile(r"\benum\b\s*(?:[A-Za-z_]\w*\s*)?\{")


def fold_enum_values(text: str, ffi: Any) -> str | None:
    """``text`` with each enumerator's value a plain number, evaluated as C does
    (``~0``, casts, character constants, ``sizeof``, an expanded tag macro), where
    cffi's parser takes only simple numbers; None if nothing changed or a value is
    not a constant."""
    out, last, changed = [], 0, False
    for m in _ENUM_BODY.finditer(text):
        close = text.find("}", m.end())
        if close < 0 or m.start() < last:
            return None
        body = _enum_body(text[m.end() : close], ffi)
        if body is None:
            return None
        out += [text[last : m.end()], body]
        last, changed = close, True
    return "".join([*out, text[last:]]) if changed else None


def _enum_body(body: str, ffi: Any) -> str | None:
    """An enum body's enumerators with their values as numbers, or None."""
    known = dict(private.int_constants(ffi))
    items, value = [], -1
    try:
        listed = arguments([*tokens(body), ("op", ")")], 0)[0]
    except NotConstant:  # unbalanced parentheses: cffi's parser says what is wrong
        return None
    for item in listed:
        if not item:
            continue  # a trailing comma
        if item[0][0] != "id" or (len(item) > 1 and item[1][1] != "="):
            return None
        name = item[0][1]
        if len(item) > 1:
            try:
                value, kind = Evaluator(item[2:], ffi, known).run()
            except (NotConstant, RecursionError, ValueError, SyntaxError, OverflowError, TypeError):
                return None
            if not isinstance(kind, tuple) or kind[0] == "ptr":
                return None  # a float, a string, a pointer: not an enumerator value
        else:
            value += 1
        known[name] = value
        items.append(f"{name} = {value}")
    return " " + ", ".join(items) + " "


def cdef_macros(text: str) -> tuple[str, list[Macro]]:
    """The ``#define`` lines of cdef text, and the text with each one blanked
    (its line numbers kept)."""
    macros: list[Macro] = [
        (
            m.group(1),
            m.group(2),
            m.group(3).strip(),
            "<cdef>",
            text.count("\n", 0, m.start()) + 1,
            True,
        )
        for m in _CDEF_DEFINE.finditer(text)
    ]
    return _CDEF_DEFINE.sub("", text), macros
