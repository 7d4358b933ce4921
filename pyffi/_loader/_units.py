"""Units: the preprocessed text split into top-level declarations, each classified.

A unit is one top-level declaration (at ``;`` outside braces, or after a
function body) with the names it defines and the names it uses, so that a
Library can declare only what a function needs (see ``_library``).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from typing import Any

from ._lexer import C_KEYWORDS, LAYOUT_MARK, Tok, closing, strip_gnu, tokens
from ._model import Unit

__all__ = ["PLAIN", "PLAIN_TOKEN", "classify", "inline_prototype", "param_names", "split_units"]


# What decides where a unit ends; string and character literals are matched whole so
# that the braces and semicolons inside them are not taken for these.
_STRUCTURE = re.compile(r"""L?"(?:[^"\\\n]|\\.)*"|L?'(?:[^'\\\n]|\\.)*'|[{};)]""")


def split_units(chunks: Iterable[tuple[Any, ...]]) -> list[Unit]:
    """Top-level declarations (at ';' outside braces, or after a function body). A
    declaration whose braces are still open where a chunk (a run of one file) ends
    goes on into the next one: an ``#include`` inside an enum body (an X-macro list)."""
    units: list[Unit] = []
    carry: tuple[str, str, bool, int, bool] | None = None  # text, origin, own, depth, body
    unit_at = _unit_maker(False)
    for raw_text, file, where, own, *packed in chunks:
        if carry is not None and carry[2] != own:  # the next run is another's: as it is
            _add(units, unit_at, carry[0], carry[1], carry[2], False)
            carry = None
        unit_at = _unit_maker(bool(packed and packed[0]))
        lines = range(where, where + raw_text.count("\n") + 1) if isinstance(where, int) else where
        text = strip_gnu(raw_text)
        depth, start, body_fn = 0, 0, False
        held: tuple[str, str] | None = None  # the unfinished declaration carried in
        if carry is not None:
            held, depth, body_fn, carry = (carry[0], carry[1]), carry[3], carry[4], None
        closed = -1  # where the last ')' ends: a '{' right after it opens a function body
        seen, newlines = 0, 0  # newlines counted in text[:seen], so each is counted once
        for m in _STRUCTURE.finditer(text):
            tok = m.group()
            end = None
            if tok == ")":
                closed = m.end()
                continue
            if tok == "{":
                if depth == 0 and (closed == m.start() or text[closed : m.start()].isspace()):
                    body_fn = True
                depth += 1
            elif tok == "}":
                if depth == 0:  # a '}' closing nothing: it ends what came before it
                    end = m.end()
                else:
                    depth -= 1
                    if depth == 0 and body_fn:
                        end = m.end()
            elif tok == ";" and depth == 0:
                end = m.end()
            if end is not None:
                piece = text[start:end]
                first = start + len(piece) - len(piece.lstrip())
                newlines += text.count("\n", seen, first)
                seen = first
                if held is not None:
                    piece, origin, held = held[0] + "\n" + piece, held[1], None
                else:
                    origin = f"{file}:{lines[newlines]}"
                _add(units, unit_at, piece, origin, own, body_fn)
                start, body_fn = end, False
        rest = text[start:]
        if held is not None:
            rest, origin = held[0] + "\n" + rest, held[1]
        else:
            origin = f"{file}:{lines[min(text.count(chr(10), 0, start), len(lines) - 1)]}"
        if depth > 0 and rest.strip():
            carry = (rest, origin, own, depth, body_fn)
        elif rest.strip() and rest.strip() != ";":
            _add(units, unit_at, rest, origin, own, False)
    if carry is not None:
        _add(units, unit_at, carry[0], carry[1], carry[2], False)
    return units


def _add(
    units: list[Unit],
    unit_at: Callable[[str, str, bool, bool], Unit | None],
    text: str,
    origin: str,
    own: bool,
    body: bool,
) -> None:
    unit = unit_at(text.strip(), origin, own, body)
    if unit is not None:
        units.append(unit)


def _unit_maker(packed: bool) -> Callable[[str, str, bool, bool], Unit | None]:
    """classify, with the layout flag: a unit under #pragma pack (``packed``), or holding
    an attribute that changes a layout (its mark taken out of the text)."""

    def make(text: str, origin: str, own: bool, body: bool) -> Unit | None:
        marked = LAYOUT_MARK in text
        if marked:
            text = " ".join(text.replace(LAYOUT_MARK, " ").split())
        unit = classify(text, origin, own, body)
        if unit is not None and (marked or packed) and unit.kind in ("tag", "typedef", "other"):
            return unit._replace(layout=True)
        return unit

    return make


def _collapse(toks: list[Tok]) -> list[Tok]:
    """The tokens with every {...} body removed (kept as '{' '}')."""
    out, depth = [], 0
    for t in toks:
        if t[1] == "{":
            if depth == 0:
                out.append(t)
            depth += 1
        elif t[1] == "}":
            depth -= 1
            if depth == 0:
                out.append(t)
        elif depth == 0:
            out.append(t)
    return out


def _declarator_name(decl: list[Tok]) -> str | None:
    """The name a declarator introduces: ``(*name)``, the word before ``(`` or the last word."""
    toks = [t for t in decl if t[1] not in ("const", "volatile", "restrict")]
    # drop [..] groups
    flat, depth = [], 0
    for t in toks:
        if t[1] == "[":
            depth += 1
        elif t[1] == "]":
            depth -= 1
        elif depth == 0:
            flat.append(t)
    for k in range(len(flat) - 3):  # a function type: int (name)(args)
        opens, word, closes, params = flat[k : k + 4]
        if (opens[1], word[0], closes[1], params[1]) == ("(", "id", ")", "(") and (
            word[1] not in C_KEYWORDS
        ):
            return word[1]
    for k in range(len(flat) - 2):
        if flat[k][1] == "(" and flat[k + 1][1] == "*":
            j = k + 1
            while j < len(flat) and flat[j][1] == "*":
                j += 1
            if j < len(flat) and flat[j][0] == "id":
                return flat[j][1]
    for k in range(len(flat) - 1):
        if flat[k][0] == "id" and flat[k + 1][1] == "(" and flat[k][1] not in C_KEYWORDS:
            return flat[k][1]
    ids = [t[1] for t in flat if t[0] == "id" and t[1] not in C_KEYWORDS]
    return ids[-1] if ids else None


def _split_declarators(toks: list[Tok]) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t[1] in "([{":
            depth += 1
        elif t[1] in ")]}":
            depth -= 1
        if t[1] == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _enum_constants(toks: list[Tok]) -> list[str]:
    names, depth, expect = [], 0, False
    for k, t in enumerate(toks):
        if t[1] == "{":
            depth += 1
            expect = depth == 1 and k > 0 and _is_enum_brace(toks, k)
            continue
        if t[1] == "}":
            depth -= 1
            continue
        if depth == 1 and expect and t[0] == "id" and (k == 0 or toks[k - 1][1] in ("{", ",")):
            names.append(t[1])
    return names


def _is_enum_brace(toks: list[Tok], k: int) -> bool:
    j = k - 1
    if toks[j][0] == "id" and toks[j][1] != "enum":
        j -= 1
    return j >= 0 and toks[j][1] == "enum"


def _unit(
    text: str,
    origin: str,
    own: bool,
    kind: str,
    names: list[str],
    uses: list[str],
    toks: tuple[str, ...] = (),
) -> Unit:
    """A Unit holding tuples of strings: a header's 200,000 units are then no work
    for the garbage collector (it stops tracking such tuples)."""
    return Unit(text, origin, own, kind, tuple(names), tuple(uses), toks)


# A prototype of words, pointers and a parameter list without parentheses: most of a
# header, read by regular expressions alone (``_plain_prototype``).
PLAIN = re.compile(r"[A-Za-z_][\w\s*]*?\b([A-Za-z_]\w*)\s*\(((?:[\w\s*,]|\.\.\.)*)\)\s*;")
PLAIN_TOKEN = re.compile(r"\w+|\.\.\.|[*(),;]")
_NOT_PLAIN = frozenset(["typedef", "static", "inline", "struct", "union", "enum"])
_TAGS = ("struct", "union", "enum")
_NUMBER = re.compile(r"\b\d")
_FIRST_WORD = re.compile(r"[A-Za-z_]\w*")
_TAG_WORD = re.compile(r"\b(?:struct|union|enum)\b")
_NOT_KEYWORD = re.compile(
    r"\b(?!(?:" + "|".join(sorted(C_KEYWORDS, key=len, reverse=True)) + r")\b)[A-Za-z_]\w*"
)
_ID_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def _plain_prototype(text: str, origin: str, own: bool) -> Unit | None:
    """The Unit of ``int *f(const char *s, ...);``, as :func:`classify` makes it, or None
    if ``text`` is anything else (tests/test_hostile_headers.py compares the two on real
    headers). Its ``plain`` part is what ``_prototypes`` declares it from: no tokens."""
    m = PLAIN.fullmatch(text)
    if m is None or m.group(1) in C_KEYWORDS or _NUMBER.search(text):
        return None  # a number where a word should be: not a plain prototype
    first = _FIRST_WORD.match(text)
    if first is None or first.group() in _NOT_PLAIN:
        return None
    if _TAG_WORD.search(text) is None:
        uses = _NOT_KEYWORD.findall(text)
    else:  # struct X is one name
        uses, prev = [], ""
        for t in PLAIN_TOKEN.findall(text):
            if t[0] in _ID_START and t not in C_KEYWORDS:
                uses.append(f"{prev} {t}" if prev in _TAGS else t)
            prev = t
    plain = (text[: m.start(1)], m.group(2))
    return Unit(text, origin, own, "function", (m.group(1),), tuple(uses), (), plain)


def classify(text: str, origin: str, own: bool, body: bool, plain: bool = True) -> Unit | None:
    """The Unit of one top-level declaration (``plain=False``: no shortcut for plain
    prototypes)."""
    if plain and not body:
        unit = _plain_prototype(text, origin, own)
        if unit is not None:
            return unit
    toks = tokens(text)
    if not toks or toks[0][1] in (";", "_Static_assert"):
        return None
    texts = [t for _, t in toks]
    braces = "{" in texts  # most units (prototypes) have none: no body to scan
    top = _collapse(toks) if braces else toks
    words = [t[1] for t in top] if braces else texts
    if not words or words[0] in ("}", ")"):
        return None
    uses: list[str] = []
    prev = ""
    for kind, tok in toks:
        if kind == "id" and tok not in C_KEYWORDS:
            if prev in ("struct", "union", "enum"):
                uses.append(f"{prev} {tok}")
            elif prev not in (".", "->"):
                uses.append(tok)
        prev = tok
    names: list[str] = []
    if braces:
        # tags defined here: struct X { ... }
        for k in range(len(top) - 2):
            if (
                top[k][1] in ("struct", "union", "enum")
                and top[k + 1][0] == "id"
                and top[k + 2][1] == "{"
            ):
                names.append(f"{top[k][1]} {top[k + 1][1]}")
        names += _enum_constants(toks)
    if body:
        name = _declarator_name(top[: words.index("{")] if "{" in words else top)
        kind = "inline"
        return _unit(text, origin, own, kind, [name] if name else [], uses)
    if words[0] == "typedef":
        decls = _split_declarators(top[1:-1] if words[-1] == ";" else top[1:])
        for d in decls:
            # the first declarator carries the type: skip up to the body or the type words
            spelt = [t[1] for t in d]
            if "{" in spelt and "}" not in spelt:
                continue  # a body never closed: no name to tell (cffi says why)
            n = _declarator_name(d[spelt.index("}") + 1 :] if "{" in spelt else d)
            if n:
                names.append(n)
        return _unit(text, origin, own, "typedef", names, uses)
    body_less = [t for t in top if t[1] not in ("{", "}")]
    if len(body_less) <= 4 and words[0] in ("struct", "union", "enum"):
        if "{" in words:
            return _unit(text, origin, own, "tag", names, uses)
        if len(words) == 3 and top[1][0] == "id":  # struct X;
            return _unit(text, origin, own, "tag", [f"{words[0]} {words[1]}#fwd"], uses)
    if words[0] == "static" or (words[0] == "inline"):
        decl = _declarator_name(top[1:-1])
        return _unit(text, origin, own, "static", [decl] if decl else [], uses)
    inner = top[:-1] if words[-1] == ";" else top
    decls = _split_declarators(inner)
    first = decls[0]
    fname = _function_name(first)
    if fname is not None:
        more = [_function_name(d) or _declarator_name(d) for d in decls[1:]]
        names = [fname, *[m for m in more if m]]
        return _unit(text, origin, own, "function", names, uses, tuple(texts))
    if "{" in words:  # struct s { ... } var;  (a definition and a variable)
        return _unit(text, origin, own, "tag", names, uses)
    vname = _declarator_name(first)
    if vname is None:
        return _unit(text, origin, own, "other", names, uses)
    return _unit(text, origin, own, "variable", [vname, *names], uses)


def _function_name(decl: list[Tok]) -> str | None:
    """The name of a function declarator (``int f(void)``, ``void (*signal(int, ...))(int)``)."""
    depth = 0
    for k in range(len(decl) - 3):  # png's  png_uint_32 (png_get_x) (args)
        if (
            depth == 0  # not a parameter's: int f(int (cb)(void *)) declares f
            and decl[k][1] == "("
            and decl[k + 1][0] == "id"
            and decl[k + 2][1] == ")"
            and decl[k + 3][1] == "("
            and (k == 0 or decl[k - 1][1] != "*")
        ):
            return decl[k + 1][1]
        depth += {"(": 1, ")": -1}.get(decl[k][1], 0)
    for k in range(len(decl) - 1):
        kind, tok = decl[k]
        if kind == "id" and tok not in C_KEYWORDS and decl[k + 1][1] == "(":
            before = decl[k - 1][1] if k else ""
            if before == "*" and k >= 2 and decl[k - 2][1] == "(":
                # (*name)(...): a function pointer variable, unless it is (*f(args))(...)
                j = k + 1
                return (
                    tok if j < len(decl) and decl[j][1] == "(" and _closes_before(decl, j) else None
                )
            return tok
    return None


def _closes_before(decl: list[Tok], j: int) -> bool:
    """True if the '(' at j opens a parameter list inside (*f(...)) (a function)."""
    k = closing(decl, j)
    return 0 <= k < len(decl) - 1 and decl[k + 1][1] == ")"


_NOT_IN_PROTOTYPE = re.compile(r"\b(static|inline|__inline__|__inline|extern|__extension__)\b")


def inline_prototype(text: str) -> str | None:
    """The prototype of a function definition: ``static inline int f(int x) {...}``
    becomes ``int f(int x);`` (what a compiled call needs declared)."""
    head = text.split("{", 1)[0]
    if ")" not in head:
        return None
    return " ".join(_NOT_IN_PROTOTYPE.sub(" ", head).split()) + ";"


_PARENS_OR_COMMA = re.compile(r"[(),]")


def _call_of(text: str, func: str) -> int:
    """Where the parameter list of ``func(`` begins in ``text`` (past the parenthesis), or -1:
    the first occurrence of the name as a whole word followed by ``(`` (no regex per name)."""
    at = text.find(func)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = at + len(func)
        if not (before.isalnum() or before == "_"):
            rest = text[after:].lstrip()
            if rest.startswith("("):
                return len(text) - len(rest) + 1
        at = text.find(func, at + 1)
    return -1


def param_names(text: str, func: str, count: int) -> list[str]:
    """Parameter names of ``func`` as written in the declarations (``argN`` if unnamed)."""
    names = [f"arg{i + 1}" for i in range(count)]
    start = _call_of(text, func)
    if start < 0:
        return names
    # the parameter list: split at the commas of depth 1, up to its closing parenthesis
    depth, params, cur = 1, [], start
    for m in _PARENS_OR_COMMA.finditer(text, start):
        ch = m.group()
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                params.append(text[cur : m.start()])
                break
        elif depth == 1:
            params.append(text[cur : m.start()])
            cur = m.end()
    if len(params) != count:
        return names
    for k, p in enumerate(params):
        inner = re.search(r"\(\s*\*\s*(\w+)\s*\)", p)  # a function pointer: int (*cb)(int)
        word = (
            inner.group(1) if inner else (re.findall(r"(\w+)\s*(?:\[[^\]]*\]\s*)*$", p) or [""])[0]
        )
        words = p.replace("*", " ").split()
        if (
            word
            and word.isidentifier()
            and not keyword.iskeyword(word)
            and len(words) > 1
            and word
            not in (
                "const",
                "volatile",
                "unsigned",
                "signed",
                "int",
                "char",
                "long",
                "short",
                "double",
                "float",
                "void",
                "struct",
            )
        ):
            names[k] = word
    if len(set(names)) != len(names):
        return [f"arg{i + 1}" for i in range(count)]
    return names
