"""A user module for the embedding tests: the C programs find it on the sys.path entry they add."""

from __future__ import annotations

from typing import Any, Callable


class AppError(Exception):
    """An exception class of the user's own, raised from C by its dotted name."""


def greet(name: str, punctuation: str = "!") -> str:
    return f"hello, {name}{punctuation}"


def divide(a: float, b: float) -> float:
    return a / b


def apply(fn: Callable[..., Any], *args: Any) -> Any:
    """Python calling a native function back."""
    return fn(*args)


def describe_failure(fn: Callable[..., Any], *args: Any) -> str:
    """What a native function raised into Python, as "Type: message" (with its cause)."""
    try:
        fn(*args)
    except Exception as exc:  # the test reads what was raised
        return f"{type(exc).__qualname__}: {exc}"
    return "no exception"
