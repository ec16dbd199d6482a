from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.cli import main


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return write(
        tmp_path / "app-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "app/__init__.py": "",
                "app-1.0.dist-info/METADATA": "Name: app\nVersion: 1.0\nLicense: MIT\n",
            }
        ),
    )


def test_default_is_cyclonedx_json_on_stdout(wheel: Path) -> None:
    result = run_cli("sbom", str(wheel))
    assert result.returncode == 0, result.stderr
    bom = json.loads(result.stdout)
    assert bom["bomFormat"] == "CycloneDX"
    assert [c["purl"] for c in bom["components"]] == ["pkg:pypi/app@1.0"]


def test_several_outputs_to_files_are_reproducible(
    wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {
        name: tmp_path / f"out.{name}" for name in ("cyclonedx-json", "spdx-json", "spdx-tag")
    }
    args = [arg for name, path in outputs.items() for arg in ("-o", f"{name}={path}")]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["sbom", str(wheel), *args]) == 0
    first = {name: path.read_bytes() for name, path in outputs.items()}
    assert main(["sbom", str(wheel), *args]) == 0
    assert {name: path.read_bytes() for name, path in outputs.items()} == first
    assert json.loads(first["spdx-json"])["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
    assert b"PackageName: app" in first["spdx-tag"]


def test_usage_errors_exit_2(
    wheel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sbom", str(tmp_path / "missing.whl")]) == 2
    error = capsys.readouterr().err
    assert "missing.whl" in error and "Traceback" not in error
    assert main(["sbom", str(wheel), "-o", "cyclonedx-yaml"]) == 2
    assert "unknown output format" in capsys.readouterr().err


def test_incomplete_inventory_exits_3(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    assert main(["sbom", str(wheel), "--max-files", "1", "-o", f"cyclonedx-json={out}"]) == 3
    assert json.loads(out.read_text())["bomFormat"] == "CycloneDX"


def test_scan_writes_an_sbom_beside_the_table(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "sbom.xml"
    result = run_cli("scan", str(wheel), "-o", f"cyclonedx-xml={out}", "-o", "table")
    assert result.returncode == 0, result.stderr
    assert "PASSED" in result.stdout
    assert b"<purl>pkg:pypi/app@1.0</purl>" in out.read_bytes()
