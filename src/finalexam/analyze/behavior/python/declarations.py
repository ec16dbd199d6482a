"""Module-level values that only functions read: declarations, judged where they are used.

pymysql names the connecting user ``DEFAULT_USER = getpass.getuser()`` and dulwich lists git's
credential store ``DEFAULT_GIT_CREDENTIALS_PATHS = [os.path.expanduser("~/.git-credentials")]``
at module level; only the functions that connect or authenticate read them, when a caller asks.
Reading who the user is, or naming a path, at import is no beacon unless import-time code uses
the value: then it is judged as import-time code as before (a function that module-level code
calls counts as import-time code, ``promotion.py``). Only values that name or look up (string
literals, path building, identity look-ups) are declarations: a value that acts (``open``,
``os.system``, ``exec``, ``urlopen``) runs at import and is judged there.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from finalexam.analyze.behavior.python.promotion import is_main_guard
from finalexam.analyze.behavior.python.syntax import FUNCTIONS, children, walk
from finalexam.analyze.behavior.python.vocabulary import RECON

# look-ups of who and where the user is: collecting, not acting
IDENTITY = RECON | {"platform.uname"}


def declarations(tree: ast.Module) -> dict[int, frozenset[str]]:
    """Module-level assignments to plain names that no import-time code reads: the id of
    each statement and the names it binds."""
    candidates: dict[int, frozenset[str]] = {}
    for statement in _module_statements(tree.body):
        targets = _bound_names(statement)
        value = getattr(statement, "value", None)
        if targets and value is not None and _names_only(value):
            candidates[id(statement)] = targets
    if not candidates:
        return {}
    read = names_read(_import_time(tree))
    return {key: names for key, names in candidates.items() if not names & read}


def names_read(nodes: Iterable[ast.AST]) -> set[str]:
    """Names loaded (or updated in place) anywhere in ``nodes``."""
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store):
            found.add(node.id)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.add(node.target.id)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found.update(node.names)  # rebound elsewhere: no longer a plain declaration
    return found


def function_bodies(functions: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node of the given functions' bodies."""
    for function in functions:
        for statement in getattr(function, "body", ()):
            yield from walk(statement)


# calls that build a path or read a setting: what a declaration may call besides IDENTITY
_NAMING = frozenset(
    {
        "expanduser", "expandvars", "join", "joinpath", "Path", "PurePath", "str", "home",
        "getenv", "abspath", "normpath", "realpath", "dirname", "basename",
    }
)  # fmt: skip
_IDENTITY_CALLS = frozenset(name.rsplit(".", 1)[-1] for name in IDENTITY)


def _names_only(value: ast.expr) -> bool:
    """A value built only by naming things: literals, paths, settings and identity look-ups
    (``[os.path.expanduser("~/.git-credentials"), get_xdg_config_home_path("git")]``)."""
    for node in walk(value):
        if isinstance(node, ast.Lambda | ast.Await | ast.NamedExpr):
            return False
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        receiver = func.value if isinstance(func, ast.Attribute) else None
        if name == "get" and isinstance(receiver, ast.Attribute) and receiver.attr == "environ":
            continue  # os.environ.get("XDG_CONFIG_HOME")
        lowered = name.lower()
        if not (
            name in _NAMING or name in _IDENTITY_CALLS or "path" in lowered or "dir" in lowered
        ):
            return False
    return True


def _bound_names(statement: ast.stmt) -> frozenset[str]:
    if isinstance(statement, ast.Assign):
        targets: list[ast.expr] = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return frozenset()
    if not all(isinstance(t, ast.Name) for t in targets):
        return frozenset()
    return frozenset(t.id for t in targets if isinstance(t, ast.Name))


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at module level, through ``if``/``try``/``with`` blocks (pymysql
    sets ``DEFAULT_USER`` in a ``try``), not into definitions or the main guard."""
    for statement in body:
        if isinstance(statement, (*FUNCTIONS, ast.ClassDef)):
            continue
        if isinstance(statement, ast.If) and is_main_guard(statement):
            continue
        yield statement
        for field in ("body", "orelse", "finalbody"):
            nested = getattr(statement, field, None)
            if isinstance(nested, list):
                yield from _module_statements(nested)
        for handler in getattr(statement, "handlers", ()):
            yield from _module_statements(handler.body)


def _import_time(tree: ast.Module) -> Iterator[ast.AST]:
    """The nodes that run when the module is imported: not function bodies or default values
    (read when the function is called), not lambdas, not the main guard; class bodies and
    decorators do run."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in children(node):
            if isinstance(child, FUNCTIONS):
                todo.extend(child.decorator_list)
            elif isinstance(child, ast.Lambda):
                continue
            elif isinstance(child, ast.If) and is_main_guard(child):
                todo.append(child.test)
            else:
                todo.append(child)
