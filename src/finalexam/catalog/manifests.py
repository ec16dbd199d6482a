"""Names and dependencies declared by package manifests beyond what components carry: the
head of PKG-INFO/METADATA, egg-info ``requires.txt``, ``setup(install_requires=...)`` (read
with ``ast``; nothing is run), and package.json dependency specs that are URLs."""

from __future__ import annotations

import ast
import re

METADATA_NAME = re.compile(r"^Name:\s*(\S+)\s*$", re.MULTILINE)
METADATA_VERSION = re.compile(r"^Version:\s*(\S+)\s*$", re.MULTILINE)
REQUIRES_URL = re.compile(r"^Requires-Dist:\s*([\w.\-]+)[^\n@]*@\s*(\S+)", re.MULTILINE)
URL_SPEC = re.compile(r"^(https?://|git(\+\w+)?://|git\+|github:|gitlab:|bitbucket:|file:)")
GITHUB_SHORT = re.compile(r"^[\w.-]+/[\w.-]+(#.*)?$")

_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requires_txt(text: str) -> list[str]:
    """Distribution names of an egg-info ``requires.txt`` (every extra's section too)."""
    names = []
    for line in text.splitlines():
        if line.startswith("[") or not line.strip():
            continue
        match = _REQUIREMENT_NAME.match(line)
        if match:
            names.append(match.group(1))
    return names


def setup_py_requires(text: str) -> list[str]:
    """Names in ``setup(install_requires=[...])``: a list literal, or a module-level name bound
    to one. Read with ``ast``; nothing is run."""
    try:
        tree = ast.parse(text.removeprefix("\ufeff"))  # a byte order mark, as Python reads it
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lists: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                lists[target.id] = statement.value
    names: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg != "install_requires":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = lists.get(value.id, value)
            if isinstance(value, ast.List | ast.Tuple):
                for element in value.elts:
                    if isinstance(element, ast.Constant) and isinstance(element.value, str):
                        match = _REQUIREMENT_NAME.match(element.value)
                        if match:
                            names.append(match.group(1))
    return names
