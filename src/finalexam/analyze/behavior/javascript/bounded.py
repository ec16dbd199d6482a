"""JavaScript facts within a share of the per-file time budget and a bound on memory: what
is left of the budget after an overrun goes to reading the file as text (the engine's raw
patterns), so the file is still examined, and an Issue says it was not parsed: a gap for a
source of ordinary size, a note for a bundle (read as text, as a bigger one always is)."""

from __future__ import annotations

from finalexam.analyze.behavior.facts import Facts
from finalexam.analyze.behavior.javascript.parse import dialect_of
from finalexam.analyze.behavior.javascript.visitor import javascript_facts
from finalexam.budget import BudgetExceeded, time_budget
from finalexam.model import IssueKind

SHARE = 0.6  # of the file's budget for parsing and reading the tree
# A syntax tree costs up to about 60 bytes of memory per byte of source: bigger sources
# (minified multi-megabyte bundles) are read as text, by the raw patterns, as every
# JavaScript file was before the reader existed; what the text shows is still found.
MAX_PARSED_BYTES = 3 * 1024 * 1024
# A tree is read at about 3 µs of CPU a byte: a source of a megabyte or more can outrun
# the share on an honest bundle alone (effect 4.1.5's 2 MB httpApiSwagger.js carries
# Swagger UI's bundle in a string, read again as code: 6 s). Such a source is read as text,
# as one past MAX_PARSED_BYTES is, and the note says so. A smaller source that outruns it
# is odd (the grammar's error recovery exploding, a starved machine): a gap.
BUNDLE_BYTES = 1024 * 1024


def bounded_javascript_facts(
    source: str, seconds: float, *, install_file: bool = False, path: str = ""
) -> tuple[Facts, tuple[IssueKind, str] | None]:
    """``javascript_facts`` within ``SHARE`` of ``seconds`` of CPU (no bound for 0); the
    file's ``path`` says which grammar to try first."""
    if len(source) > MAX_PARSED_BYTES:
        return Facts(parsed=False), None
    try:
        with time_budget(seconds * SHARE):
            facts = javascript_facts(source, install_file=install_file, dialect=dialect_of(path))
            return facts, None
    except BudgetExceeded as over:
        if len(source) >= BUNDLE_BYTES:
            return Facts(parsed=False), (IssueKind.NOTE, f"of bundle size not parsed {over}")
        return Facts(parsed=False), (IssueKind.TIME_BUDGET, f"not parsed {over}")
