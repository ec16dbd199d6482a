"""The rule-id namespace: which family a finding's rule belongs to, and the rule's tags.

One scheme for every rule (see docs/rules.md, "Rule ids"):

- a rule kept as a file is ``<family>/<id>``: the family is its folder under ``rules/``, the
  id its file stem (a family kept in subfolders qualifies it, ``python.decoders``); findings
  carry the id (``aws-access-key``, ``thr-decoded-exec``, ``obf-long-line``);
- a rule an engine defines in code is ``<family>.<name>`` (``binary.no-pie``), and an engine
  that prefixes its file rules' ids does so with its family's name in the singular
  (``capability.keylogging`` for ``capabilities/keylogging.toml``);
- a vulnerability's id is its advisory's (``CVE-``, ``GHSA-``, ``MAL-``...); its family is
  ``vulnerability``.

Tags say what a rule is about across families (``hardening``, ``signing``). A rule file lists
its own (``tags = [...]``); rules defined in code get theirs from ``rules/tags.toml``. The
policy selects rules by family and tag (``family = "binary"``, ``tag = "hardening"``), never
by words inside ids.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RULES_ROOT = Path(__file__).resolve().parent / "rules"
CODE_RULE_TAGS = RULES_ROOT / "tags.toml"
VULNERABILITY = "vulnerability"  # the family of every advisory id (the finding's kind says so)
# An engine's prefix for the ids of its file rules, where it differs from the folder.
_PREFIXES = {"capability": "capabilities"}


@dataclass(frozen=True)
class RuleInfo:
    family: str | None
    tags: frozenset[str] = frozenset()


def _tags(value: Any) -> frozenset[str]:
    if not isinstance(value, list):
        return frozenset()
    return frozenset(v for v in value if isinstance(v, str))


def _read_tags(path: Path) -> tuple[str | None, frozenset[str]]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return None, frozenset()  # the rules lint names broken files
    value = data.get("id")
    return (value if isinstance(value, str) else path.stem), _tags(data.get("tags"))


@cache
def _prefixed_file_rule(rule_id: str) -> RuleInfo | None:
    """``capability.keylogging`` or ``diff.process-exec``: one file read, not every family."""
    prefix, _dot, name = rule_id.partition(".")
    family = _PREFIXES.get(prefix, prefix)
    path = RULES_ROOT / family / f"{name}.toml"
    if not name or not path.is_file():
        return None
    return RuleInfo(family, _read_tags(path)[1])


@cache
def _file_rules() -> dict[str, RuleInfo]:
    """Every rule file's id -> info."""
    found: dict[str, RuleInfo] = {}
    for family_dir in sorted(p for p in RULES_ROOT.iterdir() if p.is_dir()):
        for path in sorted(family_dir.rglob("*.toml")):
            rule_id, tags = _read_tags(path)
            if rule_id is not None:
                found.setdefault(rule_id, RuleInfo(family_dir.name, tags))
    return found


@cache
def _code_rules() -> dict[str, frozenset[str]]:
    with CODE_RULE_TAGS.open("rb") as handle:
        data = tomllib.load(handle)
    return {rule_id: _tags(tags) for rule_id, tags in data.items()}


def rule_info(rule_id: str) -> RuleInfo:
    """The family and tags of the rule a finding names (family None: not a known rule)."""
    tags = _code_rules().get(rule_id)
    if tags is not None:
        return RuleInfo(rule_id.partition(".")[0], tags)
    known = _prefixed_file_rule(rule_id) if "." in rule_id else None
    known = known or _file_rules().get(rule_id)
    if known is not None:
        return known
    prefix, dot, _name = rule_id.partition(".")
    return RuleInfo(_PREFIXES.get(prefix, prefix) if dot else None)
