"""JSON from an artifact, parsed whatever its nesting depth.

``json.loads`` recurses: a document nested a few thousand levels deep raises RecursionError,
while the programs that read it (npm's ``JSON.parse``, container runtimes) do not fail. A
``package.json`` with one deep value would then hide its install scripts from the exam. Here
values nested deeper than ``MAX_DEPTH`` are replaced by ``null`` and the rest of the document
is kept; the caller learns that something was cut.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 128
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def loads(text: str | bytes) -> Any:
    """The document, deep values cut to null. Raises ValueError when it is not JSON."""
    return loads_checked(text)[0]


def loads_object(text: str | bytes) -> dict[str, Any] | None:
    """The document when it is a JSON object (package.json, deps.json, ...), else None."""
    try:
        document = loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def loads_checked(text: str | bytes) -> tuple[Any, bool]:
    """The document and whether values nested deeper than ``MAX_DEPTH`` were cut."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8-sig" if text[:3] == b"\xef\xbb\xbf" else "utf-8")
    try:
        return json.loads(text), False
    except RecursionError:
        pass
    try:
        return json.loads(_cut_deep(text, MAX_DEPTH)), True
    except RecursionError:  # the stack was already deep where we were called
        raise ValueError(f"JSON nested too deeply to read even when cut at {MAX_DEPTH}") from None


def _cut_deep(text: str, limit: int) -> str:
    """``text`` with every array or object opened below depth ``limit`` replaced by null."""
    pieces: list[str] = []
    depth = 0
    kept = 0  # end of the text copied so far
    cut_from: int | None = None
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth == limit + 1:
                cut_from = token.start()
        elif char in "]}":
            if depth == limit + 1 and cut_from is not None:
                pieces.append(text[kept:cut_from])
                pieces.append("null")
                kept = token.end()
                cut_from = None
            depth -= 1
    if cut_from is not None:  # never closed: cut to the end, the parser reports the error
        pieces.append(text[kept:cut_from])
        pieces.append("null")
    else:
        pieces.append(text[kept:])
    return "".join(pieces)
