"""C constant expressions, evaluated as C evaluates them.

Integer literal types and suffixes, the usual arithmetic conversions (``~0u``
is 4294967295, ``~0`` is -1), casts to the declared integer, floating and
pointer types, ``sizeof``, shifts, the logical and conditional operators;
string literals are concatenated and decoded as UTF-8. Used for ``#define``
constants and array sizes (``_macros``).
"""

from __future__ import annotations

import ast
import math
import operator
import struct
from typing import Any

from ._lexer import C_KEYWORDS, Tok

__all__ = ["Evaluator", "Kind", "NotConstant"]


class NotConstant(Exception):
    """The expansion is not a constant expression."""


# A value: (python value, kind) where kind is (bits, signed) for integers,
# "double" or "float" for floating (a float's value is rounded to float precision),
# "str", or ("ptr", ctype) for a pointer cast.
Kind = Any


def _int_literal(text: str) -> tuple[int, Kind]:
    t = text.lower()
    suffix = ""
    while t and t[-1] in "ul":
        suffix = t[-1] + suffix
        t = t[:-1]
    t = t.replace("'", "")
    if t.startswith("0x"):
        v, decimal = int(t[2:], 16), False
    elif t.startswith("0b"):
        v, decimal = int(t[2:], 2), False
    elif len(t) > 1 and t.startswith("0"):
        v, decimal = int(t, 8), False
    else:
        v, decimal = int(t), True
    unsigned = "u" in suffix
    longs = suffix.count("l")
    candidates = [(32, False), (32, True), (64, False), (64, True)]
    if longs:
        candidates = [c for c in candidates if c[0] == 64]
    if unsigned:
        candidates = [c for c in candidates if c[1] is False]
    elif decimal:
        candidates = [c for c in candidates if c[1] is True]
    for bits, signed in candidates:
        if (signed and v < 2 ** (bits - 1)) or (not signed and v < 2**bits):
            return v, (bits, signed)
    raise NotConstant(f"integer literal {text} too large")


def _wrap(v: int, kind: tuple[int, bool]) -> int:
    bits, signed = kind
    v &= (1 << bits) - 1
    if signed and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


_FLOATING = ("double", "float")


def _to_float(v: float) -> float:
    """``v`` rounded to a C float (binary32), as C stores a float."""
    try:
        return float(struct.unpack("f", struct.pack("f", v))[0])
    except OverflowError:
        return math.copysign(math.inf, v)


def _common(a: Kind, b: Kind) -> Kind:
    if a == "double" or b == "double":
        return "double"
    if a == "float" or b == "float":
        return "float"
    (ab, asg), (bb, bsg) = a, b
    ab, bb = max(ab, 32), max(bb, 32)  # integer promotion
    if ab == bb:
        return (ab, asg and bsg)
    return (ab, asg) if ab > bb else (bb, bsg)


# A prefixed character constant's type: L wchar_t (int), u char16_t, U char32_t, u8 (C23)
# unsigned char; each promoted as C promotes it.
_CHAR_KINDS = {"L": (32, True), "u": (32, True), "U": (32, False), "u8": (32, True)}
_CHAR_LIMITS = {"L": 0x10FFFF, "u": 0xFFFF, "U": 0x10FFFF, "u8": 0x7F}


def _char_value(text: str) -> tuple[int, Kind]:
    prefix = text[: text.index("'")]
    body = text[len(prefix) + 1 : -1]
    if prefix:  # one character, its code point (escapes as C reads them)
        try:
            chars = ast.literal_eval(f"'{body}'")
        except (ValueError, SyntaxError):
            raise NotConstant("bad character constant") from None
        if len(chars) != 1 or ord(chars) > _CHAR_LIMITS[prefix]:
            raise NotConstant("a character its type cannot hold")
        return ord(chars), _CHAR_KINDS[prefix]
    value = ast.literal_eval(f"b'{body}'") if body.isascii() else body.encode()
    if len(value) != 1:
        raise NotConstant("multi-character constant")
    v = value[0]
    return (v - 256 if v > 127 else v), (32, True)  # char is signed on x86-64, as in cffi


class Evaluator:
    """A C constant-expression evaluator over tokens."""

    def __init__(
        self,
        toks: list[Tok],
        ffi: Any,
        enums: dict[str, int],
        values: list[tuple[Any, Kind]] | None = None,
    ) -> None:
        self.toks, self.i = toks, 0
        self.ffi, self.ctype, self.enums = ffi, ffi.typeof, enums
        self.values = values or []  # what ``val`` tokens (folded sub-expressions) stand for

    def peek(self) -> str:
        return self.toks[self.i][1] if self.i < len(self.toks) else ""

    def take(self, want: str | None = None) -> Tok:
        if self.i >= len(self.toks):
            raise NotConstant("unexpected end")
        t = self.toks[self.i]
        if want is not None and t[1] != want:
            raise NotConstant(f"expected {want}")
        self.i += 1
        return t

    def run(self) -> tuple[Any, Kind]:
        v = self.cond()
        if self.i != len(self.toks):
            raise NotConstant("trailing tokens")
        return v

    def cond(self) -> tuple[Any, Kind]:
        c = self.binary(0)
        if self.peek() == "?":
            self.take()
            a = self.cond()
            self.take(":")
            b = self.cond()
            return a if _truth(c) else b
        return c

    _PREC: tuple[tuple[str, ...], ...] = (
        ("||",),
        ("&&",),
        ("|",),
        ("^",),
        ("&",),
        ("==", "!="),
        ("<", ">", "<=", ">="),
        ("<<", ">>"),
        ("+", "-"),
        ("*", "/", "%"),
    )

    def binary(self, level: int) -> tuple[Any, Kind]:
        if level == len(self._PREC):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._PREC[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self) -> tuple[Any, Kind]:
        tok = self.peek()
        if tok in ("-", "+", "~", "!"):
            self.take()
            v, k = self.unary()
            if k == "str" or (isinstance(k, tuple) and k[0] == "ptr"):
                raise NotConstant("operator on a string or pointer")
            if tok == "!":
                return int(not v), (32, True)
            if k in _FLOATING:
                if tok == "~":
                    raise NotConstant("~ on a float")
                return (-v if tok == "-" else v), k
            k = _common(k, (32, True)) if k[0] < 32 else k
            return _wrap(-v if tok == "-" else ~v if tok == "~" else v, k), k
        if tok == "sizeof":
            self.take()
            if self.peek() == "(":
                save = self.i
                self.take()
                name = self.type_name()
                if name is not None and self.peek() == ")":
                    self.take()
                    return self.ctype_size(name), (64, False)
                self.i = save
            raise NotConstant("sizeof of an expression")
        if tok == "(":
            save = self.i
            self.take()
            name = self.type_name()
            if name is not None and self.peek() == ")":
                self.take()
                return self.cast(name, self.unary())
            self.i = save
        return self.primary()

    def type_name(self) -> str | None:
        """Tokens of a type name, up to ')', if they make one."""
        words = []
        j = self.i
        while j < len(self.toks) and (self.toks[j][0] == "id" or self.toks[j][1] == "*"):
            words.append(self.toks[j][1])
            j += 1
        if not words or j >= len(self.toks) or self.toks[j][1] != ")":
            return None
        if len(words) == 1 and words[0] not in C_KEYWORDS and words[0] in self.enums:
            return None
        name = " ".join(words)
        try:
            self.ctype(name)
        except Exception:
            return None
        self.i = j
        return name

    def ctype_size(self, name: str) -> int:
        size: int = self.ffi.sizeof(name)
        return size

    def cast(self, name: str, value: tuple[Any, Kind]) -> tuple[Any, Kind]:
        ct = self.ctype(name)
        v, k = value
        if k == "str":
            raise NotConstant("cast of a string")
        if ct.kind in ("pointer", "function"):  # cffi's kind of a function pointer
            if k in _FLOATING or (isinstance(k, tuple) and k[0] == "ptr"):
                raise NotConstant("pointer cast")
            return _wrap(int(v), (64, False)), ("ptr", name)
        if ct.kind == "primitive" and ct.cname == "float":
            return _to_float(float(v)), "float"
        if ct.kind == "primitive" and ct.cname in ("double", "long double"):
            return float(v), "double"
        if ct.kind in ("primitive", "enum"):
            if ct.cname == "_Bool":
                return int(bool(v)), (8, False)
            if k in _FLOATING:
                v = int(v)
            bits = self.ffi.sizeof(ct) * 8
            signed = ct.kind == "enum" or int(self.ffi.cast(name, -1)) < 0
            return _wrap(int(v), (bits, signed)), (bits, signed)
        raise NotConstant(f"cast to {name}")

    def primary(self) -> tuple[Any, Kind]:
        kind, tok = self.take()
        if tok == "(":
            v = self.cond()
            self.take(")")
            return v
        if kind == "num":
            low = tok.lower()
            if (low.startswith("0x") and ("p" in low)) or (
                not low.startswith("0x") and ("." in low or "e" in low)
            ):
                digits = low.rstrip("fl")
                number = float(
                    ast.literal_eval(digits) if not low.startswith("0x") else float.fromhex(digits)
                )
                if low.endswith("f"):  # a float literal: float precision, float arithmetic
                    return _to_float(number), "float"
                return number, "double"  # (an l suffix: long double, kept as a double)
            return _int_literal(tok)
        if kind == "val":
            return self.values[int(tok)]
        if kind == "chr":
            return _char_value(tok)
        if kind == "str":
            text = _string(tok)
            while self.i < len(self.toks) and self.toks[self.i][0] == "str":
                text += _string(self.take()[1])
            return text, "str"
        if kind == "id" and tok in self.enums:
            return self.enums[tok], (32, True)
        raise NotConstant(f"{tok!r} is not a constant")


def _string(tok: str) -> str:
    if tok.startswith("u8"):
        tok = tok[2:]  # UTF-8 already
    if not tok.startswith('"'):
        raise NotConstant("wide string")
    raw = ast.literal_eval("b" + tok) if tok.isascii() else tok[1:-1].encode()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotConstant("string not UTF-8") from None


def _truth(v: tuple[Any, Kind]) -> bool:
    return bool(v[0])


def _apply(op: str, a: tuple[Any, Kind], b: tuple[Any, Kind]) -> tuple[Any, Kind]:
    (x, ka), (y, kb) = a, b
    if "str" in (ka, kb) or any(isinstance(k, tuple) and k[0] == "ptr" for k in (ka, kb)):
        raise NotConstant("arithmetic on a string or pointer")
    if op == "&&":
        return int(bool(x) and bool(y)), (32, True)
    if op == "||":
        return int(bool(x) or bool(y)), (32, True)
    if op in ("<<", ">>"):
        if ka in _FLOATING or kb in _FLOATING:
            raise NotConstant("shift of a float")
        k = _common(ka, (32, True)) if ka[0] < 32 else ka
        if y < 0 or y >= k[0]:
            raise NotConstant("shift out of range")
        return _wrap(x << y if op == "<<" else x >> y, k), k
    k = _common(ka, kb)
    if k in _FLOATING:
        return _floating(op, float(x), float(y), k)
    x, y = _wrap(x, k), _wrap(y, k)
    if op in _COMPARE:
        return int(_COMPARE[op](x, y)), (32, True)
    if op in ("/", "%"):
        if y == 0:
            raise NotConstant("division by zero")
        q = abs(x) // abs(y) * (1 if (x >= 0) == (y >= 0) else -1)
        return _wrap(q if op == "/" else x - q * y, k), k
    return _wrap(_ARITHMETIC[op](x, y), k), k


_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "&": operator.and_,
    "|": operator.or_,
    "^": operator.xor,
}


def _floating(op: str, x: float, y: float, k: Kind) -> tuple[Any, Kind]:
    """``x op y`` in C's floating arithmetic: a float result rounded to float precision."""
    if op in _COMPARE:
        return int(_COMPARE[op](x, y)), (32, True)
    if op in ("%", "&", "|", "^"):
        raise NotConstant(f"{op} of a float")
    if op == "/":
        if y == 0:
            raise NotConstant("division by zero")  # C gives inf or nan: not a constant here
        r = x / y
    else:
        r = _ARITHMETIC[op](x, y)
    return (_to_float(r) if k == "float" else r), k
