"""One component, record or dependency that cannot be evaluated never stops the others."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from builders import write, zip_bytes
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Component, Dependency
from finalexam.vuln.db import VulnDatabase
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import Matcher
from finalexam.vuln.update import update_database
from finalexam.vuln.versions import ECOSYSTEMS, InvalidVersion

HUGE = "1." + "9" * 5000


def test_a_hostile_version_is_not_a_version_in_any_scheme() -> None:
    for name, ecosystem in ECOSYSTEMS.items():
        for version in (HUGE, "9" * 5000, "1.0-" + "9" * 5000):
            try:
                ecosystem.scheme.key(version)
            except InvalidVersion:
                continue
            raise AssertionError(f"{name} read {version[:20]}... as a version")


def _wheel(name: str, version: str, requires: tuple[str, ...] = ()) -> dict[str, str]:
    info = f"{name}-1.0.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return {f"{info}/METADATA": "\n".join(lines) + "\n\n", f"{info}/WHEEL": "Wheel-Version: 1.0\n"}


def test_a_component_with_a_5000_digit_version_does_not_stop_matching(
    vuln_db: Path, tmp_path: Path
) -> None:
    members = {**_wheel("requests", "2.19.1"), **_wheel("hostile", HUGE, ("requests",))}
    members = {f"site-packages/{k}": v for k, v in members.items()}
    target = write(tmp_path / "env.zip", zip_bytes(members))
    report = run_exam(target, replace(Config(), db=str(vuln_db)))
    assert "GHSA-x84v-xcm2-53pg" in {f.rule_id for f in report.findings}
    assert all(p.status == "ok" for p in report.plugins if p.name == "vulnerabilities")
    assert report.extra["vulnerability_db"]["components_checked"] >= 2


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
