"""Code-capability rules for added code: data files in ``rules/diff/*.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from finalexam.model import Severity

RULES_DIR = Path(__file__).resolve().parents[1] / "rules" / "diff"


@dataclass(frozen=True)
class CodeRule:
    id: str
    category: str
    title: str
    severity: Severity
    patterns: tuple[re.Pattern[str], ...]
    keywords: tuple[str, ...]  # a text without any of them cannot match (fast prefilter)
    matches: tuple[str, ...]
    benign: tuple[str, ...]
    path: str

    def search(self, text: str) -> re.Match[str] | None:
        if self.keywords and not any(word in text for word in self.keywords):
            return None
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                return found
        return None


def _load(path: Path) -> CodeRule:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    examples = data.get("examples", {})
    return CodeRule(
        id=data["id"],
        category=data["category"],
        title=data["title"],
        severity=Severity.parse(data.get("severity", "medium")),
        patterns=tuple(re.compile(p) for p in data["patterns"]),
        keywords=tuple(data.get("keywords", ())),
        matches=tuple(examples.get("match", ())),
        benign=tuple(examples.get("benign", ())),
        path=str(path),
    )


@cache
def code_rules() -> tuple[CodeRule, ...]:
    return tuple(_load(path) for path in sorted(RULES_DIR.glob("*.toml")))


def categories_in(
    text: str, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, tuple[CodeRule, int, str]]:
    """Category → (rule, line number, line) of its first match in ``text``."""
    found: dict[str, tuple[CodeRule, int, str]] = {}
    lines = text.splitlines()
    for rule in code_rules():
        if rule.category in found or rule.category in skip:
            continue
        match = rule.search(text)
        if match is None:
            continue
        line = text.count("\n", 0, match.start())
        found[rule.category] = (rule, line + 1, lines[line] if line < len(lines) else "")
    return found


def rule_patterns(rule_id: str) -> tuple[re.Pattern[str], ...]:
    """Every regular expression rule ``rule_id`` runs (for the linear-time lint)."""
    return next(rule for rule in code_rules() if rule.id == rule_id).patterns


def example_matches(rule_id: str, example: str) -> bool:
    """Whether one rule flags ``example`` as added code (for ``finalexam rules test``)."""
    rule = next(rule for rule in code_rules() if rule.id == rule_id)
    return rule.search(example) is not None
