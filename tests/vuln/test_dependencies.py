"""Declared dependencies on known-malicious packages: real MAL- records, a real database."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from builders import write, zip_bytes
from conftest import require_shared
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Component, Dependency, FindingKind, Severity
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.update import update_database

LISTED = {  # the shape of real records for squatted names: the versions that were published
    "schema_version": "1.5.0",
    "id": "MAL-2099-0002",
    "modified": "2024-01-01T00:00:00Z",
    "summary": "Malicious code in listed-evil (PyPI)",
    "affected": [
        {"package": {"ecosystem": "PyPI", "name": "listed-evil"}, "versions": ["1.0.2", "1.0.3"]}
    ],
}


@pytest.fixture(scope="module")
def mal_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = require_shared()
    records = tmp_path_factory.mktemp("mal-records")
    with zipfile.ZipFile(root / "malicious" / "PyPI" / "all.zip") as archive:
        (records / "MAL-2022-7421.json").write_bytes(archive.read("MAL-2022-7421.json"))
    (records / "MAL-2099-0002.json").write_text(json.dumps(LISTED))
    path = tmp_path_factory.mktemp("mal-db") / "osv.sqlite3"
    update_database(path, [str(records)])
    return path


def owner(*dependencies: tuple[str, str | None]) -> Component:
    return Component(
        name="app",
        version="1.0",
        ecosystem="PyPI",
        purl="pkg:pypi/app@1.0",
        dependencies=tuple(Dependency(target=t, requirement=r) for t, r in dependencies),
    )


def found(db: Path, component: Component) -> dict[str, tuple[Severity, bool]]:
    with VulnDatabase(db) as database:
        return {
            f.evidence.details["dependency"]: (f.severity, f.evidence.details["every_version"])
            for f in malicious_dependencies(database, [component])
        }


def test_a_dependency_malicious_in_every_version_is_critical(mal_db: Path) -> None:
    result = found(mal_db, owner(("pkg:pypi/ascii2text", ">=1.0"), ("pkg:pypi/requests", None)))
    assert result == {"ascii2text": (Severity.CRITICAL, True)}


def test_listed_versions_count_only_when_the_requirement_admits_one(mal_db: Path) -> None:
    assert found(mal_db, owner(("pkg:pypi/listed-evil", "<2.0.0,>=1.0.2"))) == {
        "listed-evil": (Severity.HIGH, False)
    }
    assert found(mal_db, owner(("pkg:pypi/listed-evil", None))) == {
        "listed-evil": (Severity.HIGH, False)
    }
    assert found(mal_db, owner(("pkg:pypi/listed-evil", ">=1.1"))) == {}
    assert found(mal_db, owner(("pkg:pypi/listed-evil", "==1.0.1"))) == {}


def test_a_wheel_declaring_a_malicious_dependency_fails_the_exam(
    mal_db: Path, tmp_path: Path
) -> None:
    metadata = (
        "Metadata-Version: 2.1\nName: tidy\nVersion: 1.0\n"
        "Requires-Dist: requests (>=2.0)\nRequires-Dist: listed-evil (>=1.0.2,<2.0.0)\n"
    )
    wheel = write(
        tmp_path / "tidy-1.0-py3-none-any.whl",
        zip_bytes({"tidy/__init__.py": "", "tidy-1.0.dist-info/METADATA": metadata}),
    )
    report = run_exam(wheel, Config(db=str(mal_db)))
    (finding,) = [f for f in report.findings if f.kind is FindingKind.MALICIOUS]
    assert finding.rule_id == "MAL-2099-0002" and finding.severity is Severity.HIGH
    assert "listed-evil" in finding.message and "1.0.2, 1.0.3" in finding.message
    assert report.extra["vulnerability_db"]["malicious_dependencies"] == 1
    assert not report.verdict.passed
