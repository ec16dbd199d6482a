"""Walking Python syntax trees: children, breadth-first walk, function nodes."""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterator
from typing import TypeGuard


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


def is_self_attribute(node: ast.AST) -> TypeGuard[ast.Attribute]:
    """``self.<field>``: the state of the object a method runs on."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


# -- where a connection goes ------------------------------------------------------------------
# A library that opens what its caller names (``def load(fname): urlopen(fname)``) reached at
# import with a file name is not a beacon; malware names its host itself: a literal, a module
# constant, a decoded literal. A destination is LITERAL, UNKNOWN, or the parameters of the
# enclosing function it is built from (then the callers decide).
Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


# a function's header, or a main guard's: what either holds runs only when called or run
_DEF_LINE = re.compile(
    r"""[ \t]*(?:(?:async[ \t]+)?def[ \t]"""
    r"""|if[ \t]+__name__[ \t]*==[ \t]*(['"])__main__\1[ \t]*:)"""
)


def function_lines(text: str) -> list[tuple[int, int]]:
    """Line ranges of function bodies by indentation, for a Python source that does not
    parse (syntax newer than this interpreter's, or Python 2's): what a function defines runs
    when it is called, and a main guard's body when the file is run, the rest at import. A
    line indented less than its function (a string's continuation) ends the body early, so
    more is read as import-time code, not less."""
    ranges: list[tuple[int, int]] = []
    open_defs: list[tuple[int, int]] = []  # (indent of the def line, first body line)
    last = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        while open_defs and indent <= open_defs[-1][0]:
            _, first = open_defs.pop()
            if not open_defs and last >= first:
                ranges.append((first, last))
        if _DEF_LINE.match(line):
            open_defs.append((indent, number + 1))
        last = number
    if open_defs and last >= open_defs[0][1]:
        ranges.append((open_defs[0][1], last))
    return ranges
