"""Every hostile case: no crash, no hang, bounded memory, no write outside the scratch space,
and what the case expects the exam to see and report (see ``harness.problems``)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest

from hostile.cases import all_cases
from hostile.harness import Case, problems, run


@pytest.mark.parametrize("case", all_cases(), ids=lambda case: case.name)
def test_hostile_case(case: Case, tmp_path: Path) -> None:
    # HOSTILE_FINALEXAM="other/venv/bin/python -m finalexam" runs the cases against another
    # build (an older commit, to see each case fail there first).
    command = shlex.split(os.environ.get("HOSTILE_FINALEXAM", "")) or None
    outcome = run(case, tmp_path, command)
    assert problems(case, outcome) == []
