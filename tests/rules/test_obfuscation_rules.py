"""The obfuscation rules are files; each has its heuristic and the heuristic reads the file."""

from __future__ import annotations

from finalexam.analyze.behavior.obfuscation import (
    HEURISTICS,
    IMAGE_PAYLOAD,
    RULES_DIR,
    inspect,
    rules,
)
from finalexam.model import Location, Severity


def test_every_rule_file_has_its_heuristic() -> None:
    files = {path.stem for path in RULES_DIR.glob("*.toml")}
    assert files == set(rules()) == {*HEURISTICS, IMAGE_PAYLOAD}


def test_findings_take_title_severity_and_languages_from_the_file() -> None:
    line = "VALUES = [" + ", ".join(str(i) for i in range(1200)) + "]"
    rule = rules()["obf-long-line"]
    assert rule.number("min_line_length") == 5000 and len(line) > 5000
    (finding,) = inspect(Location(("a.py",)), line, "python")
    assert (finding.rule_id, finding.title, finding.severity) == (
        "obf-long-line",
        rule.title,
        Severity.LOW,
    )
    assert "javascript" not in rule.languages
    assert inspect(Location(("a.js",)), line, "javascript") == []
