"""Every behaviour rule file follows the convention and its examples behave as stated."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from finalexam.analyze import ANALYZERS
from finalexam.analyze.behavior.analyzer import BehaviorAnalyzer
from finalexam.analyze.behavior.engine import example_matches
from finalexam.analyze.behavior.rules import RULES_DIR, RuleError, load_rule, load_rules
from finalexam.analyze.indicators.analyzer import IndicatorAnalyzer
from finalexam.analyze.names.analyzer import TyposquatAnalyzer

RULES = load_rules()
MATCH = [(rule.id, example) for rule in RULES for example in rule.match_examples]
BENIGN = [(rule.id, example) for rule in RULES for example in rule.benign_examples]


def test_rules_are_registered_and_loaded() -> None:
    assert {BehaviorAnalyzer, IndicatorAnalyzer, TyposquatAnalyzer} <= set(ANALYZERS)
    assert len(RULES) == len(list(RULES_DIR.glob("*.toml"))) >= 25
    kinds = {rule.kind for rule in RULES}
    assert kinds == {"capability", "threat"}


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_rule_file_convention(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["id"] == path.stem
    for key in ("title", "severity", "description", "kind"):
        assert isinstance(data[key], str) and data[key]
    assert data["examples"]["match"], "every rule shows what it matches"
    assert data["examples"]["benign"], "every rule shows what it leaves alone"
    if data["kind"] == "capability":
        assert data["severity"] == "info", "a capability alone is information"


@pytest.mark.parametrize(("rule_id", "example"), MATCH)
def test_rule_matches_its_examples(rule_id: str, example: str) -> None:
    assert example_matches(rule_id, example)


@pytest.mark.parametrize(("rule_id", "example"), BENIGN)
def test_rule_ignores_its_benign_examples(rule_id: str, example: str) -> None:
    assert not example_matches(rule_id, example)


def test_bad_rule_files_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "thr-x.toml"
    bad.write_text(
        'id = "other"\ntitle = "t"\nseverity = "high"\ndescription = "d"\n'
        'kind = "threat"\npatterns = ["x"]\n'
    )
    with pytest.raises(RuleError, match=r"thr-x\.toml"):
        load_rule(bad)
    bad.write_text(
        'id = "thr-x"\ntitle = "t"\nseverity = "high"\ndescription = "d"\n'
        'kind = "threat"\npatterns = ["(unclosed"]\n'
    )
    with pytest.raises(RuleError, match="bad regex"):
        load_rule(bad)
