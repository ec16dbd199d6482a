"""Vocabularies: the names a language's fact reader recognises (evaluators, decoders,
senders...), one file each under ``rules/vocabulary/<language>/``, whatever the language::

    id = "python.decoders"           # <language>.<file stem>
    title = "Decoders and fetchers feeding code"
    description = "What the names have in common and why the reader cares."
    exact = ["exec", "eval"]         # a name equal to one of these
    prefixes = ["base64."]           # a name starting with one of these
    suffixes = [".decrypt"]          # a name ending with one of these
    pattern = '^os\\.(system|popen)$' # a regular expression found in the name

    [examples]
    match = ["base64.b64decode"]     # names the vocabulary holds
    benign = ["json.loads"]          # names it must not

A name belongs to a vocabulary when any of its four parts says so. Names are spelled as the
language's reader resolves them: dotted (``os.environ.get``), with ``*`` for a receiver the
reader cannot name (``*.read``). The vocabularies carry no severity: rules do.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "vocabulary"
REQUIRED_FIELDS = ("id", "title", "description")  # no severity: a vocabulary finds nothing alone
PARTS = ("exact", "prefixes", "suffixes", "pattern")


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used (a packaging error: the suite lints them all)."""


@dataclass(frozen=True)
class Vocabulary:
    id: str
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return (
            name in self.exact
            or name.startswith(self.prefixes)
            or name.endswith(self.suffixes)
            or (self.pattern is not None and self.pattern.search(name) is not None)
        )

    @property
    def only(self) -> str:
        """The one name of a vocabulary of exactly one name."""
        if len(self.exact) != 1 or self.prefixes or self.suffixes or self.pattern:
            raise VocabularyError(f"{self.id}: expected exactly one name")
        return next(iter(self.exact))


def _strings(data: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise VocabularyError(f"{path}: {key} must be a list of names")
    return tuple(value)


def read_vocabulary(path: Path) -> Vocabulary:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise VocabularyError(f"{path}: {error}") from None
    if not any(part in data for part in PARTS):
        raise VocabularyError(f"{path}: needs one of {', '.join(PARTS)}")
    pattern = data.get("pattern")
    if pattern is not None and not isinstance(pattern, str):
        raise VocabularyError(f"{path}: pattern must be a string")
    try:
        compiled = re.compile(pattern) if pattern else None
    except re.error as error:
        raise VocabularyError(f"{path}: pattern does not compile: {error}") from None
    return Vocabulary(
        id=str(data.get("id") or f"{path.parent.name}.{path.stem}"),
        exact=frozenset(_strings(data, "exact", path)),
        prefixes=_strings(data, "prefixes", path),
        suffixes=_strings(data, "suffixes", path),
        pattern=compiled,
    )


@cache
def vocabularies(language: str) -> dict[str, Vocabulary]:
    """A language's vocabularies by file stem (``decoders``)."""
    directory = RULES_DIR / language
    return {path.stem: read_vocabulary(path) for path in sorted(directory.glob("*.toml"))}


def _by_id(rule_id: str) -> Vocabulary:
    language, _, stem = rule_id.partition(".")
    found = vocabularies(language).get(stem)
    if found is None:
        raise KeyError(f"no vocabulary {rule_id!r}")
    return found


def example_matches(rule_id: str, example: str) -> bool:
    return example in _by_id(rule_id)


def rule_patterns(rule_id: str) -> list[re.Pattern[str]]:
    pattern = _by_id(rule_id).pattern
    return [pattern] if pattern is not None else []
