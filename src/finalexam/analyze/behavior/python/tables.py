"""Module-level collections a program only tests membership in.

dashscope 2.0's agent shell tool auto-approves read-only commands listed in
``_SAFE_BINS = frozenset({"ls", ..., "whoami", "hostname", ...})``, read only as
``bin_name in _SAFE_BINS``: the names are compared with what the user's agent asks to run,
never run or opened themselves. A collection any other read takes (``for c in CMDS:``,
``CMDS[0]``, passed to a call) is no such table, and its literals count as they are.
"""

from __future__ import annotations

import ast

from finalexam.analyze.behavior.python.syntax import walk

COMPARED = "compared"  # the fact kind of such literals: no rule reads it
_BUILDERS = frozenset({"frozenset", "set", "tuple", "list"})


def _literal_collection(value: ast.expr) -> bool:
    """A set, list or tuple display of constants, or frozenset/set/tuple/list of one."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        if value.func.id not in _BUILDERS or len(value.args) != 1 or value.keywords:
            return False
        value = value.args[0]
    return isinstance(value, ast.Set | ast.List | ast.Tuple) and all(
        isinstance(item, ast.Constant) for item in value.elts
    )


def _bound_tables(tree: ast.Module) -> set[str]:
    """Names bound exactly once at module level to a collection of constants."""
    bound: dict[str, int] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name) and _literal_collection(value):
            bound[target.id] = bound.get(target.id, 0) + 1
    return {name for name, count in bound.items() if count == 1}


def membership_constants(tree: ast.Module) -> frozenset[str]:
    """Names bound once at module level to a collection of constants whose every read is the
    right side of ``in`` or ``not in``."""
    candidates = _bound_tables(tree)
    if not candidates:
        return frozenset()
    loads: dict[str, int] = dict.fromkeys(candidates, 0)
    stores: dict[str, int] = dict.fromkeys(candidates, 0)
    tested: dict[str, int] = dict.fromkeys(candidates, 0)
    for node in walk(tree):
        if isinstance(node, ast.Name) and node.id in candidates:
            counts = loads if isinstance(node.ctx, ast.Load) else stores
            counts[node.id] += 1
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if _tests(op, right, candidates):
                    assert isinstance(right, ast.Name)
                    tested[right.id] += 1
    # bound once (its own binding the only store), and every read a membership test
    return frozenset(
        name for name in candidates if stores[name] == 1 and 0 < tested[name] == loads[name]
    )


def _tests(op: ast.cmpop, right: ast.expr, names: set[str]) -> bool:
    return isinstance(op, ast.In | ast.NotIn) and isinstance(right, ast.Name) and right.id in names
