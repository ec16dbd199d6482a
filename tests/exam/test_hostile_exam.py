"""Hostile input at the edges of the pipeline: what the artifact can do to the exam around it
(its configuration, its names in every report, the report's own output target, signals and
scratch space). Each case runs the real command, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from builders import write
from finalexam.analyze.secrets_validate import base62_encode

SRC = Path(__file__).resolve().parents[2] / "src"
BODY = "Q7vLx2Rk9TzP4mWn8YcB3dFh6JsA1e"
TOKEN = "ghp_" + BODY + base62_encode(zlib.crc32(BODY.encode()))  # a well-formed GitHub token
WAIVE_ALL = (
    'disable = ["secrets", "behavior"]\n'
    'allow_incomplete = ["corrupt", "limit", "plugin-failed", "database"]\n'
    'policy = "ci"\n\n'
    '[[waivers]]\nrule_id = "*"\nreason = "all good"\n'
)


def finalexam(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})},
        timeout=300,
        check=False,
    )


# -- the artifact never configures its own exam ---------------------------------------------


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    """An unpacked package that ships a token and a config turning every check off."""
    root = tmp_path / "vendor-drop"
    write(root / "app" / "settings.py", f"GITHUB_TOKEN = {TOKEN!r}\n".encode())
    write(root / "finalexam.toml", WAIVE_ALL.encode())
    write(root / "pyproject.toml", b'[tool.finalexam]\nfail_on = "critical"\ndisable=["x"\n')
    return root


def test_config_inside_the_scanned_directory_is_never_read(leaky: Path) -> None:
    out = leaky.parent / "r.json"
    result = finalexam("scan", ".", "-o", f"json={out}", cwd=leaky)
    assert result.returncode == 1, result.stderr  # the token fails the release
    assert f"not reading {leaky / 'finalexam.toml'}" in result.stderr
    document = json.loads(out.read_text())
    assert document["verdict"]["policy"] == "release" and document["suppressed"] == []
    assert "secrets" in {f["found_by"] for f in document["findings"]}
    # the same from a sub-directory of the target, and with the target named by path
    sub = finalexam("scan", "..", "-o", f"json={out}", cwd=leaky / "app")
    assert sub.returncode == 1, sub.stderr


def test_config_outside_the_target_or_named_explicitly_is_read(leaky: Path) -> None:
    outside = leaky.parent
    write(outside / "finalexam.toml", b'[[waivers]]\nrule_id = "github-*"\nreason = "test"\n')
    result = finalexam("scan", "vendor-drop", "-o", "json", cwd=outside)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["suppressed"]
    named = finalexam(
        "scan", ".", "--config", "finalexam.toml", "--allow-incomplete", "database", cwd=leaky
    )
    assert named.returncode == 0, named.stderr  # the user chose that file
