"""Behaviour rules: one TOML file each under ``rules/behavior/``, loaded and compiled once.

A rule is either a *capability* (what code can do: spawn a process, open a socket, read files,
decode and evaluate) or a *threat* (what it aims at: SSH keys, browser profiles, Discord tokens,
persistence, reverse shells, ...). A rule matches on any of:

- ``patterns``: regular expressions over the file's raw text (every language, comments too);
- ``calls``: glob patterns over resolved Python call names (``os.system``, ``subprocess.*``,
  ``exec<-base64.b64decode`` for an evaluation fed by a decoder), from the ``ast`` facts;
- ``strings``: regular expressions over Python string constants after folding
  (``'sys' + 'tem'`` is ``system``; docstrings are skipped), so split or concatenated literals
  are still seen; in other languages (or Python that does not parse) over the raw text.
``min_distinct`` (default 1): how many different ``strings``/``patterns`` must match in one
file before the rule hits at all (a stealer names many credential stores; a tool names one).
"""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from finalexam.model import Severity
from finalexam.ruledata import flag, strings

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "behavior"

LANGUAGES = frozenset({"python", "javascript", "shell", "powershell", "batch", "ruby", "any"})
KINDS = frozenset({"capability", "threat"})
CONTEXTS = frozenset({"install", "import", "runtime"})


class RuleError(ValueError):
    """A rule file is malformed: names the file and what is wrong."""


@dataclass(frozen=True)
class BehaviorRule:
    id: str
    title: str
    severity: Severity  # when the risk is formed in install- or import-time code
    description: str
    kind: str  # capability | threat
    capability: str | None  # capability rules: the capability they prove
    needs: tuple[str, ...]  # threat rules: capabilities of which any one forms a risk
    runtime_severity: Severity  # the same risk inside ordinary library functions
    contexts: frozenset[str]  # install, import, runtime: where a hit counts
    explained_severity: Severity | None  # when every URL in the file is a well-known endpoint
    languages: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    calls: tuple[str, ...]
    strings: tuple[re.Pattern[str], ...]
    match_examples: tuple[str, ...]
    benign_examples: tuple[str, ...]
    path: Path
    # a threat whose capability sits in another file of the same package still forms a risk
    package_scope: bool = False
    min_distinct: int = 1  # different strings/patterns that must match in one file
    # a call whose destination only its caller chooses does not count (Fact.caller_supplied)
    skip_caller_supplied: bool = False

    def applies_to(self, language: str) -> bool:
        return "any" in self.languages or language in self.languages

    def call_matches(self, name: str) -> bool:
        regex = self._call_regex
        return regex is not None and regex.match(name) is not None

    @functools.cached_property
    def _call_regex(self) -> re.Pattern[str] | None:
        """All call globs as one anchored regex: called for every call of every file."""
        if not self.calls:
            return None
        return re.compile("|".join(f"(?:{fnmatch.translate(glob)})" for glob in self.calls))


def _strings(data: dict[str, object], key: str, path: Path) -> tuple[str, ...]:
    return strings(data, key, path.name, RuleError)


def _flag(data: dict[str, object], key: str, path: Path) -> bool:
    return flag(data, key, path.name, RuleError)


def _compile(sources: tuple[str, ...], path: Path, key: str) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for source in sources:
        try:
            compiled.append(re.compile(source, re.IGNORECASE | re.MULTILINE))
        except re.error as error:
            raise RuleError(f"{path.name}: {key}: bad regex {source!r}: {error}") from None
    return tuple(compiled)


def load_rule(path: Path) -> BehaviorRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    for key in ("id", "title", "severity", "description", "kind"):
        if not isinstance(data.get(key), str):
            raise RuleError(f"{path.name}: missing or non-string {key!r}")
    if data["id"] != path.stem:
        raise RuleError(f"{path.name}: id {data['id']!r} differs from the file name")
    if data["kind"] not in KINDS:
        raise RuleError(f"{path.name}: kind must be one of {sorted(KINDS)}")
    languages = frozenset(_strings(data, "languages", path) or ("any",))
    if not languages <= LANGUAGES:
        raise RuleError(f"{path.name}: unknown languages {sorted(languages - LANGUAGES)}")
    examples = data.get("examples", {})
    if not isinstance(examples, dict):
        raise RuleError(f"{path.name}: [examples] must be a table")
    capability = data.get("capability")
    if data["kind"] == "capability" and not isinstance(capability, str):
        raise RuleError(f"{path.name}: a capability rule names its 'capability'")
    try:
        severity = Severity.parse(data["severity"])
        runtime = Severity.parse(str(data.get("runtime_severity", data["severity"])))
        explained_text = data.get("explained_severity")
        explained = Severity.parse(str(explained_text)) if explained_text else None
    except ValueError as error:
        raise RuleError(f"{path.name}: {error}") from None
    contexts = frozenset(_strings(data, "contexts", path) or CONTEXTS)
    if not contexts <= CONTEXTS:
        raise RuleError(f"{path.name}: unknown contexts {sorted(contexts - CONTEXTS)}")
    patterns = _strings(data, "patterns", path)
    calls = _strings(data, "calls", path)
    strings = _strings(data, "strings", path)
    if not (patterns or calls or strings):
        raise RuleError(f"{path.name}: needs at least one of patterns, calls, strings")
    return BehaviorRule(
        id=data["id"],
        title=data["title"],
        severity=severity,
        description=data["description"],
        kind=data["kind"],
        capability=capability if isinstance(capability, str) else None,
        needs=_strings(data, "needs", path),
        runtime_severity=runtime,
        contexts=contexts,
        explained_severity=explained,
        languages=languages,
        patterns=_compile(patterns, path, "patterns"),
        calls=calls,
        strings=_compile(strings, path, "strings"),
        match_examples=_strings(examples, "match", path),
        benign_examples=_strings(examples, "benign", path),
        path=path,
        package_scope=_flag(data, "package_scope", path),
        min_distinct=_count(data, "min_distinct", len(patterns) + len(strings), path),
        skip_caller_supplied=_flag(data, "skip_caller_supplied", path),
    )


def _count(data: dict[str, object], key: str, most: int, path: Path) -> int:
    value = data.get(key, 1)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= max(most, 1):
        raise RuleError(f"{path.name}: {key} must be a whole number from 1 to {max(most, 1)}")
    return value


@cache
def load_rules(directory: Path = RULES_DIR) -> tuple[BehaviorRule, ...]:
    return tuple(load_rule(path) for path in sorted(directory.glob("*.toml")))


def rules_by_id() -> dict[str, BehaviorRule]:
    return {rule.id: rule for rule in load_rules()}


def rule_patterns(rule_id: str) -> tuple[re.Pattern[str], ...]:
    """Every regular expression rule ``rule_id`` runs (for the linear-time lint)."""
    rule = rules_by_id()[rule_id]
    return (*rule.patterns, *rule.strings)
