"""A time budget per file and plug-in: past it, an Issue says what was not examined."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.analyze.base import Analysis, ExamState
from finalexam.budget import file_budget
from finalexam.config import Config, Limits, build_config
from finalexam.errors import ConfigError
from finalexam.exam import run_exam, whole_exam_budget
from finalexam.model import FileEntry, IssueKind, Report
from finalexam.report.base import RenderOptions
from finalexam.report.json import JsonReporter


class Spinner:
    """Spins forever on files named ``spin.txt`` and swallows every Exception while at it,
    as careless plug-in code does; reports the name of every other file."""

    name = "spinner"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("every file",)

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return entry.name.endswith(".txt")

    def analyze(self, entry: FileEntry) -> Analysis:
        while entry.name == "spin.txt":
            try:
                sum(range(10_000))
            except Exception:
                continue
        return Analysis(extra={"seen": [entry.path]})

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _exam(target: Path, **changes: object) -> Report:
    config = replace(Config(), time_budget=0.5, timestamp="2024-01-01T00:00:00Z", **changes)  # type: ignore[arg-type]
    return run_exam(target, config, analyzers=(Spinner,))


@pytest.fixture
def target(tmp_path: Path) -> Path:
    members = {"a.txt": "a", "spin.txt": "x", "b.txt": "b"}
    return write(tmp_path / "spin.zip", zip_bytes(members))


def test_a_plugin_over_its_budget_is_an_issue_and_the_exam_goes_on(target: Path) -> None:
    started = time.monotonic()
    report = _exam(target)
    assert time.monotonic() - started < 20
    [issue] = report.issues
    assert issue.plugin == "spinner"
    assert str(issue.location) == "spin.zip!/spin.txt"
    assert issue.message == "spinner did not examine this file: over its 0.5 s time budget"
    assert report.extra["seen"] == ["a.txt", "b.txt"]


def test_the_budget_gives_the_same_report_with_worker_processes(target: Path) -> None:
    options = RenderOptions(timestamp="2024-01-01T00:00:00Z")
    rendered = [JsonReporter().render(_exam(target, jobs=jobs), options) for jobs in (1, 2)]
    assert rendered[0] == rendered[1]


def test_the_budget_holds_when_the_exam_runs_in_another_thread(target: Path) -> None:
    reports: list[Report] = []
    thread = threading.Thread(target=lambda: reports.append(_exam(target)))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert [str(i.location) for i in reports[0].issues] == ["spin.zip!/spin.txt"]


def test_the_budget_is_a_flag_an_env_var_and_a_config_key(tmp_path: Path) -> None:
    assert Config().time_budget > 0
    assert build_config(environ={"FINALEXAM_TIME_BUDGET": "2.5"}).time_budget == 2.5
    assert build_config(environ={}, overrides={"time_budget": 0.0}).time_budget == 0
    config = tmp_path / "finalexam.toml"
    config.write_text("time_budget = 3\n")
    assert build_config(config_file=str(config), environ={}).time_budget == 3.0
    for bad in ("-1", "nan", "inf", "soon"):
        with pytest.raises(ConfigError, match="time_budget"):
            build_config(environ={"FINALEXAM_TIME_BUDGET": bad})


class SlowFinish(Spinner):
    """Examines every file at once, then spins in its step after the walk (as a check over
    every component of a huge SBOM would, if it were quadratic)."""

    name = "slow-finish"

    def accepts(self, entry: FileEntry) -> bool:
        return False

    def finish(self, state: ExamState) -> Analysis:
        while True:
            try:
                sum(range(10_000))
            except Exception:
                continue


def test_a_step_after_the_walk_over_its_budget_is_an_issue(target: Path) -> None:
    config = replace(Config(), time_budget=0.5, timestamp="2024-01-01T00:00:00Z")
    started = time.monotonic()
    report = run_exam(target, config, analyzers=(Spinner, SlowFinish))
    assert time.monotonic() - started < 20
    step = [i for i in report.issues if i.plugin == "slow-finish"]
    assert [(i.kind, i.location, i.message) for i in step] == [
        (
            IssueKind.TIME_BUDGET,
            None,
            "slow-finish did not finish its whole-exam step: over its 0.5 s time budget",
        )
    ]
    assert not report.complete
    status = {p.name: p.status for p in report.plugins}
    assert status["slow-finish"] == "failed" and status["spinner"] == "ok"
    assert report.extra["seen"] == ["a.txt", "b.txt"]  # the other plug-in's work is kept


def test_the_step_after_the_walk_has_the_budget_per_thousand_files_and_components() -> None:
    assert whole_exam_budget(10, 3) == 10
    assert whole_exam_budget(10, 20_000) == 200
    assert whole_exam_budget(0, 20_000) == 0  # no limit stays no limit


def test_a_big_file_has_the_budget_for_each_16_mib() -> None:
    """CUDA's static objects in triton's wheel (51 MB, 44,836 sections) take LIEF longer to
    parse than a small file's budget; reading is linear work, so the budget grows with size."""
    assert file_budget(10, 1024) == 10
    assert file_budget(10, 64 * 1024 * 1024) == 40
    assert file_budget(0, 64 * 1024 * 1024) == 0  # no limit stays no limit


SPACIOUS = Limits(max_ratio=1_000_000)  # a repeated letter is no bomb here


def test_a_big_file_spins_for_its_larger_budget_only(tmp_path: Path) -> None:
    """The spinner on a 32 MiB file is stopped at twice the budget, and said so."""
    members = {"spin.txt": "x" * (32 * 1024 * 1024)}
    report = _exam(write(tmp_path / "big.zip", zip_bytes(members)), limits=SPACIOUS)
    [issue] = report.issues
    assert issue.message == "spinner did not examine this file: over its 1 s time budget"
