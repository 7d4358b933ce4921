"""Every example in the docstrings and in README.md's Python blocks runs as shown."""

from __future__ import annotations

import array
import doctest
import inspect
import os
import re

import pytest

import pyffi
import pyffi.abi

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def docstrings() -> dict[str, str]:
    found = {"pyffi": pyffi.__doc__ or ""}
    for name in pyffi.__all__:
        obj = getattr(pyffi, name)
        if inspect.isclass(obj) or inspect.isroutine(obj):
            found[f"pyffi.{name}"] = inspect.getdoc(obj) or ""
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                doc = getattr(member, "__doc__", None)
                if doc and not attr.startswith("__") and ">>>" in doc:
                    found[f"pyffi.{name}.{attr}"] = inspect.cleandoc(doc)
    found["pyffi.abi"] = pyffi.abi.__doc__ or ""
    found["pyffi.embed"] = pyffi.embed.__doc__ or ""
    found["pyffi.csv"] = pyffi.csv.__doc__ or ""
    for module in (pyffi.csv, pyffi.embed):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isroutine(obj):
                found[f"{module.__name__}.{name}"] = inspect.getdoc(obj) or ""
    return {k: v for k, v in found.items() if ">>>" in v}


def run(name: str, text: str) -> None:
    globs = {"pyffi": pyffi, "array": array, "os": os}
    test = doctest.DocTestParser().get_doctest(text, globs, name, name, 0)
    out: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)


DOCS = docstrings()


@pytest.mark.parametrize("name", sorted(DOCS))
def test_docstring_examples(name: str) -> None:
    run(name, DOCS[name])


def test_readme_examples(checkout) -> None:  # type: ignore[no-untyped-def]
    if pyffi.backend != "api":
        pytest.skip("the README's tour shows pyffi.backend == 'api'")
    readme = (checkout / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    for i, block in enumerate(blocks):
        if ">>>" in block:
            run(f"README.md python block {i + 1}", block)
