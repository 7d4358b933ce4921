"""The one object a Library hands the modules that marshal its calls and write its stubs.

A converter, a result, a wrapper or a stub needs a few things of its Library:
the ffi that makes values and calls, the callback registry, the load-time
options (``owned=``, ``callbacks=``) and a way to reach a declared function
and its C type. ``Context`` carries exactly those, so no collaborator reads a
Library's private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cffi import model

from ._lifetimes import Registry
from ._model import Declarations

__all__ = ["Context"]


@dataclass(eq=False)
class Context:
    """What the marshalling of one Library may use."""

    #: Makes values and calls: the compiled extension's in mode="api".
    ffi: Any
    #: The Library's callback trampolines and the exceptions its callbacks raised.
    registry: Registry
    #: The declarations and every callable name (name -> unit).
    decls: Declarations
    callable: Mapping[str, int]
    #: The raw C function of a declared name, and its C type (each declared first).
    function: Callable[[str], Any]
    type_of: Callable[[str], model.FunctionPtrType]
    #: ``owned=``: function -> its free function; how a struct result is freed.
    owned: Mapping[str, str] = field(default_factory=dict)
    owned_struct: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    #: ``callbacks=``: function -> the lifetime of its callbacks.
    callback_modes: Mapping[str, str] = field(default_factory=dict)
