from __future__ import annotations

import json
from pathlib import Path

import pytest

from finalexam.cli import main


def test_policy_show_and_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.toml").write_text(
        '[[waivers]]\nrule_id = "secrets.*"\nreason = "old"\nexpires = 2026-01-01\n\n'
        '[[waivers]]\npurl = "pkg:npm/left-pad"\nreason = "vendored, audited"\n'
        'approved_by = "sec"\n'
    )
    args = ["--policy", "ci", "--waivers", "w.toml", "--fail-on", "critical"]
    assert main(["policy", "show", "--json", *args, "--timestamp", "2026-06-01"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "ci"
    assert [r["id"] for r in shown["rules"]] == [
        "secrets",
        "malicious",
        "malicious-advisory",
        "high-findings",
        "stale-database",
        "fail-on-critical",
    ]
    assert shown["rules"][-1]["origin"] == "--fail-on"
    assert [(w["status"], w["origin"]) for w in shown["waivers"]] == [
        ("expired", "w.toml:1"),
        ("active", "w.toml:6"),
    ]
    assert main(["policy", "show", *args, "--timestamp", "2026-06-01"]) == 0
    text = capsys.readouterr().out
    assert "[expired] rule_id=secrets.* until 2026-01-01: old (w.toml:1)" in text
    assert main(["policy", "check", *args, "--timestamp", "2025-12-31"]) == 0
    assert capsys.readouterr().out == (
        "ok: policy ci: 6 rules, 2 waivers (0 expired as of 2025-12-31)\n"
    )


def test_policy_check_reports_every_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.toml").write_text('[[rules]]\nid = "a"\nnew = 1\n[[rules]]\nid = "a"\n')
    assert main(["policy", "check", "--policy", "p.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "finalexam: error: p.toml:3: new: expected true or false",
        "finalexam: error: p.toml:5: rule id 'a' defined twice (first at line 2)",
    ]
