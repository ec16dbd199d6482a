"""JavaScript facts within a share of the per-file time budget: what is left of it after an
overrun goes to reading the file as text (the engine's raw patterns), so a huge bundle is
still examined, and an Issue says it was not parsed."""

from __future__ import annotations

from finalexam.analyze.behavior.facts import Facts
from finalexam.analyze.behavior.javascript.parse import dialect_of
from finalexam.analyze.behavior.javascript.visitor import javascript_facts
from finalexam.budget import BudgetExceeded, time_budget
from finalexam.model import IssueKind

SHARE = 0.6  # of the file's budget for parsing and reading the tree


def bounded_javascript_facts(
    source: str, seconds: float, *, install_file: bool = False, path: str = ""
) -> tuple[Facts, tuple[IssueKind, str] | None]:
    """``javascript_facts`` within ``SHARE`` of ``seconds`` of CPU (no bound for 0); the
    file's ``path`` says which grammar to try first."""
    try:
        with time_budget(seconds * SHARE):
            facts = javascript_facts(source, install_file=install_file, dialect=dialect_of(path))
            return facts, None
    except BudgetExceeded as over:
        return Facts(parsed=False), (IssueKind.TIME_BUDGET, f"not parsed {over}")
