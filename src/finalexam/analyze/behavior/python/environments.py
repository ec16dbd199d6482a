"""Functions of a file that only hand a parameter to a child process as its environment.

``subprocess.Popen(cmd, env=os.environ)`` gives the environment to a program the package
starts, which is what every build and worker pool does; it sends nothing anywhere. A local
function or class that takes the environment and does only that with it (mypy's
``WorkerClient(status_file, options, env)`` -> ``Popen(command, env=env)``) consumes it the
same way, so what it returns or builds does not carry the environment on to a later send.
A parameter used in any other way (copied, serialised, stored on ``self``) is not consumed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from finalexam.analyze.behavior.python.syntax import FUNCTIONS, walk


@dataclass(frozen=True)
class Consumed:
    """The parameters a callee consumes as a child's environment: by position (``self``
    not counted) and by name."""

    positions: frozenset[int]
    names: frozenset[str]


def environment_consumers(tree: ast.Module) -> dict[str, Consumed]:
    """Module-level functions, and classes by their ``__init__``, whose parameters are only
    ever passed as ``env=`` to a call."""
    found: dict[str, Consumed] = {}
    for node in tree.body:
        if isinstance(node, FUNCTIONS):
            consumed = _consumed(node, method=False)
            if consumed is not None:
                found[node.name] = consumed
        elif isinstance(node, ast.ClassDef):
            init = next(
                (n for n in node.body if isinstance(n, FUNCTIONS) and n.name == "__init__"), None
            )
            consumed = _consumed(init, method=True) if init is not None else None
            if consumed is not None:
                found[node.name] = consumed
    return found


def _consumed(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> Consumed | None:
    parameters = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    if method:
        parameters = parameters[1:]
    handed: set[str] = set()  # names given as env= to a call
    as_env: set[int] = set()  # those Name nodes
    other_uses: set[str] = set()
    for node in walk(function):  # breadth first: a keyword comes before its value
        if isinstance(node, ast.keyword) and node.arg == "env" and isinstance(node.value, ast.Name):
            handed.add(node.value.id)
            as_env.add(id(node.value))
        elif isinstance(node, ast.Name) and id(node) not in as_env:
            other_uses.add(node.id)
    names = frozenset(p for p in parameters if p in handed and p not in other_uses)
    if not names:
        return None
    positions = frozenset(i for i, p in enumerate(parameters) if p in names)
    return Consumed(positions, names)


def consumed_arguments(call: ast.Call, consumers: dict[str, Consumed]) -> list[ast.expr]:
    """The arguments of ``call`` a local consumer takes as a child's environment."""
    if not isinstance(call.func, ast.Name) or call.func.id not in consumers:
        return []
    consumed = consumers[call.func.id]
    if any(isinstance(a, ast.Starred) for a in call.args):
        return []
    taken = [a for i, a in enumerate(call.args) if i in consumed.positions]
    taken += [k.value for k in call.keywords if k.arg in consumed.names]
    return taken
