"""One rule-id namespace: every rule's family, and the tags the policy selects by."""

from __future__ import annotations

import tomllib

import pytest

from finalexam.ruleids import CODE_RULE_TAGS, RuleInfo, rule_info


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        ("aws-access-key-id", RuleInfo("secrets")),  # a file rule: its folder
        ("thr-decoded-exec", RuleInfo("behavior")),
        ("obf-long-line", RuleInfo("obfuscation")),
        ("python.decoders", RuleInfo("vocabulary")),
        ("capability.keylogging", RuleInfo("capabilities")),  # an engine's prefixed file rule
        ("binary.no-pie", RuleInfo("binary", frozenset({"hardening"}))),  # a code rule
        (
            "binary.unsigned-windows-executable",
            RuleInfo("binary", frozenset({"signing", "unsigned"})),
        ),
        ("binary.not-yet-tagged", RuleInfo("binary")),
        ("no-such-rule", RuleInfo(None)),
    ],
)
def test_family_and_tags(rule_id: str, expected: RuleInfo) -> None:
    assert rule_info(rule_id) == expected


def test_code_rule_tags_name_rules_of_a_family() -> None:
    with CODE_RULE_TAGS.open("rb") as handle:
        tags = tomllib.load(handle)
    for rule_id, values in tags.items():
        family, dot, name = rule_id.partition(".")
        assert dot and family and name, rule_id  # <family>.<name>
        assert values and all(isinstance(v, str) and v == v.lower() for v in values)
