"""Severity from every rating an advisory and its aliases carry; unrated stays ``unknown``."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from distro_records import DEBIAN_CVE_2023_0286, DLA_3325_1, RLSA_2023_0946

from builders import tar_bytes, write
from conftest import require_shared
from finalexam.cli import main
from finalexam.model import Component, Severity
from finalexam.vuln.match import Matcher
from finalexam.vuln.severity import Matched, rate
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.update import update_database
from schema import assert_valid_report

CVSS_V3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
CVSS_V4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N"  # 6.9


def _record(record_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": record_id, "modified": "2024-01-01T00:00:00Z", **fields}


def _entry(**fields: Any) -> dict[str, Any]:
    return {"package": {"ecosystem": "PyPI", "name": "x"}, **fields}


@pytest.mark.parametrize(
    ("records", "severity", "source"),
    [
        # Nothing anywhere: unknown, never a silent medium.
        ([_record("PYSEC-2021-142")], Severity.UNKNOWN, "unknown: no CVSS vector"),
        (
            [_record("GHSA-aaaa-bbbb-cccc", database_specific={"severity": "MODERATE"})],
            Severity.MEDIUM,
            "GHSA-aaaa-bbbb-cccc: GitHub MODERATE",
        ),
        # The highest rating wins: the source's own word against a CVSS score.
        (
            [
                _record(
                    "GHSA-aaaa-bbbb-cccc",
                    database_specific={"severity": "LOW"},
                    severity=[{"type": "CVSS_V3", "score": CVSS_V3}],
                )
            ],
            Severity.CRITICAL,
            "CVSS 3.1 9.8",
        ),
        (
            [_record("UBUNTU-CVE-2023-1", severity=[{"type": "Ubuntu", "score": "high"}])],
            Severity.HIGH,
            "UBUNTU-CVE-2023-1: Ubuntu priority high",
        ),
        (
            [_record("RLSA-2023:0946", summary="Important: openssl security update")],
            Severity.HIGH,
            "RLSA-2023:0946: Red Hat Important",
        ),
        (
            [
                _record(
                    "DEBIAN-CVE-2020-1",
                    severity=[{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}],
                )
            ],
            Severity.HIGH,
            "CVSS 2.0 7.5",
        ),
        (
            [
                _record(
                    "CVE-2024-1",
                    severity=[
                        {
                            "type": "CVSS_V4",
                            "score": CVSS_V4,
                        }
                    ],
                )
            ],
            Severity.MEDIUM,
            "CVSS 4.0 6.9",
        ),
        # A malformed vector is no rating.
        (
            [_record("GHSA-x", severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}])],
            Severity.UNKNOWN,
            "unknown",
        ),
    ],
)
def test_ratings_of_matched_records(
    records: list[dict[str, Any]], severity: Severity, source: str
) -> None:
    rated = rate([Matched(r, _entry()) for r in records])
    assert rated.severity is severity
    assert rated.source.startswith(source)


def test_distributions_lower_what_does_not_harm_their_package() -> None:
    unimportant = _entry(ecosystem_specific={"urgency": "unimportant"})
    record = _record("DEBIAN-CVE-2010-4756", severity=[{"type": "CVSS_V3", "score": CVSS_V3}])
    rated = rate([Matched(record, unimportant)])
    assert (rated.severity, rated.source) == (
        Severity.LOW,
        "DEBIAN-CVE-2010-4756: Debian urgency unimportant",
    )
    assert rated.cvss[0].score == 9.8  # kept as evidence
    negligible = _record("UBUNTU-CVE-1", severity=[{"type": "Ubuntu", "score": "negligible"}])
    assert rate([Matched(negligible, _entry())]).severity is Severity.LOW
    # "low*" is the tracker's older spelling of low.
    marked = rate(
        [Matched(_record("DEBIAN-CVE-1"), _entry(ecosystem_specific={"urgency": "low*"}))]
    )
    assert (marked.severity, marked.source) == (Severity.LOW, "DEBIAN-CVE-1: Debian urgency low")


def test_ratings_of_aliases_that_did_not_match() -> None:
    # A DLA without severity matched; the DEBIAN-CVE record of its CVE (no buster entry any
    # more) carries NVD's vector, and a multi-CVE erratum's score is not any one CVE's.
    single = {**DEBIAN_CVE_2023_0286, "affected": DEBIAN_CVE_2023_0286["affected"][2:]}
    bundle = {**RLSA_2023_0946, "severity": [{"type": "CVSS_V3", "score": CVSS_V3}]}
    rated = rate([Matched(DLA_3325_1, DLA_3325_1["affected"][0])], [single, bundle])
    assert (rated.severity, rated.source) == (Severity.HIGH, "CVSS 3.1 7.4")
    # The urgency of another release's entry is not this package's.
    assert rated.ratings == ()


@pytest.fixture(scope="module")
def alias_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = tmp_path_factory.mktemp("alias-records")
    buster_gone = {**DEBIAN_CVE_2023_0286, "affected": DEBIAN_CVE_2023_0286["affected"][2:]}
    for record in (DLA_3325_1, buster_gone):
        (records / f"{record['id']}.json").write_text(json.dumps(record))
    path = tmp_path_factory.mktemp("alias-db") / "osv.sqlite3"
    update_database(path, [str(records)])
    return path


def test_matcher_finds_the_aliases_in_the_database(alias_db: Path) -> None:
    component = Component(
        name="libssl1.1",
        version="1.1.1n-0+deb10u3",
        ecosystem="Debian:10",
        purl="pkg:deb/debian/libssl1.1@1.1.1n-0+deb10u3?distro=debian-10&upstream=openssl",
    )
    with VulnDatabase(alias_db) as database:
        (finding,) = Matcher(database).match_component(component)
    assert finding.rule_id == "DLA-3325-1"
    assert finding.severity is Severity.HIGH
    assert finding.evidence.details["severity_source"] == "CVSS 3.1 7.4"
    assert finding.evidence.details["advisories"] == ["DLA-3325-1"]


# -- the release policy on real PYSEC records --------------------------------------------


@pytest.fixture(scope="module")
def pypi_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real PYSEC record of the shared PyPI export."""
    path = tmp_path_factory.mktemp("pypi-db") / "osv.sqlite3"
    update_database(path, [str(require_shared() / "PyPI" / "all.zip")])
    return path


@pytest.fixture
def site_packages(tmp_path: Path) -> Iterator[Path]:
    """An application tree with PyYAML 5.3.1 and Jinja2 2.10 installed."""
    metadata = {
        f"app/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        for name, version in (("PyYAML", "5.3.1"), ("Jinja2", "2.10"))
    }
    yield write(tmp_path / "app.tar", tar_bytes(metadata))


def test_unrated_fixable_vulnerabilities_fail_the_release_policy(
    pypi_db: Path, site_packages: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(require_shared() / "PyPI" / "all.zip") as archive:
        pysec = json.loads(archive.read("PYSEC-2021-142.json"))
    assert "severity" not in pysec and "database_specific" not in pysec  # as published
    out, sarif, markdown = tmp_path / "report.json", tmp_path / "r.sarif", tmp_path / "r.md"
    outputs = ["-o", f"json={out}", "-o", f"sarif={sarif}", "-o", f"markdown={markdown}"]
    code = main(["scan", str(site_packages), "--db", str(pypi_db), *outputs])
    document = json.loads(out.read_text())
    assert_valid_report(document)
    vulnerabilities = [f for f in document["findings"] if f["kind"] == "vulnerability"]
    by_component = {}
    for finding in vulnerabilities:
        by_component.setdefault(finding["component"].split("@")[0], []).append(finding)
    assert set(by_component) == {"pkg:pypi/pyyaml", "pkg:pypi/jinja2"}
    assert {f["severity"] for f in vulnerabilities} == {"unknown"}
    assert all(f["fixed"] for f in vulnerabilities)
    assert code == 1
    by_fingerprint = {f["fingerprint"]: f["rule_id"] for f in vulnerabilities}
    violations = document["verdict"]["violations"]
    assert {v["rule"] for v in violations} == {"fixable-vulnerability"}
    blocking = {by_fingerprint[v["fingerprint"]] for v in violations}
    assert {"PYSEC-2021-142", "PYSEC-2019-217", "PYSEC-2021-66"} <= blocking

    # Shown as unknown everywhere, and rated like high where a tool needs a level.
    assert "| kind | critical | high | unknown | medium | low | info | total |" in (
        markdown.read_text()
    )
    run = json.loads(sarif.read_text())["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["PYSEC-2021-142"]["properties"]["security-severity"] == "7.0"
    assert {r["level"] for r in run["results"] if r["ruleId"].startswith("PYSEC")} == {"error"}
