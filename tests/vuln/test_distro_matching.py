"""Operating-system packages against distribution advisories: names, releases, states.

Packages are built by dpkg-deb and rpmbuild, images assembled from them (dpkg status read
from the .debs, rpmdb written by rpm), and matched against records written in the published
formats of Debian, Ubuntu, Alpine, Rocky Linux, AlmaLinux and Red Hat (``distro_records``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from distro_records import DISTRO_RECORDS

from builders import docker_save_bytes, tar_bytes, write, zip_bytes
from catalog_helpers import entry
from distbuild import DPKG_DEB, RPM, RPMBUILD, build_deb, build_rpm, debian_image, rpm_image
from finalexam.analyze.vulnerabilities import VulnerabilityAnalyzer
from finalexam.catalog.distro import DistroTracker
from finalexam.config import Config
from finalexam.exam import CATALOGERS, run_exam
from finalexam.model import Component, Confidence, Finding, Location, Report, Severity
from finalexam.vuln.distro import Release, applies, release_ecosystem, release_from_version
from finalexam.vuln.match import Matcher
from finalexam.vuln.purl import package_ref, source_rpm_name
from finalexam.vuln.ranges import match_affected
from finalexam.vuln.sources import default_sources
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.update import update_database
from finalexam.vuln.versions import DEFAULT_ECOSYSTEMS

needs_dpkg = pytest.mark.skipif(DPKG_DEB is None, reason="dpkg-deb not installed")
needs_rpm = pytest.mark.skipif(
    RPMBUILD is None or RPM is None, reason="rpm not installed (.ci/system-packages)"
)

DEBIAN_10 = 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n'
DEBIAN_11 = 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\nID=debian\nVERSION_ID="11"\n'
DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
UBUNTU_2204 = (
    'NAME="Ubuntu"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nID=ubuntu\nID_LIKE=debian\n'
    'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nVERSION_ID="22.04"\n'
)
ROCKY_9 = 'NAME="Rocky Linux"\nVERSION="9.1 (Blue Onyx)"\nID="rocky"\nVERSION_ID="9.1"\n'


@pytest.fixture(scope="session")
def distro_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = tmp_path_factory.mktemp("distro-records")
    for record in DISTRO_RECORDS:
        (records / f"{str(record['id']).replace(':', '_')}.json").write_text(json.dumps(record))
    path = tmp_path_factory.mktemp("distro-db") / "osv.sqlite3"
    update_database(path, [str(records)])
    return path


def scan(target: Path, db: Path) -> Report:
    return run_exam(
        target, Config(db=str(db)), catalogers=CATALOGERS, analyzers=(VulnerabilityAnalyzer,)
    )


def vulnerabilities(report: Report) -> dict[str, list[Finding]]:
    """Findings by the binary package name in their component purl."""
    found: dict[str, list[Finding]] = {}
    for finding in report.findings:
        name = (finding.component or "").split("?")[0].rsplit("/", 1)[-1].split("@")[0]
        found.setdefault(name, []).append(finding)
    return found


def ids(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings} | {a for f in findings for a in f.aliases}


def test_db_update_fetches_the_distribution_exports(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``db update`` without sources fetches every default export from the OSV bucket: here
    a loopback server laid out like it (``Rocky Linux/all.zip``, with the space)."""
    base, root = served
    by_ecosystem: dict[str, list[dict[str, object]]] = {e: [] for e in DEFAULT_ECOSYSTEMS}
    for record in DISTRO_RECORDS:
        families = {str(a["package"]["ecosystem"]).split(":")[0] for a in record["affected"]}
        for family in families:
            by_ecosystem[family].append(record)
    for ecosystem, records in by_ecosystem.items():
        members = {f"{str(r['id']).replace(':', '_')}.json": json.dumps(r) for r in records}
        write(root / ecosystem / "all.zip", zip_bytes(members))
    monkeypatch.setattr("finalexam.vuln.sources.osv_http.OSV_BUCKET", base)
    assert f"{base}/Rocky%20Linux/all.zip" in default_sources()
    result = update_database(tmp_path / "osv.sqlite3")
    assert {s.source.split("/")[-2] for s in result.sources} >= {"Debian", "Rocky%20Linux"}
    with VulnDatabase(tmp_path / "osv.sqlite3") as database:
        counts = database.status().by_ecosystem
    assert counts["Debian"] == 5 and counts["Ubuntu"] == 2 and counts["Alpine"] == 1
    assert counts["Rocky Linux"] == 1 and counts["AlmaLinux"] == 1 and counts["Red Hat"] == 1


@pytest.fixture
def matcher(distro_db: Path) -> Iterator[Matcher]:
    with VulnDatabase(distro_db) as database:
        yield Matcher(database)


# -- Debian ----------------------------------------------------------------------------


@needs_dpkg
def test_debian_10_package_at_its_fixed_version_is_not_vulnerable(
    tmp_path: Path, distro_db: Path
) -> None:
    fixed = build_deb(tmp_path, "libssl1.1", "1.1.1n-0+deb10u4", source="openssl")
    image = write(tmp_path / "buster.tar", debian_image([fixed], DEBIAN_10))
    report = scan(image, distro_db)
    names = {c.name: c for c in report.components}
    assert names["libssl1.1"].ecosystem == "Debian:10"
    # The Debian:12 entry of the same advisory (fixed in 3.0.8-1) says nothing about buster.
    assert "CVE-2023-0286" not in ids(vulnerabilities(report)["libssl1.1"])


@needs_dpkg
def test_debian_10_package_before_the_fix_is_vulnerable_through_its_release_only(
    tmp_path: Path, distro_db: Path
) -> None:
    old = build_deb(tmp_path, "libssl1.1", "1.1.1n-0+deb10u3", source="openssl")
    image = write(tmp_path / "buster.tar", debian_image([old], DEBIAN_10))
    found = vulnerabilities(scan(image, distro_db))["libssl1.1"]
    # DLA-3325-1 and DEBIAN-CVE-2023-0286 name the same CVE: one finding.
    assert [f.rule_id for f in found] == ["DEBIAN-CVE-2023-0286", "DEBIAN-CVE-2024-0727"]
    finding = found[0]
    assert {"DLA-3325-1", "CVE-2023-0286"} <= set(finding.aliases)
    assert finding.fixed == ("1.1.1n-0+deb10u4",)  # not bookworm's 3.0.8-1
    details = finding.evidence.details
    assert details["release"] == "Debian:10"
    assert details["release_from"] == "the image's os-release"
    assert {m["ecosystem"] for m in details["matched"]} == {"Debian:10"}
    assert details["fix_state"] == "fixed"
    assert finding.confidence is Confidence.HIGH
    # DLA-3325-1 carries no rating; its sibling DEBIAN-CVE record carries NVD's vector.
    assert (finding.severity, details["severity_source"]) == (Severity.HIGH, "CVSS 3.1 7.4")


@needs_dpkg
def test_a_release_the_advisory_does_not_list_is_not_affected(
    tmp_path: Path, distro_db: Path
) -> None:
    # DSA-5532-1 lists bookworm only: bullseye's 1.1.1 is not affected although it is older.
    bullseye = build_deb(tmp_path, "libssl1.1", "1.1.1w-0+deb11u1", source="openssl")
    report = scan(write(tmp_path / "bullseye.tar", debian_image([bullseye], DEBIAN_11)), distro_db)
    assert vulnerabilities(report) == {}
    bookworm = [
        build_deb(tmp_path, "libssl3", "3.0.11-1~deb12u1", source="openssl"),
        build_deb(tmp_path, "openssl", "3.0.11-1~deb12u1"),
    ]
    found = vulnerabilities(
        scan(write(tmp_path / "b.tar", debian_image(bookworm, DEBIAN_12)), distro_db)
    )
    # Matched by the source package name (libssl3 -> openssl), per binary package.
    for name in ("libssl3", "openssl"):
        assert "DSA-5532-1" in ids(found[name])
        dsa = next(f for f in found[name] if f.rule_id == "DSA-5532-1")
        assert dsa.fixed == ("3.0.11-1~deb12u2",)


@needs_dpkg
def test_unfixed_and_end_of_life_states(tmp_path: Path, distro_db: Path) -> None:
    libc = build_deb(tmp_path, "libc6", "2.36-9+deb12u4", source="glibc")
    report = scan(write(tmp_path / "b.tar", debian_image([libc], DEBIAN_12)), distro_db)
    (finding,) = vulnerabilities(report)["libc6"]
    assert finding.rule_id == "DEBIAN-CVE-2010-4756"
    assert finding.fixed == ()
    assert finding.evidence.details["fix_state"] == "unfixed"
    assert "no fixed version known" in finding.message
    # CVSS v2 rates it medium; Debian rates it unimportant for its package: low.
    assert finding.severity is Severity.LOW
    assert finding.evidence.details["cvss"][0]["version"] == "2.0"
    assert finding.evidence.details["severity_source"] == (
        "DEBIAN-CVE-2010-4756: Debian urgency unimportant"
    )

    buster = build_deb(tmp_path, "libssl1.1", "1.1.1n-0+deb10u6", source="openssl")
    report = scan(write(tmp_path / "eol.tar", debian_image([buster], DEBIAN_10)), distro_db)
    (finding,) = vulnerabilities(report)["libssl1.1"]
    assert finding.rule_id == "DEBIAN-CVE-2024-0727"
    assert finding.evidence.details["fix_state"] == "will-not-fix"
    assert "no fix will be released" in finding.message


@needs_dpkg
def test_single_deb_release_from_its_version_or_unknown(tmp_path: Path, distro_db: Path) -> None:
    suffixed = build_deb(tmp_path, "libssl1.1", "1.1.1n-0+deb10u3", source="openssl")
    finding = vulnerabilities(scan(suffixed, distro_db))["libssl1.1"][0]
    assert finding.rule_id == "DEBIAN-CVE-2023-0286"
    assert finding.evidence.details["release"] == "Debian:10"
    assert finding.evidence.details["release_from"] == "the version (deb10)"
    assert finding.fixed == ("1.1.1n-0+deb10u4",)
    assert finding.confidence is Confidence.HIGH

    at_fix = build_deb(tmp_path, "libssl1.1", "1.1.1n-0+deb10u4", source="openssl")
    assert ids(vulnerabilities(scan(at_fix, distro_db))["libssl1.1"]) == {
        "DEBIAN-CVE-2024-0727",
        "CVE-2024-0727",
    }

    # No release in the version and no image around it: every release is tried, and what
    # matches is reported at low confidence with the entries that matched.
    bare = build_deb(tmp_path, "libssl1.1", "1.1.1w-1", source="openssl")
    found = vulnerabilities(scan(bare, distro_db))["libssl1.1"]
    assert all(f.confidence is Confidence.LOW for f in found)
    finding = next(f for f in found if f.rule_id == "DEBIAN-CVE-2023-0286")
    details = finding.evidence.details
    assert details["release"] == "unknown"
    assert set(details["release_entries"]) == {"Debian:12", "Debian:13"}
    assert "release is unknown" in finding.message


# -- Ubuntu, Alpine ----------------------------------------------------------------------


@needs_dpkg
def test_ubuntu_lts_release_and_pro_entries(tmp_path: Path, distro_db: Path) -> None:
    old = build_deb(tmp_path, "libssl3", "3.0.2-0ubuntu1.7", source="openssl")
    image = write(tmp_path / "jammy.tar", debian_image([old], UBUNTU_2204))
    report = scan(image, distro_db)
    assert {c.ecosystem for c in report.components} == {"Ubuntu:22.04:LTS"}
    (finding,) = vulnerabilities(report)["libssl3"]
    assert {"UBUNTU-CVE-2023-0286", "USN-5844-1"} <= ids([finding])
    # The FIPS-updates entry (3.0.2-0ubuntu1.10+fips1) is for FIPS builds only.
    assert finding.fixed == ("3.0.2-0ubuntu1.8",)
    assert finding.severity is Severity.HIGH
    assert "UBUNTU-CVE-2023-0286: Ubuntu priority high" in finding.evidence.details["ratings"]
    fixed = build_deb(tmp_path, "libssl3", "3.0.2-0ubuntu1.8", source="openssl")
    image = write(tmp_path / "jammy2.tar", debian_image([fixed], UBUNTU_2204))
    assert vulnerabilities(scan(image, distro_db)) == {}


def test_alpine_release_from_the_image(tmp_path: Path, distro_db: Path) -> None:
    def image(version: str, alpine: str) -> Path:
        installed = (
            f"P:libcrypto1.1\nV:{version}\nA:x86_64\no:openssl\nL:OpenSSL\n\n"
            f"P:musl\nV:1.2.3-r3\nA:x86_64\no:musl\nL:MIT\n\n"
        )
        layer = tar_bytes(
            {
                "etc/os-release": f"ID=alpine\nVERSION_ID={alpine}\n",
                "lib/apk/db/installed": installed,
            }
        )
        return write(tmp_path / f"alpine-{version}.tar", docker_save_bytes([layer]))

    (finding,) = vulnerabilities(scan(image("1.1.1s-r0", "3.16.4"), distro_db))["libcrypto1.1"]
    assert finding.rule_id == "ALPINE-CVE-2023-0286"
    assert finding.fixed == ("1.1.1t-r0",)
    # At 3.16's fix: not vulnerable, although the v3.17 entry's fix (3.0.8-r0) is higher.
    assert vulnerabilities(scan(image("1.1.1t-r0", "3.16.4"), distro_db)) == {}


# -- RPM -------------------------------------------------------------------------------


@needs_rpm
def test_rpm_with_a_distro_advisory_is_vulnerable(tmp_path: Path, distro_db: Path) -> None:
    rpm = build_rpm(tmp_path, "openssl", "3.0.1", "46.el9_0", subpackage="devel", epoch=1)
    report = scan(rpm, distro_db)
    (component,) = report.components
    assert (
        component.purl is not None and "upstream=openssl-3.0.1-46.el9_0.src.rpm" in component.purl
    )
    (finding,) = vulnerabilities(report)["openssl-devel"]
    assert finding.rule_id == "RLSA-2023:0946"
    assert finding.fixed == ("1:3.0.1-47.el9_1",)  # Rocky 9's fix, not Rocky 8's
    assert finding.evidence.details["release"] == "Rocky Linux:9"
    assert finding.evidence.details["release_from"] == "the version (el9)"


@needs_rpm
def test_rpm_matched_by_its_source_rpm_name_in_an_image(tmp_path: Path, distro_db: Path) -> None:
    # RLSA-2023:0946 names "openssl" (the source) and "openssl-devel", not "openssl-libs":
    # the binary openssl-libs is matched through the SOURCERPM tag of its header.
    libs = build_rpm(tmp_path, "openssl", "3.0.1", "46.el9_0", subpackage="libs", epoch=1)
    report = scan(write(tmp_path / "rocky.tar", rpm_image(tmp_path, [libs], ROCKY_9)), distro_db)
    (component,) = report.components
    assert component.ecosystem == "Rocky Linux:9"
    (finding,) = vulnerabilities(report)["openssl-libs"]
    assert finding.rule_id == "RLSA-2023:0946"
    assert finding.evidence.details["matched"][0]["package"] == "openssl"
    assert finding.evidence.details["release_from"] == "the image's os-release"
    fixed = build_rpm(tmp_path / "new", "openssl", "3.0.1", "47.el9_1", subpackage="libs", epoch=1)
    image = write(tmp_path / "rocky2.tar", rpm_image(tmp_path / "new", [fixed], ROCKY_9))
    assert vulnerabilities(scan(image, distro_db)) == {}


@needs_rpm
def test_red_hat_and_alma_name_binary_packages(tmp_path: Path, matcher: Matcher) -> None:
    rhel = build_rpm(
        tmp_path, "openssl", "3.0.1", "46.el9_0", subpackage="libs", epoch=1, vendor="Red Hat, Inc."
    )
    report = run_exam(rhel, Config(), analyzers=())
    (component,) = report.components
    findings = matcher.match_component(component)
    # RHSA's main stream entry applies; the rhel_eus:9.0 stream needs a subscription.
    assert [f.rule_id for f in findings] == ["RHSA-2023:0946"]
    assert findings[0].fixed == ("1:3.0.1-47.el9_1",)
    alma = Component(
        name="openssl-libs",
        version="1:3.0.1-46.el9_0",
        ecosystem="AlmaLinux:9",
        purl="pkg:rpm/almalinux/openssl-libs@3.0.1-46.el9_0?arch=x86_64&epoch=1"
        "&distro=almalinux-9.1&upstream=openssl-3.0.1-46.el9_0.src.rpm",
    )
    (finding,) = matcher.match_component(alma)
    assert finding.rule_id == "ALSA-2023:0946"


# -- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("distro_id", "version_id", "version", "pretty", "expected"),
    [
        ("debian", "12", None, None, "Debian:12"),
        ("debian", "10", None, None, "Debian:10"),
        ("ubuntu", "22.04", "22.04.3 LTS (Jammy Jellyfish)", None, "Ubuntu:22.04:LTS"),
        ("ubuntu", "23.10", "23.10 (Mantic Minotaur)", None, "Ubuntu:23.10"),
        ("ubuntu", "24.04", None, None, "Ubuntu:24.04:LTS"),
        ("alpine", "3.19.1", None, None, "Alpine:v3.19"),
        ("rocky", "9.3", None, None, "Rocky Linux:9"),
        ("almalinux", "8.10", None, None, "AlmaLinux:8"),
        ("rhel", "9.3", None, None, "Red Hat:enterprise_linux:9"),
        ("opensuse-leap", "15.5", None, "openSUSE Leap 15.5", "openSUSE:Leap 15.5"),
        ("opensuse-tumbleweed", "20240801", None, "openSUSE Tumbleweed", "openSUSE:Tumbleweed"),
        (
            "sles",
            "15.5",
            "15-SP5",
            "SUSE Linux Enterprise Server 15 SP5",
            "SUSE:Linux Enterprise Server 15 SP5",
        ),
        ("wolfi", "20230201", None, None, "Wolfi"),
        ("centos", "7", None, None, None),
        ("debian", None, None, None, None),
    ],
)
def test_release_ecosystems(
    distro_id: str,
    version_id: str | None,
    version: str | None,
    pretty: str | None,
    expected: str | None,
) -> None:
    assert release_ecosystem(distro_id, version_id, version, pretty) == expected


@pytest.mark.parametrize(
    ("entry", "release", "version", "expected"),
    [
        ("Debian:12", "Debian:12", None, True),
        ("Debian:12", "Debian:10", None, False),
        ("Debian", "Debian:10", None, True),  # an entry without a release applies to all
        ("Ubuntu:22.04:LTS", "Ubuntu:22.04:LTS", None, True),
        ("Ubuntu:Pro:22.04:LTS", "Ubuntu:22.04:LTS", None, True),
        ("Ubuntu:20.04:LTS", "Ubuntu:22.04:LTS", None, False),
        ("Ubuntu:Pro:FIPS-updates:22.04:LTS", "Ubuntu:22.04:LTS", "3.0.2-0ubuntu1.8", False),
        ("Ubuntu:Pro:FIPS-updates:22.04:LTS", "Ubuntu:22.04:LTS", "3.0.2-0ubuntu1.10+fips1", True),
        ("Ubuntu:Pro:22.04:LTS:Realtime:Kernel", "Ubuntu:22.04:LTS", None, False),
        ("Alpine:v3.17", "Alpine:v3.16", None, False),
        ("Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9", None, True),
        ("Red Hat:enterprise_linux:10.1", "Red Hat:enterprise_linux:10", None, True),
        ("Red Hat:rhel_eus:9.2::baseos", "Red Hat:enterprise_linux:9", None, False),
        ("Red Hat:enterprise_linux:8::baseos", "Red Hat:enterprise_linux:9", None, False),
        (
            "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
            "SUSE:Linux Enterprise Server 15 SP5",
            None,
            True,
        ),
        (
            "SUSE:Linux Enterprise Module for Basesystem 15 SP4",
            "SUSE:Linux Enterprise Server 15 SP5",
            None,
            False,
        ),
        ("openSUSE:Leap 15.5", "openSUSE:Leap 15.5", None, True),
        ("Rocky Linux:9", "AlmaLinux:9", None, False),
    ],
)
def test_which_entries_apply(entry: str, release: str, version: str | None, expected: bool) -> None:
    assert applies(entry, Release(release, "image"), version) is expected


@pytest.mark.parametrize(
    ("family", "version", "expected"),
    [
        ("Debian", "1.1.1n-0+deb10u4", "Debian:10"),
        ("Debian", "3.0.11-1~deb12u2", "Debian:12"),
        ("Debian", "2.36-9+deb12u4", "Debian:12"),
        ("Debian", "5.10.0-1~bpo11+1", "Debian:11"),
        ("Debian", "3.0.8-1", None),
        ("Ubuntu", "7.0.33-0ubuntu0.16.04.16+esm1", "Ubuntu:16.04:LTS"),
        ("Ubuntu", "1.1.1-1ubuntu2.1~18.04.21", "Ubuntu:18.04:LTS"),
        ("Ubuntu", "3.0.2-0ubuntu1.8", None),
        ("Rocky Linux", "1:3.0.7-25.el9_3", "Rocky Linux:9"),
        ("AlmaLinux", "1.20.10-1.module+el8.9.0+1+abc", "AlmaLinux:8"),
        ("Red Hat", "0:8.7p1-38.el9_4.1", "Red Hat:enterprise_linux:9"),
        ("Rocky Linux", "2.0-1.fc39", None),
    ],
)
def test_release_from_version(family: str, version: str, expected: str | None) -> None:
    found = release_from_version(family, version)
    assert (found.ecosystem if found else None) == expected


def test_package_urls_of_other_tools() -> None:
    syft = package_ref(
        Component(
            name="libssl1.1",
            version="1.1.1n-0+deb10u4",
            ecosystem="Debian",
            purl="pkg:deb/debian/libssl1.1@1.1.1n-0+deb10u4?arch=amd64&distro=debian-10.13"
            "&upstream=openssl",
        )
    )
    assert syft is not None and syft.name == "openssl" and syft.release is not None
    assert (syft.release.ecosystem, syft.release.source) == ("Debian:10", "purl")
    osv = package_ref(
        Component(
            name="php8.1",
            version="8.1.2-1ubuntu2.22",
            ecosystem="Ubuntu",
            purl="pkg:deb/ubuntu/php8.1@8.1.2-1ubuntu2.22?arch=source&distro=jammy",
        )
    )
    assert osv is not None and osv.release is not None
    assert osv.release.ecosystem == "Ubuntu:22.04:LTS"
    assert source_rpm_name("openssl-3.0.7-25.el9_3.src.rpm") == ("openssl", "3.0.7-25.el9_3")
    assert source_rpm_name("python3.12-lxml-4.9.3-2.el9_8.1.src.rpm") == (
        "python3.12-lxml",
        "4.9.3-2.el9_8.1",
    )
    assert source_rpm_name("not-a-source.rpm") is None


def test_release_files_name_images_without_os_release(tmp_path: Path, distro_db: Path) -> None:
    installed = "Package: libssl1.1\nStatus: install ok installed\nVersion: 1.1.1n-0+deb10u3\n"
    installed += "Architecture: amd64\nSource: openssl\n"
    layer = tar_bytes({"etc/debian_version": "10.13\n", "var/lib/dpkg/status": installed})
    report = scan(write(tmp_path / "old.tar", docker_save_bytes([layer])), distro_db)
    (component,) = report.components
    assert component.ecosystem == "Debian:10"


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)\n", "Rocky Linux:9"),
        (
            "etc/redhat-release",
            "Red Hat Enterprise Linux release 8.9 (Ootpa)\n",
            "Red Hat:enterprise_linux:8",
        ),
        ("etc/almalinux-release", "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n", "AlmaLinux:9"),
        ("etc/alpine-release", "3.19.1\n", "Alpine:v3.19"),
        ("etc/debian_version", "trixie/sid\n", None),
        (
            "etc/lsb-release",
            'DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_DESCRIPTION="Ubuntu 20.04.6 LTS"\n',
            "Ubuntu:20.04:LTS",
        ),
    ],
)
def test_release_files(path: str, text: str, expected: str | None) -> None:
    tracker = DistroTracker()
    item = entry(f"img.tar!/{path}", text)
    assert tracker.accepts(item)
    tracker.record(item)
    distro = tracker.distro_for(Location.parse("img.tar"))
    assert (distro.osv_ecosystem if distro else None) == expected


@pytest.mark.parametrize("ecosystem", ["Alpine:v3.19", "Debian:12"])
def test_an_entry_fixed_at_zero_affects_nothing(ecosystem: str) -> None:
    entry = {
        "package": {"ecosystem": ecosystem, "name": "openssl"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0"}]}],
    }
    for version in (
        ("0.9.8-r0", "1.1.1t-r0", "3.1.4-r1") if "Alpine" in ecosystem else ("0.9.8-1", "3.0.8-1")
    ):
        assert match_affected(entry, ecosystem, version) is None
