"""Language advisories on what an OS package installed: reported, judged by the distribution.

Debian's python3-requests 2.28.1+dfsg carries fixes Debian backported without changing the
upstream version, and Debian's age is built with Debian's Go toolchain: PyPI's and Go's
advisories for those versions are not the authority on them. The packages here are built by
dpkg-deb, rpmbuild and go; the images' package databases are written as dpkg, rpm and apk
write them (file lists included); the advisories are the real PYSEC, GO- and MAL- records.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from binbuild import build_go
from builders import docker_save_bytes, tar_bytes, write
from distbuild import DPKG_DEB, RPM, RPMBUILD, build_deb, build_rpm, debian_image, rpm_image
from finalexam.analyze.vulnerabilities import VulnerabilityAnalyzer
from finalexam.catalog.ownership import FileOwners, installed_by, link_owned
from finalexam.config import Config
from finalexam.exam import CATALOGERS, run_exam
from finalexam.model import Component, FileContext, Finding, Location, Relationship, Report
from finalexam.report.sbom import build_graph

needs_dpkg = pytest.mark.skipif(DPKG_DEB is None, reason="dpkg-deb not installed")
needs_rpm = pytest.mark.skipif(RPMBUILD is None or RPM is None, reason="rpm not installed")
GO = shutil.which("go")
needs_go = pytest.mark.skipif(GO is None, reason="go not installed (.ci/system-packages)")

DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
ROCKY_9 = 'NAME="Rocky Linux"\nVERSION="9.1 (Blue Onyx)"\nID="rocky"\nVERSION_ID="9.1"\n'
ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n'
DIST_PACKAGES = "usr/lib/python3/dist-packages"
# What Debian's python3-requests installs as its metadata (setuptools' egg-info).
REQUESTS_PKG_INFO = "Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\nSummary: HTTP\n"
REQUESTS_FILE = f"{DIST_PACKAGES}/requests-2.28.1.egg-info/PKG-INFO"
REQUESTS_ADVISORY = "PYSEC-2023-74"  # CVE-2023-32681: requests >= 2.3.0, < 2.31.0


def scan(target: Path, db: Path) -> Report:
    return run_exam(
        target, Config(db=str(db)), catalogers=CATALOGERS, analyzers=(VulnerabilityAnalyzer,)
    )


def advisory(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def blocking(report: Report) -> set[str]:
    by_fingerprint = {f.fingerprint: f for f in report.findings}
    return {by_fingerprint[v.fingerprint].rule_id for v in report.verdict.violations}


def python3_requests(workdir: Path) -> Path:
    """Debian's python3-requests as it installs requests' metadata."""
    return build_deb(
        workdir,
        "python3-requests",
        "2.28.1+dfsg-1",
        source="requests",
        architecture="all",
        files={REQUESTS_FILE: REQUESTS_PKG_INFO},
    )


@needs_dpkg
def test_a_debian_package_is_judged_by_debian_not_by_pypi(tmp_path: Path, vuln_db: Path) -> None:
    deb = python3_requests(tmp_path)
    report = scan(deb, vuln_db)
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.DISTRO
    installer = finding.evidence.details["installed_by"]
    assert installer["package"] == "python3-requests" and installer["version"] == "2.28.1+dfsg-1"
    assert "the distribution's advisories for it decide" in finding.message
    assert finding.severity.value == "unknown" and finding.fixed  # kept as found
    assert report.verdict.passed, "reported, not blocking"
    checks = {c.rule: c.matched for c in report.verdict.checks}
    assert checks["distribution-vulnerability"] == 1
    # the SBOM shows the package containing what it installed
    graph = build_graph(report)
    owner = next(c for c in report.components if c.name == "python3-requests")
    requests = next(c for c in report.components if c.name == "requests")
    assert graph.parent[requests.id] == owner.id


def test_the_same_metadata_outside_any_os_package_blocks(tmp_path: Path, vuln_db: Path) -> None:
    archive = write(tmp_path / "app.tar", tar_bytes({REQUESTS_FILE: REQUESTS_PKG_INFO}))
    report = scan(archive, vuln_db)
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.SHIPPED
    assert "installed_by" not in finding.evidence.details
    assert REQUESTS_ADVISORY in blocking(report)


@needs_dpkg
def test_a_malicious_package_blocks_whatever_installed_it(tmp_path: Path, vuln_db: Path) -> None:
    pkg_info = "Metadata-Version: 2.1\nName: ascii2text\nVersion: 1.0\n"
    deb = build_deb(
        tmp_path,
        "python3-ascii2text",
        "1.0-1",
        architecture="all",
        files={f"{DIST_PACKAGES}/ascii2text-1.0.egg-info/PKG-INFO": pkg_info},
    )
    report = scan(deb, vuln_db)
    found = advisory(report, "MAL-2022-7421")
    (finding,) = [f for f in found if f.component == "pkg:pypi/ascii2text@1.0"]
    assert finding.context is not FileContext.DISTRO
    assert "MAL-2022-7421" in blocking(report)


@needs_dpkg
def test_image_files_listed_by_dpkg_belong_to_their_package(tmp_path: Path, vuln_db: Path) -> None:
    """In an image, dpkg's ``info/<package>.list`` says which package installed a file: the
    requests of python3-requests is Debian's, the copy pip put under /usr/local is not."""
    deb = python3_requests(tmp_path)
    report = scan(write(tmp_path / "debian.tar", debian_image([deb], DEBIAN_12)), vuln_db)
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.DISTRO
    assert finding.evidence.details["installed_by"]["ecosystem"] == "Debian:12"
    assert report.verdict.passed

    local = "usr/local/lib/python3.11/dist-packages/requests-2.28.1.dist-info/METADATA"
    extra = {local: REQUESTS_PKG_INFO}
    image = write(tmp_path / "pip.tar", debian_image([deb], DEBIAN_12, extra))
    report = scan(image, vuln_db)
    # one component found in both places: not the distribution's alone
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.VENDORED
    assert REQUESTS_ADVISORY in blocking(report)


@needs_dpkg
@needs_go
def test_go_standard_library_in_a_debian_binary(tmp_path: Path, vuln_db: Path) -> None:
    """Debian's age: Go advisories on the standard library Debian's toolchain linked in."""
    program = (
        'package main\n\nimport (\n\t"html/template"\n\t"os"\n)\n\n'
        'func main() {\n\tt := template.Must(template.New("x").Parse("{{.}}"))\n'
        '\t_ = t.Execute(os.Stdout, "hi")\n}\n'
    )
    binary = build_go(tmp_path, "tool", program)
    deb = build_deb(tmp_path, "tool", "1.0-1", files={"usr/bin/tool": binary.read_bytes()})
    extra = {"usr/local/bin/tool": binary.read_bytes()}
    report = scan(write(tmp_path / "image.tar", debian_image([deb], DEBIAN_12, extra)), vuln_db)
    findings = advisory(report, "GO-2023-1751")  # html/template, linked by the program
    by_place = {str(f.location).rsplit("!/", 1)[-1]: f for f in findings}
    # /usr/bin/tool and /usr/local/bin/tool hold the same standard library: one component,
    # found outside the package too, so the advisory blocks.
    assert set(by_place) == {"usr/bin/tool"}
    assert by_place["usr/bin/tool"].context is FileContext.VENDORED
    assert "GO-2023-1751" in blocking(report)

    report = scan(write(tmp_path / "clean.tar", debian_image([deb], DEBIAN_12)), vuln_db)
    (finding,) = advisory(report, "GO-2023-1751")
    assert finding.context is FileContext.DISTRO
    assert finding.evidence.details["installed_by"]["package"] == "tool"
    assert report.verdict.passed


@needs_rpm
def test_rpm_file_lists(tmp_path: Path, vuln_db: Path) -> None:
    pkg_info = "usr/lib/python3.9/site-packages/requests-2.28.1.egg-info/PKG-INFO"
    rpm = build_rpm(
        tmp_path, "python-requests", "2.28.1", "1.el9", subpackage=None,
        files={pkg_info: REQUESTS_PKG_INFO},
    )  # fmt: skip
    # the rpmdb rpm wrote (with the package's file list), and the files it installed
    image = rpm_image(tmp_path, [rpm], ROCKY_9, extra={pkg_info: REQUESTS_PKG_INFO})
    report = scan(write(tmp_path / "rocky.tar", image), vuln_db)
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.DISTRO
    assert finding.evidence.details["installed_by"]["package"] == "python-requests"
    assert report.verdict.passed
    # a .rpm file: each member of its payload is the package's
    (finding,) = advisory(scan(rpm, vuln_db), REQUESTS_ADVISORY)
    assert finding.context is FileContext.DISTRO


def test_apk_database_lines_name_each_packages_files(tmp_path: Path, vuln_db: Path) -> None:
    installed = (
        "C:Q1hdUpqRv5mYgJEqW52UmVsvmeedo=\nP:py3-requests\nV:2.28.1-r0\nA:noarch\n"
        "o:py3-requests\nm:Natanael Copa <ncopa@alpinelinux.org>\nL:Apache-2.0\n"
        "F:usr/lib/python3.11/site-packages/requests-2.28.1.dist-info\nR:METADATA\nR:RECORD\n\n"
    )
    local = "usr/lib/python3.11/site-packages/requests-2.28.1.dist-info/METADATA"
    layer = tar_bytes(
        {"etc/os-release": ALPINE, "lib/apk/db/installed": installed, local: REQUESTS_PKG_INFO}
    )
    report = scan(write(tmp_path / "alpine.tar", docker_save_bytes([layer])), vuln_db)
    (finding,) = advisory(report, REQUESTS_ADVISORY)
    assert finding.context is FileContext.DISTRO
    assert finding.evidence.details["installed_by"]["ecosystem"] == "Alpine:v3.19"


def test_ownership_follows_merged_usr_and_needs_every_location() -> None:
    owners = FileOwners()
    paths = ["/.", "/bin/tool", "/usr/share/doc/tool"]
    owners.add_files((("image.tar",), ""), paths, "pkg:deb/debian/tool@1")
    owners.add_package(Location(("x.deb",)), "pkg:deb/debian/x@1")
    assert owners.owner(Location(("image.tar", "usr/bin/tool"))) == "pkg:deb/debian/tool@1"
    assert owners.owner(Location(("image.tar", "usr/local/bin/tool"))) is None
    assert owners.owner(Location(("x.deb", "data.tar.xz", "usr/bin/x"))) == "pkg:deb/debian/x@1"
    tool = Component("tool", "1", "Debian:12", purl="pkg:deb/debian/tool@1")
    inside = Component(
        "stdlib", "1.19.8", "Go", purl="pkg:golang/stdlib@1.19.8",
        locations=(Location(("image.tar", "bin/tool")),),
    )  # fmt: skip
    both = Component(
        "requests", "2.28.1", "PyPI", purl="pkg:pypi/requests@2.28.1",
        locations=(Location(("image.tar", "usr/bin/tool")), Location(("image.tar", "opt/r"))),
    )  # fmt: skip
    linked = link_owned([tool, inside, both], owners)
    edges = [(d.target, d.kind) for d in linked[0].dependencies]
    assert edges == [("pkg:golang/stdlib@1.19.8", Relationship.CONTAINS)]
    assert set(installed_by(linked)) == {"pkg:golang/stdlib@1.19.8"}
