"""The loader's data model: what each stage of the pipeline hands the next.

``Source`` (the preprocessor's output) -> ``Unit`` (one top-level
declaration each) -> ``Declarations`` (what a Library is made of, cached as
JSON). Plain data, as cffi's ``model.py`` is the base of cffi.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

__all__ = ["Declarations", "Macro", "Source", "Unit"]

#: One ``#define`` (or ``#undef``: body "\0undef"): name, parameters, body, file, line, own.
Macro = tuple[str, Optional[str], str, str, int, bool]


@dataclass
class Source:
    """The preprocessed header set: its lines, their origins, the macros, the files read."""

    # (text, file, line of each line, own, under a #pragma pack) per run
    chunks: list[tuple[str, str, Any, bool, bool]]
    macros: list[Macro]
    files: list[str]


class Unit(NamedTuple):
    """One top-level declaration. A tuple of strings and tuples: once the garbage
    collector has seen one it stops tracking it (a header has 200,000 of them)."""

    text: str
    origin: str  # file:line
    own: bool
    kind: str  # "function", "variable", "typedef", "tag", "inline", "static", "other"
    names: tuple[str, ...]  # what it defines: "f", "T", "struct s", enum constants
    uses: tuple[str, ...] = ()  # names it refers to
    toks: tuple[str, ...] = ()  # a prototype's token texts (``_prototypes``)
    plain: tuple[str, ...] = ()  # a plain prototype's (result, parameters) text
    layout: bool = False  # packed, aligned or under #pragma pack: checked with the compiler


@dataclass
class Declarations:
    """What a Library is made of; plain data, cached as JSON."""

    units: list[str]  # cdef text of each kept unit, in declaration order
    deps: list[Sequence[int]]  # the units each unit needs declared first
    origins: list[str]
    functions: dict[str, int]  # name -> unit
    variables: dict[str, int]
    types: dict[str, int]  # typedef names and "struct x" tags -> unit
    skipped: dict[str, str]  # name -> reason
    constants: dict[str, Any]
    aliases: dict[str, str]  # macro name -> function name
    files: list[str] = field(default_factory=list)
    # Callable only from compiled code (mode="api"): static inline functions and
    # function-like macros, name -> the unit of their prototype. Also in skipped.
    api_only: dict[str, int] = field(default_factory=dict)
    # constants from #define that mode="api" has the compiler evaluate
    macro_constants: list[str] = field(default_factory=list)
    macros: list[str] = field(default_factory=list)  # every own #define's name

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Declarations:
        return cls(**data)
