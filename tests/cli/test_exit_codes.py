"""Exit codes as a table of (arguments, expected code), each a real ``finalexam scan`` run.

The exam runs for real (walk, unpack, decide, reporters); a planting analyzer defined in test
code turns ``*.finding.json`` members into findings so every verdict can be reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from builders import encrypted_zip_bytes, gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.cli import main
from sample_findings import planted, use_planted

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = {"kind": "secret", "rule_id": "secrets.github-token", "severity": "high", "line": 2}
LOW = {"kind": "behavior", "rule_id": "behavior.env-read", "severity": "low"}
UNSIGNED = {"kind": "binary", "rule_id": "binary.unsigned-windows-executable", "severity": "medium"}
CRITICAL_VULN = {
    "kind": "vulnerability",
    "rule_id": "GHSA-aaaa-bbbb-cccc",
    "severity": "critical",
    "component": "pkg:pypi/demo@1.0",
    "fixed": ["1.1"],
}


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_planted(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    write(tmp_path / "clean.whl", zip_bytes({"app/__init__.py": "x = 1\n"}))
    write(
        tmp_path / "secret.whl",
        zip_bytes({"app/__init__.py": "x = 1\n", "app/leak.finding.json": planted(SECRET)}),
    )
    write(tmp_path / "low.zip", zip_bytes({"a.finding.json": planted(LOW)}))
    inner = zip_bytes({"native/helper.finding.json": planted(UNSIGNED)})
    write(
        tmp_path / "nested.tar.gz",
        gzip_bytes(
            tar_bytes({"pkg/lib.jar": inner, "pkg/vuln.finding.json": planted(CRITICAL_VULN)})
        ),
    )
    write(tmp_path / "escape.tar", tar_bytes({"../evil": "x", "ok.txt": "fine"}))
    write(tmp_path / "locked.zip", encrypted_zip_bytes({"app/core.py": "x = 1\n"}))
    write(
        tmp_path / "many.tar",
        tar_bytes(
            {
                f"{i}.finding.json" if i == 0 else f"{i}.txt": planted(SECRET) if i == 0 else "x"
                for i in range(10)
            }
        ),
    )
    (tmp_path / "waive-secret.toml").write_text(
        '[[waivers]]\nrule_id = "secrets.*"\nreason = "test token, revoked"\n'
    )
    (tmp_path / "expired.toml").write_text(
        '[[waivers]]\nrule_id = "secrets.*"\nreason = "old"\nexpires = 2020-01-01\n'
    )
    (tmp_path / "not-a-report.json").write_text("{not json")
    (tmp_path / "broken-policy.toml").write_text('[[rules]]\nid = "x"\nkind = "virus"\n')
    (tmp_path / "warn-secrets.toml").write_text(
        'extends = "none"\n[[rules]]\nid = "s"\naction = "warn"\nkind = "secret"\n'
    )
    return tmp_path


EXIT_TABLE = [
    # (arguments, expected exit code)
    (["clean.whl"], 0),
    (["secret.whl"], 1),
    (["secret.whl", "--policy", "ci"], 1),
    (["secret.whl", "--policy", "intake"], 0),
    (["secret.whl", "--waivers", "waive-secret.toml"], 0),
    (["secret.whl", "--waivers", "expired.toml"], 1),
    (["secret.whl", "--policy", "warn-secrets.toml"], 0),
    (["low.zip"], 0),
    (["low.zip", "--fail-on", "low"], 1),
    (["low.zip", "--fail-on", "medium"], 0),
    (["nested.tar.gz"], 1),
    (["nested.tar.gz", "--policy", "ci"], 0),
    (["escape.tar"], 0),
    (["escape.tar", "--strict"], 0),
    (["secret.whl", "--policy", "intake", "--strict"], 1),
    (["locked.zip"], 3),
    (["locked.zip", "--allow-incomplete", "encrypted"], 0),
    (["locked.zip", "--allow-incomplete", "limit,corrupt"], 3),
    (["clean.whl", "--allow-incomplete", "everything"], 2),
    (["clean.whl", "--db", "missing.sqlite3"], 3),
    (["clean.whl", "--db", "missing.sqlite3", "--disable", "vulnerabilities"], 0),
    (["clean.whl", "--disable", "python"], 2),
    (["many.tar", "--max-files", "3", "--policy", "intake"], 3),
    (["many.tar", "--max-files", "3", "--policy", "intake", "--allow-incomplete", "limit"], 0),
    (["many.tar", "--max-files", "3"], 1),  # failed beats incomplete: it must not ship
    (["missing.whl"], 2),
    (["clean.whl", "--policy", "broken-policy.toml"], 2),
    (["clean.whl", "--policy", "paranoid"], 2),
    (["clean.whl", "--waivers", "missing.toml"], 2),
    (["clean.whl", "--fail-on", "urgent"], 2),
    (["clean.whl", "-o", "pdf"], 2),
    (["clean.whl", "--no-such-flag"], 2),
    (["clean.whl", "--baseline", "not-a-report.json"], 2),
]


@pytest.mark.parametrize(("args", "expected"), EXIT_TABLE, ids=[" ".join(a) for a, _ in EXIT_TABLE])
def test_exit_code_table(area: Path, args: list[str], expected: int) -> None:
    out = area / "r.json"
    code = main(["scan", *args, "-o", f"json={out}"])
    assert code == expected
    if expected in (0, 1, 3):
        document = json.loads(out.read_text())
        assert document["verdict"]["passed"] is (expected != 1)
        status = {0: "passed", 1: "failed", 3: "incomplete"}[expected]
        assert document["verdict"]["status"] == status


def test_exit_code_table_matches_the_docs() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"
    text = docs.read_text()
    for args, expected in EXIT_TABLE:
        row = f"| `finalexam scan {' '.join(args)}` | {expected} |"
        assert row in text, f"docs/exit-codes.md lacks: {row}"


def test_policy_problems_one_per_line_from_the_real_cli(tmp_path: Path) -> None:
    write(tmp_path / "a.zip", zip_bytes({"a.txt": "a"}))
    (tmp_path / "p.toml").write_text(
        '[[rules]]\nid = "x"\nseverity = "huge"\n\n[[waivers]]\nrule_id = "y"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", "a.zip", "--policy", "p.toml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "finalexam: error: p.toml:3: severity: expected one of info, low, medium, high, "
        "critical, got 'huge'",
        "finalexam: error: p.toml:5: waiver: 'reason' is required (why this risk is accepted)",
    ]


def test_end_to_end_reports_for_a_nested_archive(area: Path) -> None:
    outputs = {name: area / f"r.{name}" for name in ("json", "sarif", "html", "markdown", "junit")}
    args = ["scan", "nested.tar.gz", "--timestamp", "2026-06-01T00:00:00Z"]
    for name, path in outputs.items():
        args += ["-o", f"{name}={path}"]
    assert main(args) == 1
    sarif = json.loads(outputs["sarif"].read_text())
    uris = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {
        "binary.unsigned-windows-executable": (
            "nested.tar.gz!/pkg/lib.jar!/native/helper.finding.json"
        ),
        "GHSA-aaaa-bbbb-cccc": "nested.tar.gz!/pkg/vuln.finding.json",
    }
    junit = outputs["junit"].read_text()
    assert 'name="fixable-vulnerability"' in junit and "<failure" in junit
    assert "FAILED" in outputs["html"].read_text()
    assert "fixable-vulnerability" in outputs["markdown"].read_text()


def test_same_artifact_and_config_give_byte_identical_reports(
    area: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    formats = ("json", "sarif", "html", "markdown", "junit", "table")
    runs = []
    for attempt in ("a", "b"):
        args = ["scan", "nested.tar.gz", "--waivers", "waive-secret.toml", "--files"]
        for name in formats:
            args += ["-o", f"{name}={area / f'{attempt}.{name}'}"]
        assert main(args) == 1
        runs.append({name: (area / f"{attempt}.{name}").read_bytes() for name in formats})
    for name in formats:
        assert runs[0][name] == runs[1][name], name
    assert b"2023-11-14T22:13:20Z" in runs[0]["json"]


def test_tar_fixture_really_nests(area: Path) -> None:
    with tarfile.open(area / "nested.tar.gz") as archive:
        assert "pkg/lib.jar" in archive.getnames()
