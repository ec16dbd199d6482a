"""``scan --baseline``: the exam composed with a diff against the baseline release.

The exam knows nothing of baselines: this module adds the analyzer that keeps the walk's
text files for the diff, runs the exam, diffs its report against the baseline (an artifact,
examined the same way, or a stored report), and lets the baseline rules
(``diffing.policy``) add their violations to the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from finalexam.analyze import ANALYZERS
from finalexam.analyze.base import Analyzer
from finalexam.config import Config
from finalexam.diffing.api import examine
from finalexam.diffing.content import ContentStore, capture_factory
from finalexam.diffing.document import diff_summary
from finalexam.diffing.engine import diff_reports
from finalexam.diffing.policy import baseline_violations, endpoint_allowlist
from finalexam.events import EventSink, ignore
from finalexam.exam import run_exam
from finalexam.model import Report
from finalexam.redact import safe_report


def exam_with_baseline(
    target: Path,
    config: Config,
    events: EventSink = ignore,
    analyzers: Sequence[Callable[[Config], Analyzer]] = ANALYZERS,
) -> Report:
    """The exam of ``target``; with ``config.baseline``, diffed against it, the baseline
    rules' violations in the verdict and the diff's summary in the report."""
    if not config.baseline:
        return run_exam(target, config, events, analyzers=analyzers)
    content = ContentStore()  # filled during the exam's own walk
    report = run_exam(target, config, events, analyzers=(*analyzers, capture_factory(content)))
    return safe_report(apply_baseline(report, config, content))


def apply_baseline(report: Report, config: Config, content: ContentStore | None = None) -> Report:
    """Diff ``report`` against the baseline and feed the verdict."""
    if not config.baseline:
        return report
    old_report, old_content = examine(config.baseline, config)
    result = diff_reports(
        old_report,
        report,
        old_content=old_content,
        new_content=content,
        endpoint_allowlist=endpoint_allowlist(config),
    )
    violations = baseline_violations(result, config)
    verdict = report.verdict
    if violations:
        verdict = replace(verdict, passed=False, violations=(*verdict.violations, *violations))
    extra = {**report.extra, "baseline_diff": diff_summary(result)}
    return replace(report, verdict=verdict, extra=extra)
