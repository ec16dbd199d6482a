from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from distbuild import DPKG_DEB, build_deb
from finalexam.analyze.names.similarity import (
    MISSPELLED,
    Squat,
    check_name,
    misspelled_word,
    osa_distance,
    popular,
    severity_of,
    typing_slip,
)
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import ExamStatus, FileContext, Severity

needs_dpkg = pytest.mark.skipif(DPKG_DEB is None, reason="dpkg-deb not installed")


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
        ("@hm6816/lodash-isequal", "npm", "lodash.isequal", "separator"),
        ("beautifulsop", "PyPI", "beautifulsoup", "one edit"),
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


# Made-up misspellings: two swapped pairs in a long word of a popular name, every other word
# intact. One edit is the whole-name check's; two is the misspelled-word check's.
@pytest.mark.parametrize(
    ("name", "ecosystem", "target"),
    [
        ("opnetelemetyr-sdk", "PyPI", "opentelemetry-sdk"),
        ("Opnetelemetyr_SDK", "PyPI", "opentelemetry-sdk"),
        ("ailbabaclodu-tea-openapi", "PyPI", "alibabacloud-tea-openapi"),
        ("styled-componentsss", "npm", "styled-components"),  # a key held down
    ],
)
def test_a_word_two_edits_off_names_the_popular_package(
    name: str, ecosystem: str, target: str
) -> None:
    squat = check_name(name, ecosystem)
    assert squat is not None and (squat.target, squat.technique) == (target, MISSPELLED)
    assert squat.name == name


@pytest.mark.parametrize(
    ("name", "ecosystem"),
    [
        # the odd word is itself a word of popular names: another package, not a typo
        ("opentelemetry-explorer-otlp", "PyPI"),  # explorer / exporter
        ("googlemaps-common-protos", "PyPI"),  # googlemaps / googleapis
        # short words are two edits from too many others (login, 5 letters)
        ("flask-lgoni", "PyPI"),
        # two unknown words, or one word alone
        ("opnetelemetyr-skd", "PyPI"),
        ("opnetelemetyr", "PyPI"),
        # made of popular words, a renamed syllable, a suffix cut, a version number
        ("lodash.tonumber", "npm"),
        ("text-decoding", "npm"),
        ("chromedriver-autoinstall", "PyPI"),
        ("alibabacloud-sts20150104", "PyPI"),  # sts20150401: another API version
    ],
)
def test_names_made_the_way_names_are_made_are_no_misspelling(name: str, ecosystem: str) -> None:
    assert misspelled_word(name, ecosystem) is None


@pytest.mark.parametrize("ecosystem", ["PyPI", "npm"])
def test_no_popular_name_is_a_misspelling_even_of_the_others(ecosystem: str) -> None:
    for name in popular(ecosystem):
        assert misspelled_word(name, ecosystem) is None, name
        assert misspelled_word(name, ecosystem, leave_out=name) is None, name


def test_osa_distance_counts_swaps_and_stops_at_the_limit() -> None:
    assert osa_distance("alibabacloud", "aliababcloud", 2) == 2
    assert osa_distance("exporter", "exporter", 2) == 0
    assert osa_distance("ca", "abc", 3) == 3  # optimal string alignment, not full Damerau
    assert osa_distance("abcdefgh", "hgfedcba", 2) == 3


def test_misspelled_dependency_is_high_and_misspelled_own_name_medium(tmp_path: Path) -> None:
    sdist = write(
        tmp_path / "probe-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    "probe-1.0/PKG-INFO": "Metadata-Version: 2.1\nName: probe\nVersion: 1.0\n",
                    "probe-1.0/probe.egg-info/requires.txt": "alibabacloud_tea_util>=0.3\n"
                    "ailbabaclodu_tea_openapi>=0.3\n",
                }
            )
        ),
    )
    findings = [f for f in run_exam(sdist, Config()).findings if f.rule_id == "typosquat-name"]
    assert [(f.severity, f.evidence.details["target"]) for f in findings] == [
        (Severity.HIGH, "alibabacloud-tea-openapi")
    ]
    assert findings[0].evidence.details["technique"] == MISSPELLED
    wheel = write(
        tmp_path / "opnetelemetyr_sdk-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "opnetelemetyr_sdk-1.0.dist-info/METADATA": "Metadata-Version: 2.1\n"
                "Name: opnetelemetyr-sdk\nVersion: 1.0\n",
            }
        ),
    )
    squats = [f for f in run_exam(wheel, Config()).findings if f.rule_id == "typosquat-name"]
    assert squats and {f.severity for f in squats} == {Severity.MEDIUM}


def test_reordered_words_of_a_popular_name_are_a_lead() -> None:
    squat = check_name("dotenv-python", "PyPI")
    assert squat is not None and squat.target == "python-dotenv"
    assert squat.technique == "reordered words" and severity_of(squat) is Severity.MEDIUM
    assert check_name("python-dotenv", "PyPI") is None  # the popular name itself
    found = check_name("@someone/dotenv-python", "npm")
    assert found is None or found.technique != "reordered words"  # a scope owns its words


def _dependency_severities(report: object) -> dict[str, str]:
    return {
        f.evidence.snippet or "": f.severity.value
        for f in report.findings  # type: ignore[attr-defined]
        if f.rule_id == "typosquat-name" and "depends on" in f.message
    }


def test_declared_dependencies_of_wheels_sdists_and_npm_packages_are_checked(
    tmp_path: Path,
) -> None:
    npm = write(
        tmp_path / "app-1.0.0.tgz",
        gzip_bytes(
            tar_bytes(
                {
                    "package/package.json": json.dumps(
                        {
                            "name": "quiet-app",
                            "version": "1.0.0",
                            "dependencies": {
                                "crossenv": "^1.0.0",  # cross-env, the 2017 stealer
                                "expresss": "^4.0.0",
                                "lodahs": "^4.0.0",
                                "httpx2": "^1.0.0",  # a made name: a lead only
                            },
                        }
                    )
                }
            )
        ),
    )
    report = run_exam(npm, Config(disable=("vulnerabilities",)))
    found = _dependency_severities(report)
    assert {k: v for k, v in found.items() if v == "high"} == {
        "crossenv": "high",
        "expresss": "high",
        "lodahs": "high",
    }
    assert not report.verdict.passed
    metadata = "Metadata-Version: 2.1\nName: quiet-tool\nVersion: 1.0\nRequires-Dist: reqeusts\n"
    wheel = write(
        tmp_path / "quiet_tool-1.0-py3-none-any.whl",
        zip_bytes({"quiet_tool-1.0.dist-info/METADATA": metadata, "quiet_tool/__init__.py": ""}),
    )
    report = run_exam(wheel, Config(disable=("vulnerabilities",)))
    assert _dependency_severities(report) == {"reqeusts": "high"}
    sdist = write(
        tmp_path / "quiet-tool-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    "quiet-tool-1.0/PKG-INFO": metadata,
                    "quiet-tool-1.0/setup.py": "from setuptools import setup\n"
                    "setup(name='quiet-tool', install_requires=['reqeusts'])\n",
                }
            )
        ),
    )
    report = run_exam(sdist, Config(disable=("vulnerabilities",)))
    assert set(_dependency_severities(report).values()) == {"high"}
    assert not report.verdict.passed


@pytest.mark.parametrize(
    ("name", "target", "technique", "slip"),
    [
        ("lodahs", "lodash", "one edit", True),
        ("expresss", "express", "one edit", True),
        ("lodsh", "lodash", "one edit", True),
        ("crossenv", "cross-env", "separator", True),
        ("httpx2", "httpx", "one edit", False),
        ("xhttpx", "httpx", "one edit", False),
        ("chalks", "chalk", "one edit", False),
    ],
)
def test_typing_slips_are_told_from_made_names(
    name: str, target: str, technique: str, slip: bool
) -> None:
    assert typing_slip(Squat(name, target, technique, 1)) is slip


@pytest.mark.parametrize(
    "name",
    [
        "@jupyterlab/console",  # jupyterlab's own scope: no imitation of consola
        "@lumino/utils",
        "@types/merge-stream",  # DefinitelyTyped's typings of merge-stream
        "utile",  # an established package (a million downloads a month), one edit from utila
    ],
)
def test_scoped_typings_and_established_npm_names_are_no_squats(name: str) -> None:
    """jupyterlab's bundled yarn.lock locks @jupyterlab/console and utile's neighbours."""
    assert check_name(name, "npm") is None


def _sdist_with_front_end(tmp_path: Path, project: str, front_end: str) -> Path:
    return write(
        tmp_path / f"{project}-1.0.tar.gz",
        gzip_bytes(
            tar_bytes(
                {
                    f"{project}-1.0/PKG-INFO": f"Metadata-Version: 2.1\nName: {project}\n"
                    "Version: 1.0\n",
                    f"{project}-1.0/javascript/package.json": json.dumps(
                        {"name": front_end, "version": "1.0.0"}
                    ),
                }
            )
        ),
    )


def test_a_python_projects_front_end_named_after_it_imitates_no_npm_package(
    tmp_path: Path,
) -> None:
    """shap 0.54's sdist holds its JavaScript front-end, named "shapjs" after the project: one
    edit from npm's sha.js, but the name was chosen on PyPI. Another name still counts."""
    for front_end in ("shapjs", "shap"):
        own = _sdist_with_front_end(tmp_path, "shap", front_end)
        assert not [f for f in run_exam(own, Config()).findings if f.rule_id == "typosquat-name"]
    other = _sdist_with_front_end(tmp_path, "explainers", "shap")
    squats = [f for f in run_exam(other, Config()).findings if f.rule_id == "typosquat-name"]
    assert [(f.evidence.snippet, "popular npm package" in f.title) for f in squats] == [
        ("shap", True)
    ]


@needs_dpkg
def test_a_name_an_os_package_installed_is_reported_not_blocking(tmp_path: Path) -> None:
    """Debian's hashid installs the Python distribution hashID, one edit from PyPI's hashids:
    apt installs it as hashid, so no pip user is misled. The same metadata in a wheel, which
    pip installs by that name, still blocks."""
    pkg_info = "Metadata-Version: 2.1\nName: hashID\nVersion: 3.1.4\nRequires-Dist: colorma\n"
    deb = build_deb(
        tmp_path,
        "hashid",
        "3.1.4-4",
        architecture="all",
        files={"usr/lib/python3/dist-packages/hashID-3.1.4.egg-info/PKG-INFO": pkg_info},
    )
    report = run_exam(deb, Config())
    squats = {f.evidence.snippet: f for f in report.findings if f.rule_id == "typosquat-name"}
    assert set(squats) == {"hashID", "colorma"}  # its own name and its dependency's
    for finding in squats.values():
        assert finding.context is FileContext.DISTRO
        assert finding.evidence.details["installed_by"]["package"] == "hashid"
        assert "installed by the Debian package hashid" in finding.message
    assert report.status is ExamStatus.PASSED
    wheel = write(
        tmp_path / "hashID-3.1.4-py3-none-any.whl",
        zip_bytes({"hashID-3.1.4.dist-info/METADATA": pkg_info}),
    )
    report = run_exam(wheel, Config())
    blocking = {v.fingerprint for v in report.verdict.violations}
    assert {f.evidence.snippet for f in report.findings if f.fingerprint in blocking} == {
        "hashID",
        "colorma",
    }
    assert report.status is ExamStatus.FAILED
