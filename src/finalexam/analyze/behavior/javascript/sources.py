"""JavaScript carried inside other files: HTML ``<script>`` elements and the inline scripts
(``node -e``) of package.json lifecycle commands."""

from __future__ import annotations

import re
import shlex

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_TYPE = re.compile(r"""\btype\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_JS_TYPES = frozenset(
    {"", "module", "text/javascript", "application/javascript", "text/ecmascript", "text/babel"}
)
_NOT_CODE = re.compile(r"[^\n]")
_EVAL_FLAGS = frozenset({"-e", "--eval", "-p", "--print"})


def html_scripts(html: str) -> str:
    """The inline scripts of an HTML page, every other character blanked, so that the
    JavaScript keeps its lines (a finding points at the page's own line)."""
    pieces: list[str] = []
    last = 0
    for match in _SCRIPT.finditer(html):
        kind = _TYPE.search(match.group(1))
        if kind is not None and kind.group(1).lower() not in _JS_TYPES:
            continue
        start = match.start(2)
        pieces.append(_NOT_CODE.sub("", html[last:start]))
        pieces.append(match.group(2))
        last = match.end(2)
    if not pieces:
        return ""
    pieces.append(_NOT_CODE.sub("", html[last:]))
    return "".join(pieces)


def inline_scripts(command: str) -> list[str]:
    """Scripts a lifecycle command hands to node on its command line (``node -e "..."``)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    found = []
    for index, word in enumerate(words[:-1]):
        program = words[index - 1].rsplit("/", 1)[-1] if index else ""
        if word in _EVAL_FLAGS and program in ("node", "nodejs", "node.exe"):
            found.append(words[index + 1])
    return found
