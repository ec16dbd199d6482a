"""Decoded data that a service sent back, not a payload the package carries.

``thr-writes-payload`` reads decoded bytes written to a script as a dropper unpacking what it
carries (``open("x.py", "wb").write(base64.b64decode(BLOB))``). mlflow 3.18.0 exports the
user's Databricks notebook through the Databricks SDK and writes it as ``model.py``:
``response = WorkspaceClient().workspace.export(...)``, then
``base64.b64decode(response.content)``: the API sends file contents base64-encoded, so the
decoding is the transport's, and what is decoded came from the user's workspace.

A decoder's input is such a reply when it is a field (``.content``, ``["data"]``) of a
variable the file assigned from calls that include a call into a third-party library it
imports by absolute name (not the standard library, not a relative import of the package's
own modules), and from nothing that reads a local file, decodes, or is one of the file's own
functions. A literal, a constant, a parameter, a file the package ships, or anything made by
the package's own code stays a payload; data from the network libraries the reader knows is
a download whatever it is decoded from.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping, Set

from finalexam.analyze.behavior.python.vocabulary import DECODING

PAYLOAD = "decoded-payload"  # producer mark: decoded bytes the package carries
_READERS = frozenset(
    {"open", "read", "read_bytes", "read_text", "readlines", "get_data", "getvalue", "files"}
)


def library_roots(node: ast.Import | ast.ImportFrom) -> set[str]:
    """Top-level names of the third-party libraries an import statement brings in."""
    if isinstance(node, ast.ImportFrom):
        names = [node.module] if node.module and node.level == 0 else []
    else:
        names = [alias.name for alias in node.names]
    roots = {name.split(".", 1)[0] for name in names}
    return {root for root in roots if root not in sys.stdlib_module_names}


def service_reply(
    argument: ast.AST | None, assigned: Mapping[str, Set[str]], libraries: Set[str]
) -> bool:
    """Whether a decoder's ``argument`` is a field of a third-party library's reply."""
    if not isinstance(argument, ast.Attribute | ast.Subscript):
        return False
    base: ast.AST = argument
    while isinstance(base, ast.Attribute | ast.Subscript):
        base = base.value
    if not isinstance(base, ast.Name):
        return False
    producers = assigned.get(base.id, set())
    for producer in producers:
        last = producer.rsplit(".", 1)[-1]
        if "." not in producer or last in _READERS or DECODING.search(producer):
            return False  # the file's own function, a local read, or decoded data
        if producer == PAYLOAD:
            return False
    return any(producer.split(".", 1)[0] in libraries for producer in producers)
