"""docs/adding-an-analyzer.md: its worked example, run as written against a real npm tarball."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from finalexam.analyze import ANALYZERS
from finalexam.catalog import CATALOGERS
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.plugins import problems

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-an-analyzer.md"


def worked_example() -> Any:
    """The analyzer class the doc's ```python block defines (the doc's own code, not input)."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block is not None, "the worked example's code block is gone"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)
    return namespace["DotenvAnalyzer"]


@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    if shutil.which("tar") is None:
        pytest.skip("tar is not installed")
    package = tmp_path / "package"
    package.mkdir()
    (package / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (package / "index.js").write_text("module.exports = 1;\n")
    (package / ".env").write_text("# local\nexport DB_PASSWORD=hunter2-not-real\nAPI_URL=x\n")
    (package / ".envrc").write_text("use node\n")  # not a dotenv file
    target = tmp_path / "app-1.0.0.tgz"
    subprocess.run(["tar", "-czf", str(target), "-C", str(tmp_path), "package"], check=True)
    return target


def test_the_worked_example_declares_its_contract() -> None:
    analyzer = worked_example()(Config())
    catalogers = frozenset(make().name for make in CATALOGERS)
    assert problems("analyzer", analyzer, catalogers) == []


def test_the_worked_example_finds_the_env_file_and_never_its_values(tarball: Path) -> None:
    analyzer = worked_example()
    report = run_exam(tarball, Config(only=("dotenv",)), analyzers=(*ANALYZERS, analyzer))
    found = [f for f in report.findings if f.found_by == "dotenv"]
    assert [(f.rule_id, str(f.location)) for f in found] == [
        ("dotenv-shipped", "app-1.0.0.tgz!/package/.env")
    ]
    assert found[0].evidence.details["names"] == ["API_URL", "DB_PASSWORD"]
    assert "hunter2" not in repr(report)
    status = {p.name: p for p in report.plugins}["dotenv"]
    assert (status.status, status.version) == ("ok", "1.0")
