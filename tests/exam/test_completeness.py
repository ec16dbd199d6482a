"""The one completeness rule: every gap (an Issue of any kind but ``note``) that the user did
not accept makes the exam incomplete, and every output says INCOMPLETE, never PASSED."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from builders import encrypted_zip_bytes, write, zip_bytes
from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config, build_config
from finalexam.errors import ConfigError
from finalexam.exam import run_exam
from finalexam.model import ExamStatus, FileEntry, IssueKind, Report
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions
from finalexam.report.load import report_from_document
from schema import assert_valid_report, report_validator


class CrashOnBoom:
    """A plug-in that fails on one file: the exam goes on, but is not complete."""

    name = "crash-on-boom"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("every file",)

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return entry.name == "boom.py"

    def analyze(self, entry: FileEntry) -> Analysis:
        raise ValueError("cannot parse")

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _render(report: Report, name: str) -> str:
    return REPORTERS[name].render(report, RenderOptions(timestamp="2024-01-01T00:00:00Z")).decode()


def test_schema_lists_exactly_the_issue_kinds() -> None:
    schema = report_validator().schema
    assert schema["$defs"]["issue_kind"]["enum"] == [kind.value for kind in IssueKind]


def test_a_plugin_failure_makes_the_exam_incomplete(tmp_path: Path) -> None:
    target = write(tmp_path / "app.zip", zip_bytes({"boom.py": "x", "ok.py": "y"}))
    report = run_exam(target, Config(), analyzers=(CrashOnBoom,))
    (issue,) = report.issues
    assert issue.kind is IssueKind.PLUGIN_FAILED and issue.plugin == "crash-on-boom"
    assert "did not finish on this file" in issue.message
    assert report.status is ExamStatus.INCOMPLETE
    accepted = run_exam(
        target, Config(allow_incomplete=(IssueKind.PLUGIN_FAILED,)), analyzers=(CrashOnBoom,)
    )
    assert accepted.status is ExamStatus.PASSED and accepted.issues == report.issues


def test_every_output_says_incomplete_and_lists_what_was_skipped(tmp_path: Path) -> None:
    target = write(tmp_path / "locked.zip", encrypted_zip_bytes({"app/core.py": "x = 1\n"}))
    report = run_exam(target, Config(), analyzers=())
    assert report.status is ExamStatus.INCOMPLETE
    document = json.loads(_render(report, "json"))
    assert_valid_report(document)
    assert document["verdict"]["status"] == "incomplete" and document["complete"] is False
    assert document["summary"]["gaps"] == 1
    assert [(i["kind"], i["gap"]) for i in document["issues"]] == [("encrypted", True)]
    table = _render(report, "table")
    assert "INCOMPLETE (release): 1 part(s) of the artifact not examined (1 encrypted)" in table
    assert "[encrypted] locked.zip!/app/core.py: encrypted member" in table
    assert "PASSED" not in table
    markdown = _render(report, "markdown")
    assert markdown.startswith("## ⚠️ finalexam: locked.zip INCOMPLETE\n")
    assert "\\[encrypted\\] locked.zip!/app/core.py" in markdown  # escaped: never a link
    html = _render(report, "html")
    assert 'class="verdict incomplete">INCOMPLETE<' in html
    assert "PASSED" not in html
    sarif = json.loads(_render(report, "sarif"))
    (run,) = sarif["runs"]
    assert run["properties"]["verdict"]["status"] == "INCOMPLETE"
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["properties"]["kind"] == "encrypted"
    junit = ET.fromstring(_render(report, "junit"))
    verdict = junit.find("testsuite/properties/property[@name='verdict']")
    assert verdict is not None and verdict.get("value") == "INCOMPLETE"
    assert junit.get("errors") == "1"


def test_accepted_gaps_stay_listed_everywhere(tmp_path: Path) -> None:
    target = write(tmp_path / "locked.zip", encrypted_zip_bytes({"app/core.py": "x = 1\n"}))
    report = run_exam(target, Config(allow_incomplete=(IssueKind.ENCRYPTED,)), analyzers=())
    assert report.status is ExamStatus.PASSED and report.gaps == ()
    document = json.loads(_render(report, "json"))
    assert document["allowed_incomplete"] == ["encrypted"] and len(document["issues"]) == 1
    assert "gaps accepted (--allow-incomplete): encrypted" in _render(report, "table")
    assert "[encrypted] locked.zip!/app/core.py" in _render(report, "table")
    assert report_from_document(document) == replace(report, timings={}, files=())


def test_a_report_from_an_older_version_reads_unknown_kinds_as_gaps() -> None:
    document = {
        "schema": "1.0",
        "tool": {"name": "finalexam", "version": "0.1.0"},
        "artifact": {"path": "a.zip", "name": "a.zip", "sha256": "", "size": 0, "kind": "zip"},
        "complete": True,
        "issues": [{"stage": "unpack", "location": "a.zip!/x", "message": "odd"}],
        "verdict": {"passed": True, "policy": "release", "violations": []},
    }
    (issue,) = report_from_document(document).issues
    assert issue.kind is IssueKind.CORRUPT


def test_allow_incomplete_from_file_env_and_flag(tmp_path: Path) -> None:
    config_file = tmp_path / "finalexam.toml"
    config_file.write_text('allow_incomplete = ["encrypted", "limit"]\n')
    from_file = build_config(config_file=str(config_file), environ={})
    assert from_file.allow_incomplete == (IssueKind.ENCRYPTED, IssueKind.LIMIT)
    from_env = build_config(environ={"FINALEXAM_ALLOW_INCOMPLETE": "corrupt, time-budget"})
    assert from_env.allow_incomplete == (IssueKind.CORRUPT, IssueKind.TIME_BUDGET)
    config_file.write_text('allow_incomplete = ["everything"]\n')
    with pytest.raises(ConfigError, match="unknown issue kind 'everything'"):
        build_config(config_file=str(config_file), environ={})
