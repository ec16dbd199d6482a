"""One component or dependency that cannot be evaluated never stops the others (the exam's
own test of a 5,000-digit version is in test_exam_database.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from builders import write, zip_bytes
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Component, Dependency, IssueKind
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.update import update_database


def _metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"


def test_a_record_that_breaks_the_matcher_is_an_issue_and_the_others_still_match(
    osv_dir: Path, tmp_path: Path
) -> None:
    records = tmp_path / "records"
    records.mkdir()
    for name in ("GHSA-x84v-xcm2-53pg.json",):
        (records / name).write_bytes((osv_dir / name).read_bytes())
    broken = {
        "id": "GHSA-bad0-bad0-bad0",
        "modified": "2024-01-01T00:00:00Z",
        "references": 5,  # not a list: building this component's finding raises
        "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"}}],
    }
    (records / "GHSA-bad0-bad0-bad0.json").write_text(json.dumps(broken))
    database = tmp_path / "db.sqlite3"
    update_database(database, [str(records)])
    members = {
        "a/jinja2-2.10.dist-info/METADATA": _metadata("jinja2", "2.10"),
        "b/requests-2.19.1.dist-info/METADATA": _metadata("requests", "2.19.1"),
    }
    target = write(tmp_path / "env.zip", zip_bytes(members))
    report = run_exam(
        target, replace(Config(), db=str(database), only=("python", "vulnerabilities"))
    )
    assert "GHSA-x84v-xcm2-53pg" in {f.rule_id for f in report.findings}
    [issue] = [i for i in report.issues if i.plugin == "vulnerabilities"]
    assert issue.kind is IssueKind.PLUGIN_FAILED
    assert "failed on jinja2 2.10: TypeError" in issue.message
    assert not report.complete


def test_a_dependency_that_cannot_be_judged_is_an_issue(vuln_db: Path) -> None:
    owner = Component(
        name="app",
        version="1.0",
        ecosystem="PyPI",
        dependencies=(
            Dependency("pkg:pypi/totally-evil-pkg", requirement="=="),
            Dependency("pkg:pypi/totally-evil-pkg@1.0"),
        ),
    )
    with VulnDatabase(vuln_db) as opened:
        findings = malicious_dependencies(opened, [owner])
    assert [f.rule_id for f in findings] == ["MAL-2099-0001"]
