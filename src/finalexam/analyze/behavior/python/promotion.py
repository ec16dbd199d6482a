"""Promotion of reached functions: a function that module-level code calls (directly, as a
callback, through a class's ``__init__``, transitively) runs at import, so its facts are
promoted from ``runtime`` to ``import``. (Functions an install hook calls are read as
install-time code by the visitor: ``hook_functions``.)"""

from __future__ import annotations

import ast
import bisect
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace

from finalexam.analyze.behavior.facts import IMPORT, RUNTIME, Facts
from finalexam.analyze.behavior.python.syntax import FUNCTIONS, Function, children, walk


def is_main_guard(node: ast.If) -> bool:
    """``if __name__ == "__main__":`` (either operand order)."""
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and mains)


def _executed(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``node`` that run when it runs: the body of a function it defines runs
    only when called (a ``def`` under a top-level ``if``, as in urllib.request); its
    decorators and defaults run at once."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        yield node
        for child in children(node):
            if isinstance(child, FUNCTIONS):
                todo.extend([*child.decorator_list, *child.args.defaults])
            elif not isinstance(child, ast.Lambda):
                todo.append(child)


def _references(nodes: Iterable[ast.AST]) -> set[str]:
    """Names called, or handed to a call as callbacks (``Thread(target=f)``), in ``nodes``."""
    names: set[str] = set()
    for node in nodes:
        for sub in _executed(node):
            if not isinstance(sub, ast.Call):
                continue
            if isinstance(sub.func, ast.Name):
                names.add(sub.func.id)
            elif (
                isinstance(sub.func, ast.Attribute)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id in ("self", "cls")
            ):
                names.add(sub.func.attr)
            # a function handed to a runner runs; handed to anything else it is only stored
            callee = sub.func.attr if isinstance(sub.func, ast.Attribute) else ""
            callee = sub.func.id if isinstance(sub.func, ast.Name) else callee
            runner = callee in _RUNNERS
            for argument in [*sub.args, *(k.value for k in sub.keywords)]:
                if isinstance(argument, ast.Name) and runner:
                    names.add(argument.id)
            for keyword in sub.keywords:
                if keyword.arg == "target" and isinstance(keyword.value, ast.Name):
                    names.add(keyword.value.id)
    return names


_RUNNERS = frozenset(
    {
        "Thread", "Process", "Timer", "register", "start_new_thread", "submit", "call_soon",
        "call_later", "create_task", "ensure_future", "run_in_executor", "apply_async", "run",
        "do", "schedule", "after", "Popen",
    }
)  # fmt: skip


def top_level(tree: ast.Module) -> list[ast.stmt]:
    """Module-level statements that run on import (not definitions, not the main guard)."""
    return [
        stmt
        for stmt in tree.body
        if not isinstance(stmt, (*FUNCTIONS, ast.ClassDef))
        and not (isinstance(stmt, ast.If) and is_main_guard(stmt))
    ]


def promote_called_functions(tree: ast.Module, result: Facts) -> list[Function]:
    """Functions reached from module-level code run at import: ``def f(): ...; f()``,
    ``Thread(target=f).start()``, ``atexit.register(f)``, ``Cls()`` (its ``__init__``),
    and, transitively, what those functions call by name. Returns the functions reached."""
    defs: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    inits: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in walk(tree):
        if isinstance(node, FUNCTIONS):
            if node.name != "__init__":
                defs.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            inits[node.name] = [
                n for n in node.body if isinstance(n, FUNCTIONS) and n.name == "__init__"
            ]
    if not defs and not inits:
        return []
    pending = _references(top_level(tree))
    reached: set[str] = set()
    ranges: list[tuple[int, int]] = []
    functions: list[Function] = []
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        for function in [*defs.get(name, ()), *inits.get(name, ())]:
            functions.append(function)
            ranges.append((function.lineno, function.end_lineno or function.lineno))
            pending |= _references(function.body) - reached
    if not ranges:
        return []

    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    starts = [start for start, _ in merged]

    def promoted(line: int) -> bool:
        index = bisect.bisect_right(starts, line) - 1
        return index >= 0 and line <= merged[index][1]

    result.facts = [
        replace(f, context=IMPORT) if f.context == RUNTIME and promoted(f.line) else f
        for f in result.facts
    ]
    for line, context in list(result.line_context.items()):
        if context == RUNTIME and promoted(line):
            result.line_context[line] = IMPORT
    return functions
