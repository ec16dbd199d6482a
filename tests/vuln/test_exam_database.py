"""Vulnerability data is part of the exam: fetched on first use from a mirror laid out like
OSV's bucket (a real HTTP server on loopback here), never fetched with --offline, and an exam
without a usable database is INCOMPLETE unless the user disables the vulnerability check.

Plug-in requirements: ``--only vulnerabilities`` pulls in the catalogers it needs (a war with
Log4Shell fails); ``--disable`` of a cataloger it needs is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from builders import log4j_core_jar, write, zip_bytes
from finalexam.cli import main
from finalexam.vuln.versions import DEFAULT_ECOSYSTEMS
from osvdata import build_database, osv_mirror
from schema import assert_valid_report

SRC = Path(__file__).resolve().parents[2] / "src"
LOG4SHELL = "GHSA-jfh8-c2jp-5v3q"


@pytest.fixture
def war(tmp_path: Path) -> Path:
    return write(
        tmp_path / "shop.war",
        zip_bytes(
            {
                "WEB-INF/web.xml": "<web-app/>\n",
                "WEB-INF/lib/log4j-core-2.14.1.jar": log4j_core_jar(),
                "index.jsp": "<html>shop</html>\n",
            }
        ),
    )


def scan(target: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", str(target), "-o", f"json={out}", *extra])
    document = json.loads(out.read_text())
    assert_valid_report(document)
    return code, document


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(SRC), **env}
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        check=False,
    )


def rule_ids(document: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in document["findings"]}


# -- first use ----------------------------------------------------------------------------


def test_first_use_fetches_the_database_and_the_exam_is_complete(war: Path, tmp_path: Path) -> None:
    cache = tmp_path / "fresh-cache"  # a fresh machine: nothing in the user cache directory
    out = tmp_path / "r.json"
    with osv_mirror() as mirror:
        env = {"XDG_CACHE_HOME": str(cache), "FINALEXAM_OFFLINE": "0"}
        env["FINALEXAM_DB_MIRROR"] = mirror.url
        first = run_cli(["scan", str(war), "-o", f"json={out}"], env)
        fetched = sorted(mirror.requests)
        again = run_cli(["scan", str(war), "-o", f"json={out}"], env)
    assert first.returncode == 1, first.stderr  # Log4Shell: the release must not ship
    assert "fetching OSV data for" in first.stderr
    assert fetched == sorted(f"/{ecosystem}/all.zip" for ecosystem in DEFAULT_ECOSYSTEMS)
    assert (cache / "finalexam" / "osv.sqlite3").is_file()
    assert again.returncode == 1 and "fetching" not in again.stderr
    assert len(mirror.requests) == len(fetched)  # the second exam used the stored database
    document = json.loads(out.read_text())
    assert LOG4SHELL in rule_ids(document)
    assert document["complete"] is True and document["issues"] == []
    assert document["vulnerability_db"]["status"] == "ok"


def test_offline_never_touches_the_network_and_the_exam_is_incomplete(
    war: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    with osv_mirror() as mirror:
        env = {"XDG_CACHE_HOME": str(tmp_path / "fresh-cache"), "FINALEXAM_DB_MIRROR": mirror.url}
        result = run_cli(["scan", str(war), "--offline", "-o", f"json={out}"], env)
        disabled = run_cli(["scan", str(war), "--offline", "--disable", "vulnerabilities"], env)
    assert mirror.requests == []
    assert result.returncode == 3, result.stderr
    assert "--offline forbids fetching one" in result.stderr
    document = json.loads(out.read_text())
    assert [i["kind"] for i in document["issues"]] == ["database"]
    assert document["verdict"]["status"] == "incomplete"
    assert disabled.returncode == 0, disabled.stderr


def test_an_unreachable_mirror_is_an_incomplete_exam_and_leaves_nothing_behind(
    war: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "fresh-cache"
    out = tmp_path / "r.json"
    with osv_mirror() as mirror:
        mirror.status = 503
        env = {"XDG_CACHE_HOME": str(cache), "FINALEXAM_DB_MIRROR": mirror.url}
        env["FINALEXAM_OFFLINE"] = "0"
        result = run_cli(["scan", str(war), "-o", f"json={out}"], env)
    assert result.returncode == 3, result.stderr
    (issue,) = json.loads(out.read_text())["issues"]
    assert issue["kind"] == "database"
    assert "could not fetch the vulnerability database" in issue["message"]
    assert "HTTP 503" in issue["message"]
    leftovers = [p.name for p in (cache / "finalexam").iterdir() if "osv" in p.name]
    assert leftovers == [] and not list((cache / "finalexam").glob(".download-*"))


# -- no usable database -------------------------------------------------------------------


def _corrupt_copy(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    for offset in range(4096, len(data), 4096):  # every page after the first: garbage
        data[offset : offset + 64] = b"\xa5" * 64
    target.write_bytes(bytes(data))
    return target


UNUSABLE = {
    "missing": lambda tmp, good: tmp / "nowhere" / "osv.sqlite3",
    "text-file": lambda tmp, good: write(tmp / "notes.txt", b"not a database\n"),
    "empty-file": lambda tmp, good: write(tmp / "empty.sqlite3", b""),
    "corrupt-sqlite": lambda tmp, good: _corrupt_copy(good, tmp / "corrupt.sqlite3"),
    "directory": lambda tmp, good: (tmp / "a-dir").mkdir() or tmp / "a-dir",
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_no_usable_database_makes_the_exam_incomplete(
    case: str, war: Path, tmp_path: Path, vulnerability_database: Path
) -> None:
    database = UNUSABLE[case](tmp_path, vulnerability_database)
    code, document = scan(war, tmp_path / "r.json", "--db", str(database))
    assert code == 3
    (issue,) = document["issues"]
    assert issue["kind"] == "database" and issue["gap"] is True
    assert "not checked for known vulnerabilities" in issue["message"]
    assert document["vulnerability_db"]["status"] in ("missing", "unusable")
    assert document["verdict"]["status"] == "incomplete"
    # the user may examine without vulnerability data, but must say so
    code, document = scan(
        war, tmp_path / "r2.json", "--db", str(database), "--disable", "vulnerabilities"
    )
    assert code == 0 and document["issues"] == []
    code, _ = scan(
        war, tmp_path / "r3.json", "--db", str(database), "--allow-incomplete", "database"
    )
    assert code == 0


# -- stale database ------------------------------------------------------------------------


def test_a_stale_database_is_a_warning_and_the_stale_database_check(
    war: Path, tmp_path: Path, vulnerability_database: Path
) -> None:
    old = shutil.copyfile(vulnerability_database, tmp_path / "old.sqlite3")
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '2020-01-02T03:04:05Z' WHERE key = 'updated'")
    clean = write(tmp_path / "clean.zip", zip_bytes({"README.txt": "hello\n"}))
    code, document = scan(clean, tmp_path / "r.json", "--db", str(old))
    assert code == 0  # a warning: the exam is complete and nothing blocked
    (check,) = [c for c in document["verdict"]["checks"] if c["rule"] == "stale-database"]
    assert check["action"] == "warn" and check["matched"] == 1
    assert any(
        w.startswith("stale-database: ") and "2020-01-02T03:04:05Z" in w
        for w in document["verdict"]["warnings"]
    )
    assert document["vulnerability_db"]["status"] == "stale"
    assert scan(clean, tmp_path / "s.json", "--db", str(old), "--strict")[0] == 1
    code, document = scan(
        clean, tmp_path / "t.json", "--db", str(old), "--db-max-age-days", "99999"
    )
    assert code == 0 and "vulnerabilities.stale-database" not in rule_ids(document)
    table = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(clean), "--db", str(old)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        check=False,
    )
    assert "warning: stale-database:" in table.stdout and "PASSED" in table.stdout


# -- one bad component ---------------------------------------------------------------------


def test_one_bad_component_never_stops_matching_for_the_others(tmp_path: Path) -> None:
    huge = "1" * 5000  # more digits than Python converts to an integer
    wheel = write(
        tmp_path / "bundle.zip",
        zip_bytes(
            {
                "a/requests-2.30.0.dist-info/METADATA": (
                    "Metadata-Version: 2.1\nName: requests\nVersion: 2.30.0\n"
                ),
                "b/requests-9.dist-info/METADATA": (
                    f"Metadata-Version: 2.1\nName: requests\nVersion: {huge}\n"
                ),
            }
        ),
    )
    code, document = scan(wheel, tmp_path / "r.json")
    assert "PYSEC-2023-74" in rule_ids(document)  # the good component is still matched
    failed = [i for i in document["issues"] if i["kind"] == "plugin-failed"]
    assert len(failed) == 1 and "requests 1111" in failed[0]["message"]
    assert "(5000 characters)" in failed[0]["message"] and huge not in failed[0]["message"]
    assert document["complete"] is False and document["vulnerability_db"]["components_failed"] == 1
    assert code == 1  # the fixable advisory blocks: failed wins over incomplete


# -- requirements --------------------------------------------------------------------------


def test_only_vulnerabilities_pulls_in_the_catalogers_and_finds_log4shell(
    war: Path, tmp_path: Path
) -> None:
    code, document = scan(war, tmp_path / "r.json", "--only", "vulnerabilities")
    assert code == 1
    assert LOG4SHELL in rule_ids(document)
    plugins = {p["name"]: p for p in document["plugins"]}
    assert plugins["java"]["status"] == "ok"
    assert plugins["java"]["detail"] == "required by vulnerabilities"
    assert plugins["secrets"]["status"] == "skipped"


def test_disabling_a_cataloger_an_enabled_check_needs_is_refused(
    war: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, users in (
        (["--only", "vulnerabilities", "--disable", "java"], "'vulnerabilities'"),
        (["--disable", "java"], "'typosquat' and 'vulnerabilities'"),  # names checked too
        (["--disable", "java,typosquat"], "'vulnerabilities'"),
    ):
        assert main(["scan", str(war), *args]) == 2
        err = capsys.readouterr().err
        assert f"disable: cataloger 'java' is required by {users} (" in err
        assert "Traceback" not in err
    # the sbom command runs no analyzer: nothing requires java there
    assert main(["sbom", str(war), "--disable", "java", "-o", "cyclonedx-json"]) == 0
    capsys.readouterr()
    assert main(["scan", str(war), "--disable", "java,vulnerabilities,typosquat"]) == 0


def test_the_suite_database_is_built_from_the_records_kept_with_the_tests(
    tmp_path: Path,
) -> None:
    path = build_database(tmp_path / "osv.sqlite3")
    with sqlite3.connect(path) as conn:
        ids = {row[0] for row in conn.execute("SELECT id FROM records")}
    assert {LOG4SHELL, "PYSEC-2023-74", "MAL-2022-7421"} <= ids
