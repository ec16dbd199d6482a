"""Python facts within a time and memory bound: small sources parse in process, large ones
in the supervised child process (CPython's parser is native code a CPU timer cannot stop)."""

from __future__ import annotations

from typing import Any

from finalexam.analyze.behavior.facts import Facts
from finalexam.analyze.behavior.python.visitor import python_facts
from finalexam.budget import BudgetExceeded, WorkerCrashed, supervisor
from finalexam.model import IssueKind

# CPython's parser is native code the time budget cannot interrupt, and its cost is not
# always linear (one f-string with 100,000 placeholders takes seconds; 500,000 take minutes)
# nor small (an 8 MB module needs gigabytes of tree). Sources up to this size parse here,
# larger ones in the supervised child process, with a deadline and a memory limit.
IN_PROCESS_SOURCE = 256 * 1024


def bounded_python_facts(
    source: str, seconds: float, **options: Any
) -> tuple[Facts, tuple[IssueKind, str] | None]:
    """``python_facts`` within ``seconds`` and bounded memory: the facts, and when the source
    could not be parsed within those bounds, what kind of gap that is and why (its facts
    then say ``parsed=False``)."""
    if len(source) <= IN_PROCESS_SOURCE:
        return python_facts(source, **options), None
    why: tuple[IssueKind, str]
    try:
        return supervisor().call(_python_facts_of, source, options, timeout=seconds), None
    except BudgetExceeded as over:
        why = (IssueKind.TIME_BUDGET, f"not parsed {over}")
    except WorkerCrashed as error:
        why = (IssueKind.RESOURCE, f"not parsed: the parser process failed ({error})")
    return Facts(parsed=False), why


def _python_facts_of(source: str, options: dict[str, Any]) -> Facts:
    return python_facts(source, **options)
