"""Every added-code rule carries examples; they must match, the benign ones must not."""

from __future__ import annotations

import pytest

from finalexam.diffing.rules import RULES_DIR, CodeRule, categories_in, code_rules


def test_rules_are_loaded_from_data_files() -> None:
    files = sorted(p.stem for p in RULES_DIR.glob("*.toml"))
    assert len(code_rules()) == len(files) >= 7
    assert len({r.id for r in code_rules()}) == len(files)


@pytest.mark.parametrize("rule", code_rules(), ids=lambda r: r.id)
def test_rule_examples(rule: CodeRule) -> None:
    assert rule.matches and rule.benign
    for text in rule.matches:
        assert rule.search(text), f"{rule.id} should match {text!r}"
    for text in rule.benign:
        assert not rule.search(text), f"{rule.id} should not match {text!r}"


def test_categories_report_first_line() -> None:
    found = categories_in("a = 1\nb = 2\nsubprocess.run(['x'])\n")
    _, line, snippet = found["process-exec"]
    assert line == 3 and snippet.startswith("subprocess")
