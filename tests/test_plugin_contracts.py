"""Every registered plug-in declares its contract, and the report records the versions."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from builders import write, zip_bytes
from corpus import every_kind_members
from finalexam.catalog import CATALOGERS
from finalexam.cli import main
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.plugins import KINDS, problems, wanted
from finalexam.registry import registered
from finalexam.report import REPORTERS
from finalexam.unpack import UNPACKERS
from finalexam.unpack.walk import Walker

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
    }
    ran = [p for p in report.plugins if p.status == "ok"]
    assert {"unpacker", "cataloger", "analyzer"} == {p.kind for p in ran}
    assert [p.name for p in ran if p.kind == "unpacker"] == ["zip"]  # only what opened something
    assert {(p.kind, p.name): p.version for p in ran} == {
        (p.kind, p.name): declared[(p.kind, p.name)] for p in ran
    }


def test_the_reporters_that_write_a_report_are_listed_in_it(tmp_path: Path) -> None:
    target = write(tmp_path / "app.zip", zip_bytes({"app/main.py": "print('hi')\n"}))
    json_path, sarif_path = tmp_path / "report.json", tmp_path / "report.sarif"
    argv = [
        "scan",
        str(target),
        "--offline",
        "-o",
        f"json={json_path}",
        "-o",
        f"sarif={sarif_path}",
    ]
    assert main([*argv, "--no-progress"]) == 0
    document = json.loads(json_path.read_text())
    reporters = {p["name"]: p for p in document["plugins"] if p["kind"] == "reporter"}
    assert reporters == {
        name: {"name": name, "kind": "reporter", "status": "ok", "version": REPORTERS[name].version}
        for name in ("json", "sarif")
    }


def test_accepts_never_takes_a_file_its_wants_do_not_name(tmp_path: Path) -> None:
    """Every cataloger and analyzer, over every file of a release of every kind (each file as
    the walk gives it: its real type and bytes): what ``accepts`` takes, ``wants`` names."""
    target = write(tmp_path / "corpus.zip", zip_bytes(every_kind_members(tmp_path)))
    plugins = [p for p in registered() if p.kind in ("cataloger", "analyzer")]
    accepted: dict[str, int] = {}
    outside: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for entry in Walker(Config().limits, UNPACKERS, scratch).walk(target):
            for registered_plugin in plugins:
                plugin = registered_plugin.plugin
                if not plugin.accepts(entry):  # type: ignore[attr-defined]
                    continue
                name = f"{registered_plugin.kind} {plugin.name}"  # type: ignore[attr-defined]
                accepted[name] = accepted.get(name, 0) + 1
                if not wanted(plugin.wants, entry):  # type: ignore[attr-defined]
                    outside.append(f"{name}: {entry.location} ({entry.file_type.value})")
    assert outside == []
    # the corpus gives every plug-in something it takes, so the check above is never vacuous
    names = {f"{p.kind} {p.plugin.name}" for p in plugins}  # type: ignore[attr-defined]
    assert names - set(accepted) == set()


def test_wants_of_catalogers_and_analyzers_are_file_types_or_globs() -> None:
    bare = type("Bare", (), {"name": "b", "version": "1.0", "requires": (), "wants": ("a file",)})
    assert problems("analyzer", bare(), CATALOGER_NAMES) == [
        "analyzer b: wants 'a file' is neither a file type nor a name glob"
    ]
    assert problems("unpacker", bare(), CATALOGER_NAMES) == []  # an unpacker's wants are words
