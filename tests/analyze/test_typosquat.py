from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.analyze.typosquat import check_name, popular
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Severity


def test_popular_lists_ship_as_package_data() -> None:
    assert popular("PyPI")[:3] and "requests" in popular("PyPI")[:50]
    assert "lodash" in popular("npm")[:500]


@pytest.mark.parametrize(
    ("name", "ecosystem", "target", "technique"),
    [
        ("reqeusts", "PyPI", "requests", "one edit"),
        ("requets", "PyPI", "requests", "one edit"),
        ("python_dateutill", "PyPI", "python-dateutil", "one edit"),
        ("pythondateutil", "PyPI", "python-dateutil", "separator"),
        ("r\u0435quests", "PyPI", "requests", "homoglyph"),
        ("co1orama", "PyPI", "colorama", "look-alike letters"),
        ("lodahs", "npm", "lodash", "one edit"),
        ("@attacker/lodash", "npm", "lodash", "scope"),
    ],
)
def test_typosquats_are_named(name: str, ecosystem: str, target: str, technique: str) -> None:
    squat = check_name(name, ecosystem)
    assert squat is not None and (squat.target, squat.technique) == (target, technique)


@pytest.mark.parametrize("name", ["requests", "Requests", "python-dateutil", "urllib3", "numpy"])
def test_popular_names_are_never_squats(name: str) -> None:
    assert check_name(name, "PyPI") is None


def test_scan_reports_squat_url_dependency_and_confusion_version(tmp_path: Path) -> None:
    wheel = write(
        tmp_path / "reqeusts-99.0.0-py3-none-any.whl",
        zip_bytes(
            {
                "reqeusts-99.0.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: reqeusts\n"
                "Version: 99.0.0\nRequires-Dist: helper @ https://example.org/helper.tar.gz\n",
            }
        ),
    )
    report = run_exam(wheel, Config())
    by_rule = {f.rule_id: f for f in report.findings}
    assert by_rule["typosquat-name"].severity is Severity.HIGH
    assert by_rule["typosquat-name"].evidence.details["target"] == "requests"
    assert by_rule["dependency-by-url"].severity is Severity.MEDIUM
    assert "dependency-confusion-version" in by_rule
    manifest = {"name": "lodahs", "version": "1.0.0", "dependencies": {"x": "github:a/b"}}
    tgz = write(
        tmp_path / "lodahs-1.0.0.tgz",
        gzip_bytes(tar_bytes({"package/package.json": json.dumps(manifest)})),
    )
    rules = {f.rule_id for f in run_exam(tgz, Config()).findings}
    assert {"typosquat-name", "dependency-by-url"} <= rules
