"""Lexing C: the tokens of a declaration or a macro body, and GNU decorations dropped.

The tokens are (kind, text) pairs: ``id``, ``num``, ``str``, ``chr``, ``op``
(white space dropped). Every later stage of the loader reads these.
"""

from __future__ import annotations

import re

__all__ = [
    "C_KEYWORDS",
    "LAYOUT_MARK",
    "TOKEN",
    "Tok",
    "closing",
    "strip_gnu",
    "tokens",
    "tokens_end",
]

#: One token: (kind, text).
Tok = tuple[str, str]

#: A token and the white space before it (one match per token, none per space):
#: ``m.lastgroup`` is the kind, ``m[m.lastgroup]`` the token. Search it up to the
#: end of the text's last token (:func:`tokens_end`): trailing white space matches no
#: token, and each retry would scan it again.
TOKEN = re.compile(
    r"\s*(?:"
    r"""(?P<str>(?:u8|[uUL])?"(?:[^"\\\n]|\\.)*")|(?P<chr>(?:u8|[uUL])?'(?:[^'\\\n]|\\.)*')"""
    r"""|(?P<id>[A-Za-z_]\w*)|(?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)|(?P<op>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|"""
    r"""\|\||##|[-+*/%&|^~!<>=?:;,.(){}\[\]#])|(?P<other>\S))""",
    re.S,
)
C_KEYWORDS = frozenset(
    [
        "auto",
        "break",
        "case",
        "char",
        "const",
        "continue",
        "default",
        "do",
        "double",
        "else",
        "enum",
        "extern",
        "float",
        "for",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "register",
        "restrict",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "struct",
        "switch",
        "typedef",
        "union",
        "unsigned",
        "void",
        "volatile",
        "while",
        "_Bool",
        "_Complex",
        "_Noreturn",
        "_Static_assert",
        "_Thread_local",
        "_Atomic",
        "_Alignas",
        "_Alignof",
        "bool",
    ]
)


def tokens(text: str) -> list[Tok]:
    """The tokens of ``text``, white space dropped."""
    return [
        (m.lastgroup or "", m[m.lastgroup or 0]) for m in TOKEN.finditer(text, 0, tokens_end(text))
    ]


def tokens_end(text: str) -> int:
    """Where the last token of ``text`` ends (its trailing white space left out)."""
    return len(text.rstrip())


def closing(toks: list[Tok], at: int) -> int:
    """The index of the ')' that closes the '(' at ``at``, or -1."""
    depth = 0
    for k in range(at, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[k][1], 0)
        if depth == 0:
            return k
    return -1


# --- GNU decorations ---------------------------------------------------------------

_GNU_WORDS = re.compile(
    r"\b(__extension__|__restrict__|__restrict|__inline__|__inline|__const|"
    r"_Noreturn|__signed__|__volatile__|__thread|_Thread_local)\b"
)
#: Left where an attribute changed a layout (packed, aligned, _Alignas), for the unit
#: that holds it to be checked against the compiler (``_units``, ``_validate``).
LAYOUT_MARK = "__pyffi_layout__"
_LAYOUT = re.compile(r"\b(?:_*packed_*|_*aligned_*|_Alignas|__alignas)\b")
_GNU_CALLS = re.compile(r"\b(__attribute__|__asm__|__asm|asm|__declspec|_Alignas|__alignas)\s*\(")


# A run of type specifiers; and what says a run is out of cffi's order (a base type
# before a modifier, a size before a sign): the runs are reordered only in text that
# has one. Qualifiers (const, volatile) are left where they are: cffi reads them anywhere.
_SPECIFIERS = re.compile(r"\b(?:(?:signed|unsigned|short|long|int|char|double|float)\b\s*){2,}")
_OUT_OF_ORDER = re.compile(
    r"\b(?:int|char|double|float)\s+(?:signed|unsigned|short|long)\b"
    r"|\b(?:short|long)\s+(?:signed|unsigned)\b"
)
_SPECIFIER_ORDER = {
    "signed": 0,
    "unsigned": 0,
    "short": 1,
    "long": 1,
    "int": 2,
    "char": 2,
    "double": 2,
    "float": 2,
}


def _specifiers_in_order(m: re.Match[str]) -> str:
    """A run of type specifiers in the order cffi's parser reads (C takes any order:
    ``long int unsigned long`` is ``unsigned long long int``)."""
    run = m.group()
    words = run.split()
    if sum(_SPECIFIER_ORDER[w] == 2 for w in words) > 1:
        return run  # two base types: not C; cffi says so
    ordered = sorted(words, key=_SPECIFIER_ORDER.__getitem__)
    return " ".join(ordered) + run[len(run.rstrip()) :]


def strip_gnu(text: str) -> str:
    """Drop what cffi cannot read: __attribute__((...)), __asm__(...), __restrict, ...;
    put type specifiers in the order cffi reads."""
    text = _GNU_WORDS.sub(
        lambda m: {"__signed__": "signed", "__const": "const", "__volatile__": "volatile"}.get(
            m.group(1), ""
        ),
        text,
    )
    out, i = [], 0
    for m in _GNU_CALLS.finditer(text):
        if m.start() < i:
            continue
        depth, j = 0, m.end() - 1
        while j < len(text):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        out.append(text[i : m.start()])
        if _LAYOUT.search(text, m.start(), j):  # packed, aligned: cffi would not see them
            out.append(f" {LAYOUT_MARK} ")
        out.append("\n" * text.count("\n", m.start(), j))  # line numbers stay right
        i = j
    out.append(text[i:])
    stripped = "".join(out)
    if _OUT_OF_ORDER.search(stripped):
        return _SPECIFIERS.sub(_specifiers_in_order, stripped)
    return stripped
