from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam import load_report, scan
from finalexam.config import Config
from finalexam.errors import InputError
from finalexam.model import (
    Artifact,
    Component,
    Dependency,
    Evidence,
    Finding,
    FindingKind,
    Indicator,
    Issue,
    IssueKind,
    Location,
    PluginStatus,
    Report,
    Severity,
    Suppressed,
    Verdict,
    Violation,
    Waiver,
)
from finalexam.report.base import RenderOptions
from finalexam.report.json import JsonReporter
from finalexam.report.load import is_report_document
from schema import assert_valid_report

OPTIONS = RenderOptions(files=True, timestamp="2024-01-01T00:00:00Z")


def render(report: Report) -> bytes:
    return JsonReporter().render(report, OPTIONS)


def rich_report() -> Report:
    where = Location(("app.whl", "app/x.py"))
    secret = Finding(
        FindingKind.SECRET,
        "secret.aws",
        Severity.HIGH,
        "AWS key",
        "an access key",
        where,
        "secrets",
        evidence=Evidence(snippet="AKIA****", line=3, details={"entropy": 4.1}),
        fingerprint_key="hash-of-the-secret",
    )
    vuln = Finding(
        FindingKind.VULNERABILITY,
        "GHSA-x",
        Severity.CRITICAL,
        "bad",
        "very bad",
        None,
        "osv",
        component="pkg:pypi/requests@2.0",
        aliases=("CVE-1",),
        fixed=("2.1",),
        references=("https://osv.dev/GHSA-x",),
    )
    return Report(
        artifact=Artifact("app.whl", "dist/app.whl", "a" * 64, 10, "zip", "1.0"),
        tool_version="0.1.0",
        components=(
            Component(
                "requests",
                "2.0",
                "PyPI",
                purl="pkg:pypi/requests@2.0",
                licenses=("Apache-2.0",),
                hashes=(("sha256", "b" * 64),),
                locations=(where,),
                found_by=("python",),
                evidence=("METADATA",),
                dependencies=(Dependency("pkg:pypi/idna", requirement=">=2"),),
                declared=True,
            ),
        ),
        findings=(vuln, secret),
        suppressed=(Suppressed(secret, Waiver("test key", rule_id="secret.aws")),),
        issues=(Issue("unpack", where, "odd", IssueKind.NOTE, "zip"),),
        indicators=(Indicator("url", "https://x.example/a", "network", (where,)),),
        binaries=({"location": "app.whl!/lib.so", "format": "elf", "hardening": {"nx": True}},),
        plugins=(PluginStatus("secrets", "analyzer", "ok"),),
        verdict=Verdict(False, "fail-on-high", (Violation("fail-on-high", "m", "f" * 16),), ("w",)),
        extra={"licenses": {"count": 1}},
    )


def test_constructed_report_round_trips_byte_identical(tmp_path: Path) -> None:
    first = render(rich_report())
    path = write(tmp_path / "r.json", first)
    loaded = load_report(path)
    assert render(loaded) == first
    assert loaded.findings[1].fingerprint == rich_report().findings[1].fingerprint
    assert_valid_report(json.loads(first))


def test_scanned_report_round_trips_byte_identical(tmp_path: Path) -> None:
    target = write(
        tmp_path / "app-1.0-py3-none-any.whl",
        zip_bytes({"app/__init__.py": "x = 1\n", "app/data.zip": zip_bytes({"a.txt": "a"})}),
    )
    report = scan(target, Config(files=True))
    first = render(report)
    loaded = load_report(write(tmp_path / "r.json", first))
    assert render(loaded) == first
    assert [str(f.location) for f in loaded.files] == [str(f.location) for f in report.files]


def test_detects_report_by_content_and_rejects_others(tmp_path: Path) -> None:
    good = write(tmp_path / "weird-name.bin", render(rich_report()))
    assert is_report_document(good.read_bytes())
    assert not is_report_document(b'{"schema": "1.0"}')
    assert not is_report_document(b"PK\x03\x04")
    bad = write(tmp_path / "bad.json", b'{"tool": {"name": "finalexam"}}')
    with pytest.raises(InputError, match=r"bad\.json: not a finalexam report"):
        load_report(bad)
    with pytest.raises(InputError, match=r"nope\.json"):
        load_report(tmp_path / "nope.json")
