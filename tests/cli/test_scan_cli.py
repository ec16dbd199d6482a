from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.cli import main
from schema import assert_valid_report


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "finalexam", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return write(
        tmp_path / "app-1.0-py3-none-any.whl",
        zip_bytes(
            {
                "app/__init__.py": "x = 1\n",
                "app-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: app\nVersion: 1.0\n",
            }
        ),
    )


def test_scan_writes_schema_valid_json_and_table(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("scan", str(wheel), "-o", f"json={out}", "-o", "table", "--files")
    assert result.returncode == 0, result.stderr
    assert "PASSED" in result.stdout
    document = json.loads(out.read_text())
    assert_valid_report(document)
    assert document["artifact"]["name"] == wheel.name
    assert {f["location"] for f in document["files"]} >= {f"{wheel.name}!/app/__init__.py"}


def test_file_list_only_with_files_flag(wheel: Path) -> None:
    result = run_cli("scan", str(wheel), "-o", "json")
    document = json.loads(result.stdout)
    assert "files" not in document
    assert document["summary"]["files"]["count"] == 3
    assert_valid_report(document)


def test_missing_target_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run_cli("scan", str(tmp_path / "missing.whl"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "missing.whl: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_and_format_exit_2(wheel: Path) -> None:
    assert run_cli("scan", str(wheel), "--no-such-flag").returncode == 2
    result = run_cli("scan", str(wheel), "-o", "pdf")
    assert result.returncode == 2
    assert "unknown output format 'pdf'" in result.stderr


def test_bad_env_value_exit_2(wheel: Path) -> None:
    result = run_cli("scan", str(wheel), env={"FINALEXAM_MAX_DEPTH": "deep"})
    assert result.returncode == 2
    assert "FINALEXAM_MAX_DEPTH" in result.stderr


def test_config_file_env_and_flag_precedence(tmp_path: Path) -> None:
    nested = zip_bytes({"a.zip": zip_bytes({"b.zip": zip_bytes({"c.txt": "c"})})})
    target = write(tmp_path / "n.zip", nested)
    (tmp_path / "pyproject.toml").write_text("[tool.finalexam]\nmax_depth = 1\n")
    from_file = json.loads(run_cli("scan", str(target), "-o", "json", cwd=tmp_path).stdout)
    assert from_file["summary"]["files"]["max_depth"] == 1
    from_env = json.loads(
        run_cli(
            "scan", str(target), "-o", "json", cwd=tmp_path, env={"FINALEXAM_MAX_DEPTH": "2"}
        ).stdout
    )
    assert from_env["summary"]["files"]["max_depth"] == 2
    from_flag = json.loads(
        run_cli(
            "scan",
            str(target),
            "-o",
            "json",
            "--max-depth",
            "3",
            cwd=tmp_path,
            env={"FINALEXAM_MAX_DEPTH": "2"},
        ).stdout
    )
    assert from_flag["summary"]["files"]["max_depth"] == 3


def test_invalid_config_file_exit_2(tmp_path: Path, wheel: Path) -> None:
    (tmp_path / "finalexam.toml").write_text("max_depth = [\n")
    result = run_cli("scan", str(wheel), cwd=tmp_path)
    assert result.returncode == 2
    assert "finalexam.toml: invalid TOML" in result.stderr
    (tmp_path / "finalexam.toml").write_text("bogus_key = 1\n")
    result = run_cli("scan", str(wheel), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown key 'bogus_key'" in result.stderr


def test_limit_stop_is_exit_3_and_report_still_written(tmp_path: Path) -> None:
    target = write(
        tmp_path / "t.tar.gz", gzip_bytes(tar_bytes({f"{i}.txt": "x" for i in range(20)}))
    )
    out = tmp_path / "r.json"
    code = main(["scan", str(target), "--max-files", "5", "-o", f"json={out}"])
    assert code == 3
    document = json.loads(out.read_text())
    assert document["complete"] is False
    assert_valid_report(document)


def test_notes_never_make_the_exam_incomplete(tmp_path: Path) -> None:
    # a cleaned-up ``../`` name is recorded but its content was examined: nothing is missing
    target = write(tmp_path / "e.tar", tar_bytes({"../x": "x"}))
    out = tmp_path / "r.json"
    for extra in ([], ["--strict"]):
        assert main(["scan", str(target), *extra, "-o", f"json={out}"]) == 0
        (issue,) = json.loads(out.read_text())["issues"]
        assert issue["kind"] == "note" and issue["gap"] is False


def test_output_directory_missing_is_exit_2_and_nothing_written(
    wheel: Path, tmp_path: Path
) -> None:
    result = run_cli("scan", str(wheel), "-o", f"json={tmp_path / 'nope' / 'r.json'}")
    assert result.returncode == 2
    assert not (tmp_path / "nope").exists()


def test_reproducible_json_with_source_date_epoch(wheel: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = run_cli("scan", str(wheel), "-o", "json", env=env).stdout
    second = run_cli("scan", str(wheel), "-o", "json", env=env).stdout
    assert first == second
    assert json.loads(first)["timestamp"] == "2023-11-14T22:13:20Z"


def test_python_dash_m_on_directory(tmp_path: Path) -> None:
    write(tmp_path / "d" / "x.txt", b"x")
    result = run_cli("scan", str(tmp_path / "d"))
    assert result.returncode == 0
    assert "kind directory" in result.stdout


def test_report_files_get_ordinary_permissions(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        assert main(["scan", str(wheel), "-o", f"json={out}"]) == 0
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644
