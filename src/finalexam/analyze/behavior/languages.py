"""Which language a file is written in, and how the behaviour engine reads its facts.

``READERS`` maps a language to its facts reader (see ``facts.py``): the engine matches call
rules against the facts and string rules against the literals of a file in such a language,
and reads any other file as text; ``CALL_READERS`` adds call facts to a language read as
text (shell: ``shell.py``). Python is read through its syntax tree (``python/``); a
JavaScript through its tree-sitter tree (``javascript/``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from finalexam.analyze.behavior.facts import Fact, FactsReader
from finalexam.analyze.behavior.javascript.visitor import javascript_facts
from finalexam.analyze.behavior.python.visitor import python_facts
from finalexam.analyze.behavior.shell import shell_calls

READERS: Mapping[str, FactsReader] = {"python": python_facts, "javascript": javascript_facts}
# Languages read as text that still give call facts: a shell script's download-then-run chain.
CALL_READERS: Mapping[str, Callable[[str, Callable[[int], str]], list[Fact]]] = {
    "shell": shell_calls
}

_SUFFIX_LANGUAGE = {
    ".py": "python",
    ".pyw": "python",
    ".pth": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "javascript",
    ".mts": "javascript",
    ".cts": "javascript",
    ".tsx": "javascript",
    ".jsx": "javascript",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ps1": "powershell",
    ".psm1": "powershell",
    ".bat": "batch",
    ".cmd": "batch",
    ".rb": "ruby",
    ".gemspec": "ruby",
    ".gyp": "any",
    ".vbs": "any",
}
# Names language_of knows a language by (without reading the file), as plug-in wants.
SOURCE_NAMES = ("rakefile", "gemfile", *(f"*{suffix}" for suffix in _SUFFIX_LANGUAGE))


def language_of(path: str, head: str = "") -> str | None:
    """Language of a file from its name or shebang; None when it is not code we read."""
    name = path.rsplit("/", 1)[-1].lower()
    if name in ("rakefile", "gemfile"):
        return "ruby"
    for suffix, language in _SUFFIX_LANGUAGE.items():
        if name.endswith(suffix):
            return language
    if head.startswith("#!"):
        first = head.split("\n", 1)[0]
        if "python" in first:
            return "python"
        if "node" in first:
            return "javascript"
        if "ruby" in first:
            return "ruby"
        if "sh" in first:
            return "shell"
    return None


def detect_language(example: str, languages: Iterable[str]) -> str:
    """Language to read a rule example as: Python when it parses and the rule takes Python."""
    ordered = sorted(languages)
    takes_python = "python" in ordered or ("any" in ordered and _looks_like_python(example))
    if takes_python and python_facts(example).parsed:
        return "python"
    for language in ("javascript", "shell", "powershell", "batch", "ruby"):
        if language in ordered:
            return language
    return "any"


def _looks_like_python(text: str) -> bool:
    return bool(re.search(r"^\s*(import |from \w+ import |def |\w+\s*=|\w+(\.\w+)*\()", text, re.M))
