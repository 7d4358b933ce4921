#!/usr/bin/env python3
"""Fail on any import cycle among pyffi's modules.

Every import counts: at module level, inside functions, and under
``TYPE_CHECKING``. The graph comes from grimp (import-linter's own graph
builder), which reads the source without importing it. A cycle is a strongly
connected component of more than one module (or a module importing itself).

    python tools/import_cycles.py [PACKAGE]      (scripts/lint runs it on the checkout)
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

# The checkout's source, never an installed copy.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def cycles(package: str) -> list[list[str]]:
    """The strongly connected components (Tarjan) with more than one module."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=False, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's; the graph is a few dozen modules deep at most
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                m = stack.pop()
                on_stack.discard(m)
                part.append(m)
                if m == node:
                    break
            if len(part) > 1 or node in edges[node]:
                found.append(sorted(part))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def main(argv: list[str]) -> int:
    package = argv[0] if argv else "pyffi"
    found = cycles(package)
    for part in found:
        print(f"import cycle: {' <-> '.join(part)}", file=sys.stderr)
    if found:
        return 1
    print(f"import_cycles: no import cycle in {package}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
