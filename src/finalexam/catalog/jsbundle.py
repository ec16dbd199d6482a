"""JavaScript libraries bundled into minified files, by their banners and signatures.

A vendored ``jquery.min.js`` or a webpack bundle has no ``package.json`` beside it; its
libraries are still named by the license banners minifiers keep and by version constants
next to library-specific names. Rules live in ``rules/jsbundle/``; components are npm
packages, so they match npm advisories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from finalexam.catalog.fingerprint import RULES_ROOT, Scanner, load_rules
from finalexam.catalog.native import hit_component
from finalexam.model import Component, FileEntry, FileType

_SUFFIXES = (".js", ".mjs", ".cjs", ".css", ".htm", ".html", ".vue", ".jsx")
_MAX_SIZE = 64 * 1024 * 1024


RULES_DIR = RULES_ROOT / "jsbundle"


def example_matches(rule_id: str, example: str) -> bool:
    """Whether one rule names a library in ``example`` (for ``finalexam rules test``)."""
    rules = [rule for rule in scanner().rules if rule.id == rule_id]
    hits = Scanner(rules, use_hyperscan=False).scan(example.encode("latin-1", "replace"))
    return any(hit.rule.id == rule_id for hit in hits)


def rule_patterns(rule_id: str) -> tuple[re.Pattern[bytes], ...]:
    """Every regular expression rule ``rule_id`` runs (for the linear-time lint)."""
    return tuple(p.regex for rule in scanner().rules if rule.id == rule_id for p in rule.patterns)


@cache
def scanner() -> Scanner:
    return Scanner(load_rules("jsbundle"))


class JsBundleCataloger:
    name = "jsbundle"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("script", "text")  # bundled JavaScript and CSS: library banners

    def accepts(self, entry: FileEntry) -> bool:
        return (
            entry.file_type in (FileType.SCRIPT, FileType.TEXT)
            and entry.size <= _MAX_SIZE
            and entry.name.lower().endswith(_SUFFIXES)
        )

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        return [hit_component(hit, entry, self.name) for hit in scanner().scan(entry.data)]

    def finish(self) -> Iterable[Component]:
        return ()


def make() -> JsBundleCataloger:
    return JsBundleCataloger()
