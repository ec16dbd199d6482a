"""Walking Python syntax trees: children, breadth-first walk, function nodes."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator


def children(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.iter_child_nodes``, without its generator of (name, value) pairs."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` (the same nodes in the same breadth-first order), faster."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        todo.extend(children(node))
        yield node


FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


# -- where a connection goes ------------------------------------------------------------------
# A library that opens what its caller names (``def load(fname): urlopen(fname)``) reached at
# import with a file name is not a beacon; malware names its host itself: a literal, a module
# constant, a decoded literal. A destination is LITERAL, UNKNOWN, or the parameters of the
# enclosing function it is built from (then the callers decide).
Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
