"""Sphinx configuration of pyffi's manual (``docs/``).

Built against the INSTALLED package (``python -P -m sphinx``), as the tests are:
autodoc imports ``pyffi`` from site-packages, and the doctest builder runs the
pages' examples there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyffi

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _support, for the doctests

project = "pyffi"
author = "the pyffi developers"
copyright = "2026, the pyffi developers"
release = version = pyffi.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Each docstring example runs in the doctest builder with these names.
doctest_global_setup = """
import array, os
import pyffi
from _support import demo_library
DEMO_LIB, DEMO_H = demo_library()
"""
intersphinx_mapping: dict[str, tuple[str, None]] = {}

html_theme = "alabaster"
html_title = f"pyffi {release}"
nitpicky = False
