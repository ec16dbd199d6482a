"""Every secret rule passes its own examples, on both engine paths."""

from __future__ import annotations

import pytest

from finalexam.analyze.secrets.engine import HYPERSCAN_AVAILABLE, RULES_DIR, Engine
from finalexam.analyze.secrets.rules import load_rules
from finalexam.analyze.secrets.scan import example_matches, example_path, scan_bytes

RULES = load_rules(RULES_DIR)
MATCH = [(r.id, i, e) for r in RULES for i, e in enumerate(r.examples_match)]
BENIGN = [(r.id, i, e) for r in RULES for i, e in enumerate(r.examples_benign)]
FAMILIES = {
    "cloud",
    "vcs",
    "ci",
    "registry",
    "chat",
    "mail",
    "payments",
    "ai",
    "saas",
    "keys",
    "tokens",
    "uri",
    "generic",
}


def test_at_least_150_rules_with_examples() -> None:
    assert len(RULES) >= 150
    for rule in RULES:
        assert rule.examples_match, rule.id
        assert rule.examples_benign, rule.id
        assert rule.family in FAMILIES, rule.id


@pytest.mark.parametrize(
    ("rule_id", "index", "example"), MATCH, ids=[f"{r}-{i}" for r, i, _ in MATCH]
)
def test_match_example_matches(rule_id: str, index: int, example: str) -> None:
    assert example_matches(rule_id, example)


@pytest.mark.parametrize(
    ("rule_id", "index", "example"), BENIGN, ids=[f"{r}-{i}" for r, i, _ in BENIGN]
)
def test_benign_example_does_not_match(rule_id: str, index: int, example: str) -> None:
    assert not example_matches(rule_id, example)


def test_keywords_are_necessary_for_every_match_example() -> None:
    # The pure-re path skips rules whose keywords are absent: a keyword must be in every match.
    for rule in RULES:
        for example in rule.examples_match:
            data = example.encode(rule.example_encoding).lower()
            assert any(k in data for k in rule.keywords), rule.id


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_hyperscan_and_re_paths_give_identical_findings() -> None:
    fast, slow = Engine(RULES, use_hyperscan=True), Engine(RULES, use_hyperscan=False)
    assert fast.name == "hyperscan" and slow.name == "re"
    for rule in RULES:
        for example in (*rule.examples_match, *rule.examples_benign):
            data = example.encode(rule.example_encoding)
            path = example_path(rule)
            got = [
                (h.rule.id, h.secret, h.line)
                for h in scan_bytes(data, path, binary=False, engine=fast)
            ]
            want = [
                (h.rule.id, h.secret, h.line)
                for h in scan_bytes(data, path, binary=False, engine=slow)
            ]
            assert got == want, rule.id
