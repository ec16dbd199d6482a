"""One component or dependency that cannot be evaluated never stops the others (the exam's
own test of a 5,000-digit version is in test_exam_database.py)."""

from __future__ import annotations

import json
from pathlib import Path

from finalexam.model import Component, Dependency
from finalexam.vuln.db import VulnDatabase
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import Matcher
from finalexam.vuln.update import update_database


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
    components = [
        Component(name="jinja2", version="2.10", ecosystem="PyPI"),
        Component(name="requests", version="2.19.1", ecosystem="PyPI"),
    ]
    with VulnDatabase(database) as opened:
        matcher = Matcher(opened)
        found = {f.rule_id for f in matcher.match_all(components)}
    assert found == {"GHSA-x84v-xcm2-53pg"}
    [issue] = matcher.isolation.issues
    assert issue.plugin == "vulnerabilities"
    assert "failed on jinja2 2.10: TypeError" in issue.message


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
