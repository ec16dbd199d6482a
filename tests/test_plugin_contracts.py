"""Every registered plug-in declares its contract, and the report records the versions."""

from __future__ import annotations

from pathlib import Path

from builders import write, zip_bytes
from finalexam.catalog import CATALOGERS
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.plugins import KINDS, problems
from finalexam.registry import registered

CATALOGER_NAMES = frozenset(make().name for make in CATALOGERS)


def test_every_registered_plugin_declares_name_version_requires_and_wants() -> None:
    plugins = list(registered())
    assert {p.kind for p in plugins} == set(KINDS)
    found = [issue for p in plugins for issue in problems(p.kind, p.plugin, CATALOGER_NAMES)]
    assert found == []


def test_names_are_unique_within_a_kind() -> None:
    for kind in KINDS:
        names = [getattr(p.plugin, "name", None) for p in registered() if p.kind == kind]
        assert len(names) == len(set(names)), kind


def test_an_incomplete_declaration_is_named() -> None:
    class Bare:
        name = "bare"
        version = "one"
        requires = ("no-such-thing",)

    found = problems("analyzer", Bare(), CATALOGER_NAMES)
    assert found == [
        "analyzer bare: version 'one' is not MAJOR.MINOR",
        "analyzer bare: requires unknown 'no-such-thing'",
        "analyzer bare: wants must name the kinds of files it looks at",
    ]
    reporter = type("Reporter", (), {"name": "r", "version": "1.0", "requires": ()})()
    assert problems("reporter", reporter, CATALOGER_NAMES) == []  # reporters read no files


def test_the_report_records_the_version_of_every_plugin_that_ran(tmp_path: Path) -> None:
    wheel = {
        "app-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: app\nVersion: 1.0\n\n",
        "app/__init__.py": "API = 'https://example.org/v1'\n",
    }
    target = write(tmp_path / "app-1.0-py3-none-any.whl", zip_bytes(wheel))
    report = run_exam(target, Config())
    declared = {
        (p.kind, p.plugin.name): p.plugin.version  # type: ignore[attr-defined]
        for p in registered()
        if p.kind in ("cataloger", "analyzer")
    }
    ran = [p for p in report.plugins if p.status == "ok"]
    assert ran
    assert {(p.kind, p.name): p.version for p in ran} == {
        (p.kind, p.name): declared[(p.kind, p.name)] for p in ran
    }
