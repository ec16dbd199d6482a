"""docs/adding-a-format.md: its worked example, run as written on real LZ4 frames."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import lz4.frame

from builders import tar_bytes, write
from finalexam.config import Config, Limits
from finalexam.exam import run_exam
from finalexam.model import IssueKind, Report
from finalexam.plugins import problems
from finalexam.unpack import UNPACKERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-format.md"
APP = {"app/main.py": "print('hello')\n", "app/config.ini": "[db]\nhost = db.internal\n"}


def worked_example() -> Any:
    """The unpacker the doc's ```python block defines (the doc's own code, not input)."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert block is not None, "the worked example's code block is gone"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)
    return namespace["Lz4Unpacker"]()


def exam(target: Path, config: Config | None = None) -> Report:
    config = config or Config(offline=True, only=("secrets",))
    return run_exam(target, config, unpackers=(*UNPACKERS, worked_example()))


def test_the_worked_example_declares_its_contract() -> None:
    assert problems("unpacker", worked_example(), frozenset()) == []


def test_a_tar_lz4_is_opened_to_the_files_of_the_tar(tmp_path: Path) -> None:
    target = write(tmp_path / "app-1.0.tar.lz4", lz4.frame.compress(tar_bytes(APP)))
    report = exam(target)
    assert sorted(str(r.location) for r in report.files) == [
        "app-1.0.tar.lz4",
        "app-1.0.tar.lz4!/app-1.0.tar",
        "app-1.0.tar.lz4!/app-1.0.tar!/app/config.ini",
        "app-1.0.tar.lz4!/app-1.0.tar!/app/main.py",
    ]
    unpackers = {p.name: p.version for p in report.plugins if p.kind == "unpacker"}
    assert unpackers == {"lz4": "1.0", "tar": "1.0"}
    assert report.complete and not report.issues


def test_a_truncated_frame_is_an_issue_and_a_bomb_stops_at_the_ratio_limit(
    tmp_path: Path,
) -> None:
    frame = lz4.frame.compress(tar_bytes(APP))
    truncated = exam(write(tmp_path / "cut.tar.lz4", frame[: len(frame) // 2]))
    assert [(i.kind, str(i.location)) for i in truncated.issues] == [
        (IssueKind.CORRUPT, "cut.tar.lz4!/cut.tar")
    ]
    assert not truncated.complete  # never passes unseen
    bomb = write(tmp_path / "zeros.lz4", lz4.frame.compress(bytes(32 * 1024 * 1024)))
    strict = replace(Config(offline=True, only=("secrets",)), limits=Limits(max_ratio=50))
    limited = exam(bomb, strict)
    assert [(i.kind, str(i.location)) for i in limited.issues] == [
        (IssueKind.LIMIT, "zeros.lz4!/zeros")
    ]
