"""Built-in profiles: ``release`` (default), ``intake`` and ``ci``.

Each profile is a file of ``rules/policy/`` written like a user's policy file (``[[rules]]``),
with a title, a description and examples of findings it blocks and lets through; it is the
``policy`` rule family (``finalexam rules lint --family policy``). Rules select findings by kind,
severity, context and the rule's family and tags (``family = "binary"``, ``tag =
"hardening"``; see ``finalexam.ruleids``), never by words inside rule ids.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from finalexam.errors import FinalexamError
from finalexam.model import (
    Confidence,
    Evidence,
    FileContext,
    Finding,
    FindingKind,
    Location,
    Severity,
)
from finalexam.policy.model import BLOCK, WARN, FindingFacts, Origin, Policy, Problem, Rule
from finalexam.policy.reader import PolicyReader, read_policy_toml
from finalexam.vuln.store import STALE_DATABASE_RULE

RULES_DIR = Path(__file__).resolve().parents[1] / "rules" / "policy"
REQUIRED_FIELDS = ("id", "title", "description")  # a profile has rules, not one severity
DEFAULT_PROFILE = "release"
# The profiles, in the order they are offered (one file each in RULES_DIR).
PROFILE_NAMES = ("release", "intake", "ci")


@cache
def _read_profile(name: str) -> tuple[str, tuple[Rule, ...]]:
    """A bundled profile's title and rules; a broken file is a packaging error."""
    problems: list[Problem] = []
    read = read_policy_toml(RULES_DIR / f"{name}.toml", problems)
    rules: list[Rule] = []
    title = ""
    if read is not None:
        data, lines = read
        title = str(data.get("title", ""))
        rules = PolicyReader(f"builtin:{name}", lines, problems).rules(data.get("rules", []))
    if problems:
        raise FinalexamError("; ".join(str(p) for p in problems))
    return title, tuple(rules)


PROFILES = {name: _read_profile(name)[0] for name in PROFILE_NAMES}


def _stale_database(profile: str) -> Rule:
    """Every profile warns when the exam used old vulnerability data (``--strict`` blocks)."""
    return Rule(
        id="stale-database",
        action=WARN,
        description="the vulnerability database is older than db_max_age_days",
        kinds=(FindingKind.POLICY,),
        rule_ids=(STALE_DATABASE_RULE,),
        origin=Origin(f"builtin:{profile}"),
    )


def profile(name: str) -> Policy | None:
    if name not in PROFILES:
        return None
    return Policy(name=name, rules=(*_read_profile(name)[1], _stale_database(name)))


# -- the rule family: a profile's examples are findings it blocks ("match") or not --------
# An example is a finding written as ``key=value`` words: kind, rule, severity, confidence,
# context, fixed (a fixed version); e.g. "kind=binary rule=binary.no-pie severity=medium".

_WORD = re.compile(r"(\w+)=(\S+)")


def example_finding(example: str) -> Finding:
    fields = dict(_WORD.findall(example))
    return Finding(
        kind=FindingKind(fields.get("kind", "behavior")),
        rule_id=fields.get("rule", "example"),
        severity=Severity(fields.get("severity", "medium")),
        title="example",
        message="example",
        location=Location(("example",)),
        found_by="example",
        confidence=Confidence(fields.get("confidence", "medium")),
        evidence=Evidence(),
        fixed=(fields["fixed"],) if "fixed" in fields else (),
        context=FileContext(fields.get("context", "shipped")),
    )


def example_matches(profile_id: str, example: str) -> bool:
    """Whether the profile blocks the finding the example describes."""
    policy = profile(profile_id)
    if policy is None:
        raise KeyError(f"no profile {profile_id!r}")
    finding = example_finding(example)
    return any(r.action == BLOCK and r.matches(finding, FindingFacts()) for r in policy.rules)
