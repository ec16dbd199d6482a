"""``finalexam db update|status`` and ``scan`` with and without a database, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import write
from finalexam.cli import main
from schema import assert_valid_report

CYCLONEDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "components": [
        {
            "type": "library",
            "name": "requests",
            "version": "2.19.1",
            "purl": "pkg:pypi/requests@2.19.1",
        },
        {
            "type": "library",
            "name": "ascii2text",
            "version": "1.0",
            "purl": "pkg:pypi/ascii2text@1.0",
        },
        {
            "type": "library",
            "name": "requests-ok",
            "version": "2.31.0",
            "purl": "pkg:pypi/requests@2.31.0",
        },
    ],
}


@pytest.fixture
def sbom(tmp_path: Path) -> Path:
    return write(tmp_path / "app.cdx.json", json.dumps(CYCLONEDX).encode())


def test_db_update_and_status(
    osv_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "osv.sqlite3"
    assert main(["db", "update", "--source", str(osv_dir), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"{osv_dir}: " in out and "withdrawn ignored" in out
    assert main(["db", "status", "--db", str(db)]) == 0
    status = capsys.readouterr().out
    assert "PyPI" in status and "Maven" in status and str(osv_dir) in status
    assert main(["db", "status", "--db", str(db), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["by_ecosystem"]["Maven"] == 4 and info["stale"] is False


def test_db_env_var_selects_the_file(
    vuln_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FINALEXAM_DB", str(vuln_db))
    assert main(["db", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(vuln_db)


def test_db_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path / "bad.zip", b"not a zip at all")
    code = main(["db", "update", "--source", str(bad), "--db", str(tmp_path / "x.sqlite3")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"finalexam: error: {bad}: not an OSV zip, JSON record or directory"
    )
    assert not (tmp_path / "x.sqlite3").exists()
    assert main(["db", "status", "--db", str(tmp_path / "none.sqlite3")]) == 3
    assert "run `finalexam db update`" in capsys.readouterr().err
    code = main(["db", "update", "--source", str(bad), "--db", str(bad)])
    assert code == 3
    assert "cannot update the database (file is not a database)" in capsys.readouterr().err
    target = str(tmp_path / "y.sqlite3")
    code = main(["db", "update", "--source", "http://127.0.0.1:9/x.zip", "--db", target])
    assert code == 3
    assert "http://127.0.0.1:9/x.zip: cannot download" in capsys.readouterr().err


def test_scan_sbom_reports_vulnerabilities_and_malware(
    sbom: Path, vuln_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    code = main(["scan", str(sbom), "--db", str(vuln_db), "-o", f"json={out}"])
    document = json.loads(out.read_text())
    assert_valid_report(document)
    assert code == 1  # critical malicious finding fails the default policy
    by_rule = {f["rule_id"]: f for f in document["findings"]}
    assert by_rule["MAL-2022-7421"]["kind"] == "malicious"
    assert by_rule["MAL-2022-7421"]["severity"] == "critical"
    merged = by_rule["GHSA-x84v-xcm2-53pg"]
    assert merged["kind"] == "vulnerability"
    assert merged["component"] == "pkg:pypi/requests@2.19.1"
    assert merged["fixed"] == ["2.20.0"]
    assert "PYSEC-2018-28" in merged["aliases"]
    assert merged["location"] == "app.cdx.json"
    assert not any(f["component"] == "pkg:pypi/requests@2.31.0" for f in document["findings"])
    section = document["vulnerability_db"]
    assert section["status"] == "ok" and section["malicious_components"] == 1
    assert section["components_checked"] == 3


def test_scan_without_database_says_so_once_and_is_incomplete(
    sbom: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    missing = tmp_path / "none.sqlite3"
    code = main(["scan", str(sbom), "--db", str(missing), "-o", f"json={out}"])
    assert code == 3
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert err_lines == [
        f"finalexam: no vulnerability database at {missing} (named by db): run `finalexam db "
        f"update --db {missing}`: 3 component(s) not checked for known vulnerabilities or "
        "malicious packages (disable vulnerabilities to examine without them)"
    ]
    document = json.loads(out.read_text())
    assert_valid_report(document)
    assert document["vulnerability_db"]["status"] == "missing"
    assert [i["kind"] for i in document["issues"]] == ["database"]
    assert document["findings"] == []
    assert main(["scan", str(sbom), "--db", str(missing), "--disable", "vulnerabilities"]) == 0


def test_stale_database_is_a_warning(
    sbom: Path, vuln_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    main(["scan", str(sbom), "--db", str(vuln_db), "--db-max-age-days", "0", "-o", f"json={out}"])
    assert "warning: the vulnerability database is 0 days old" in capsys.readouterr().err
    assert json.loads(out.read_text())["vulnerability_db"]["status"] == "stale"


def test_reproducible_report(sbom: Path, vuln_db: Path, tmp_path: Path) -> None:
    outputs = []
    for name in ("a.json", "b.json"):
        main(
            [
                "scan",
                str(sbom),
                "--db",
                str(vuln_db),
                "--timestamp",
                "2024-01-01T00:00:00Z",
                "-o",
                f"json={tmp_path / name}",
            ]
        )
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0] == outputs[1]


def test_db_from_config_file(
    vuln_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("FINALEXAM_DB", raising=False)
    (tmp_path / "finalexam.toml").write_text(f'db = "{vuln_db}"\ndb_max_age_days = 30\n')
    monkeypatch.chdir(tmp_path)
    assert main(["db", "status", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(vuln_db) and info["stale"] is False
