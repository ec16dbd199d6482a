"""Matching real OSV records: expected advisories, fixed-version boundaries, merging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finalexam.model import Component, Confidence, FindingKind, Location, Severity
from finalexam.vuln.match import Matcher
from finalexam.vuln.purl import package_ref, parse_purl
from finalexam.vuln.store import VulnDatabase


@pytest.fixture
def matcher(vuln_db: Path) -> Iterator[Matcher]:
    with VulnDatabase(vuln_db) as database:
        yield Matcher(database)


def ids(matcher: Matcher, ecosystem: str, name: str, version: str | None) -> set[str]:
    component = Component(name=name, version=version, ecosystem=ecosystem)
    return {f.rule_id for f in matcher.match_component(component)}


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "expected"),
    [
        ("PyPI", "requests", "2.19.1", {"GHSA-x84v-xcm2-53pg", "PYSEC-2023-74"}),
        ("PyPI", "requests", "2.31.0", set()),
        ("PyPI", "PyYAML", "5.3", {"PYSEC-2020-96", "PYSEC-2021-142"}),
        ("PyPI", "Jinja2", "2.10", {"PYSEC-2019-217", "PYSEC-2021-66"}),
        (
            "PyPI",
            "aiohttp",
            "3.8.4",
            {
                "PYSEC-2023-120",
                "PYSEC-2023-246",
                "PYSEC-2023-250",
                "PYSEC-2023-251",
                "PYSEC-2024-24",
                "PYSEC-2024-26",
            },
        ),
        ("Go", "golang.org/x/text", "v0.3.7", {"GO-2022-1059", "GO-2026-5970"}),
        ("crates.io", "time", "0.1.44", {"RUSTSEC-2020-0071"}),
        ("crates.io", "smallvec", "1.6.0", {"RUSTSEC-2021-0003"}),
        (
            "Maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            {"GHSA-jfh8-c2jp-5v3q", "GHSA-7rjr-3q55-vv33"},
        ),
        ("Maven", "org.apache.logging.log4j:log4j-core", "2.15.0", {"GHSA-7rjr-3q55-vv33"}),
        ("Maven", "org.springframework:spring-beans", "5.2.19.RELEASE", {"GHSA-36p3-wjmg-h94x"}),
        ("Maven", "org.springframework:spring-beans", "5.3.17", {"GHSA-36p3-wjmg-h94x"}),
        ("Maven", "org.apache.commons:commons-text", "1.9", {"GHSA-599f-7c49-w659"}),
        ("npm", "lodash", "4.17.20", {"GHSA-35jh-r3h4-6jhm"}),
        ("npm", "minimist", "0.2.3", {"GHSA-xvch-5gv4-984h"}),
        ("npm", "semver", "6.3.0", {"GHSA-c2qf-rxjj-qqgw"}),
        ("NuGet", "Newtonsoft.Json", "12.0.3", {"GHSA-5crp-9r3c-p9vr"}),
    ],
)
def test_expected_advisories(
    matcher: Matcher, ecosystem: str, name: str, version: str, expected: set[str]
) -> None:
    assert ids(matcher, ecosystem, name, version) == expected


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "absent"),
    [
        ("PyPI", "aiohttp", "3.8.5", "PYSEC-2023-120"),  # fixed in 3.8.5
        ("PyPI", "requests", "2.20.0", "GHSA-x84v-xcm2-53pg"),  # fixed in 2.20.0
        ("PyPI", "urllib3", "1.26.17", "PYSEC-2023-192"),  # fixed in 1.26.17 and 2.0.6
        ("PyPI", "urllib3", "2.0.6", "PYSEC-2023-192"),
        ("PyPI", "urllib3", "1.26.18", "PYSEC-2023-212"),
        ("PyPI", "django", "4.2.16", "PYSEC-2024-102"),  # 4.2 <= v < 4.2.16, 5.0 <= v < 5.0.9
        ("PyPI", "django", "5.0.9", "PYSEC-2024-102"),
        ("PyPI", "django", "4.1", "PYSEC-2024-102"),  # between the affected series
        ("Maven", "org.apache.logging.log4j:log4j-core", "2.16.0", "GHSA-7rjr-3q55-vv33"),
        ("Maven", "org.apache.logging.log4j:log4j-core", "2.12.2", "GHSA-jfh8-c2jp-5v3q"),
        ("Maven", "org.springframework:spring-beans", "5.2.20.RELEASE", "GHSA-36p3-wjmg-h94x"),
        ("Maven", "org.springframework:spring-beans", "5.3.18", "GHSA-36p3-wjmg-h94x"),
        ("Maven", "org.apache.commons:commons-text", "1.10.0", "GHSA-599f-7c49-w659"),
        ("npm", "lodash", "4.17.21", "GHSA-35jh-r3h4-6jhm"),
        ("npm", "minimist", "1.2.6", "GHSA-xvch-5gv4-984h"),
        ("npm", "minimist", "0.2.4", "GHSA-xvch-5gv4-984h"),
        ("NuGet", "Newtonsoft.Json", "13.0.1", "GHSA-5crp-9r3c-p9vr"),
        ("Go", "golang.org/x/text", "v0.3.8", "GO-2022-1059"),
        ("crates.io", "smallvec", "1.6.1", "RUSTSEC-2021-0003"),
    ],
)
def test_fixed_boundaries_do_not_match(
    matcher: Matcher, ecosystem: str, name: str, version: str, absent: str
) -> None:
    assert absent not in ids(matcher, ecosystem, name, version)


def test_urllib3_and_django_unsorted_events_match_inside(matcher: Matcher) -> None:
    # Real ranges list their events out of order (introduced 2.0.0, fixed 2.0.6, introduced 0...).
    assert "PYSEC-2023-192" in ids(matcher, "PyPI", "urllib3", "1.26.16")
    assert "PYSEC-2023-192" in ids(matcher, "PyPI", "urllib3", "2.0.5")
    assert "PYSEC-2023-212" in ids(matcher, "PyPI", "urllib3", "1.26.17")
    assert "PYSEC-2024-102" in ids(matcher, "PyPI", "Django", "4.2.15")
    assert "PYSEC-2024-102" in ids(matcher, "PyPI", "django", "5.0.8")
    assert len(ids(matcher, "PyPI", "Django", "1.11")) > 10


def test_aliases_merge_into_one_finding(matcher: Matcher) -> None:
    component = Component(
        name="requests",
        version="2.19.1",
        ecosystem="PyPI",
        purl="pkg:pypi/requests@2.19.1",
        locations=(Location(("app.whl", "requests-2.19.1.dist-info/METADATA")),),
        confidence=Confidence.HIGH,
    )
    findings = matcher.match_component(component)
    merged = next(f for f in findings if "PYSEC-2018-28" in (f.rule_id, *f.aliases))
    # PYSEC-2018-28 and the GHSA record share CVE-2018-18074: one finding, GHSA preferred.
    assert merged.rule_id == "GHSA-x84v-xcm2-53pg"
    assert "PYSEC-2018-28" in merged.aliases and "CVE-2018-18074" in merged.aliases
    assert len([f for f in findings if "CVE-2018-18074" in f.aliases]) == 1
    assert merged.kind is FindingKind.VULNERABILITY
    assert merged.severity is Severity.HIGH  # CVSS 3.1 7.5 from the GHSA record
    assert merged.evidence.details["severity_source"] == "CVSS 3.1 7.5"
    assert merged.fixed == ("2.20.0",)
    assert merged.component == "pkg:pypi/requests@2.19.1"
    assert str(merged.location) == "app.whl!/requests-2.19.1.dist-info/METADATA"
    assert {m["id"] for m in merged.evidence.details["matched"]} == {
        "GHSA-x84v-xcm2-53pg",
        "PYSEC-2018-28",
    }
    assert "https://nvd.nist.gov/vuln/detail/CVE-2018-18074" in merged.references
    assert "fixed in 2.20.0" in merged.message


def test_malicious_package_is_critical(matcher: Matcher) -> None:
    (finding,) = matcher.match_component(
        Component(name="ascii2text", version="1.0", ecosystem="PyPI")
    )
    assert finding.kind is FindingKind.MALICIOUS
    assert finding.severity is Severity.CRITICAL
    assert finding.rule_id == "MAL-2022-7421"
    assert finding.aliases == ("GHSA-hqmv-64pp-q4xw",)


def test_malicious_record_without_ranges_matches_every_version(matcher: Matcher) -> None:
    for version in ("0.0.1", "99.0", None):
        component = Component(name="totally-evil-pkg", version=version, ecosystem="PyPI")
        (finding,) = matcher.match_component(component)
        assert finding.rule_id == "MAL-2099-0001"
        assert finding.evidence.details["matched"][0]["how"] == "all-versions"


def test_no_version_matches_only_every_version_records(matcher: Matcher) -> None:
    assert ids(matcher, "PyPI", "requests", None) == set()
    assert ids(matcher, "PyPI", "ascii2text", None) == {"MAL-2022-7421"}
    assert matcher.stats.without_version == 2


def test_purl_drives_the_lookup(matcher: Matcher) -> None:
    cases = {
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1": "GHSA-jfh8-c2jp-5v3q",
        "pkg:golang/golang.org/x/text@v0.3.7": "GO-2022-1059",
        "pkg:cargo/time@0.1.44": "RUSTSEC-2020-0071",
        "pkg:nuget/Newtonsoft.Json@12.0.3": "GHSA-5crp-9r3c-p9vr",
        "pkg:pypi/PyYAML@5.3": "PYSEC-2020-96",
    }
    for purl, expected in cases.items():
        component = Component(name="ignored", version=None, ecosystem="unknown", purl=purl)
        assert expected in {f.rule_id for f in matcher.match_component(component)}, purl


def test_ecosystem_spellings_without_purl(matcher: Matcher) -> None:
    assert "PYSEC-2020-96" in ids(matcher, "pypi", "pyyaml", "5.3")
    assert "RUSTSEC-2020-0071" in ids(matcher, "cargo", "time", "0.1.44")
    assert "GO-2022-1059" in ids(matcher, "golang", "golang.org/x/text", "0.3.7")


def test_go_stdlib_from_a_toolchain_version(matcher: Matcher) -> None:
    old = ids(matcher, "Go", "stdlib", "go1.19.1")
    assert old and all(i.startswith("GO-") for i in old)
    assert len(ids(matcher, "Go", "stdlib", "go1.12")) > len(old)


def test_severity_sources(matcher: Matcher) -> None:
    openssl = {
        f.rule_id: f
        for f in matcher.match_component(
            Component(name="openssl", version="0.8.3", ecosystem="crates.io")
        )
    }
    assert len(openssl) == 8
    assert openssl["RUSTSEC-2016-0001"].evidence.details["severity_source"] == "CVSS 3.0 8.1"
    assert openssl["RUSTSEC-2016-0001"].severity is Severity.HIGH
    unsound = openssl["RUSTSEC-2023-0072"]  # informational "unsound" advisory
    assert (unsound.severity, unsound.evidence.details["informational"]) == (
        Severity.LOW,
        "unsound",
    )
    assert unsound.title.startswith("unsound: ")
    unrated = openssl["RUSTSEC-2023-0022"]  # no rating anywhere: unknown, never "medium"
    assert unrated.severity is Severity.UNKNOWN
    assert unrated.evidence.details["severity_source"].startswith("unknown: no CVSS vector")
    (log4shell, _) = sorted(
        matcher.match_component(
            Component(
                name="org.apache.logging.log4j:log4j-core", version="2.14.1", ecosystem="Maven"
            )
        ),
        key=lambda f: f.rule_id != "GHSA-jfh8-c2jp-5v3q",
    )
    assert log4shell.severity is Severity.CRITICAL
    assert log4shell.aliases == ("CVE-2021-44228",)
    assert log4shell.evidence.details["cvss"][0]["score"] == 10.0


def test_unknown_ecosystem_is_counted_not_matched(matcher: Matcher) -> None:
    assert matcher.match_component(Component(name="x", version="1", ecosystem="generic")) == []
    assert matcher.stats.unsupported == 1


def test_output_is_deterministic(matcher: Matcher) -> None:
    component = Component(name="openssl", version="0.8.3", ecosystem="crates.io")
    first = matcher.match_component(component)
    assert first == matcher.match_component(component)
    assert [f.rule_id for f in first] == sorted(f.rule_id for f in first)


def test_purl_parsing() -> None:
    parsed = parse_purl("pkg:npm/%40babel/core@7.0.0?foo=bar#sub")
    assert parsed is not None
    assert (parsed.type, parsed.namespace, parsed.name, parsed.version) == (
        "npm",
        "@babel",
        "core",
        "7.0.0",
    )
    ref = package_ref(
        Component(name="x", version=None, ecosystem="npm", purl="pkg:npm/%40babel/core@7.0.0")
    )
    assert ref is not None and ref.name == "@babel/core"
    deb = package_ref(
        Component(
            name="libssl3",
            version=None,
            ecosystem="deb",
            purl="pkg:deb/debian/libssl3@3.0.11-1?epoch=1&upstream=openssl",
        )
    )
    assert deb is not None
    assert (deb.ecosystem, deb.name, deb.version) == ("Debian", "openssl", "1:3.0.11-1")
    assert parse_purl("not-a-purl") is None
