"""No import cycles in finalexam, counting imports made inside functions too.

A cycle broken by a function-level import still couples the two modules both ways; the
layering (plug-ins -> matching/formats -> model) only holds while the graph is acyclic.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import finalexam

PACKAGE = Path(finalexam.__file__).resolve().parent


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every finalexam module ``module`` imports, at any depth of its code (functions and
    ``TYPE_CHECKING`` blocks too). ``from package import name`` counts as importing the
    submodule when ``name`` is one, else the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                name = target if target in known else base
                if name in known:
                    yield name


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {m: set(imported(m, p, known)) - {m} for m, p in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"  {m} -> {', '.join(sorted(graph[m] & members))}" for m in component]
    return "\n".join(["cycle:", *edges])


def test_the_finder_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_counts_function_level_imports() -> None:
    graph = import_graph()
    # the rule families are imported inside ruleset._families(), relative imports resolved
    assert "finalexam.analyze.yara" in graph["finalexam.ruleset"]
    assert "finalexam.diffing.baseline" in graph["finalexam"]  # inside finalexam.scan()


def test_finalexam_has_no_import_cycle() -> None:
    graph = import_graph()
    found = cycles(graph)
    assert not found, "\n".join(describe(c, graph) for c in found)
