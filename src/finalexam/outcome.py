"""The exam's outcome in one word: the single place that decides PASSED, FAILED or INCOMPLETE.

The CLI maps it to an exit code; attestations record it. A failed policy wins over an
incomplete exam (1 wins over 3); only a complete exam that passed its policy is PASSED.
"""

from __future__ import annotations

from finalexam.model import Report

PASSED = "PASSED"
FAILED = "FAILED"
INCOMPLETE = "INCOMPLETE"
EXIT_CODES = {PASSED: 0, FAILED: 1, INCOMPLETE: 3}


def outcome(report: Report) -> str:
    """The verdict word of ``report.status`` (the completeness rule lives in the model: any gap
    the user did not accept makes the exam incomplete)."""
    return report.status.value.upper()
