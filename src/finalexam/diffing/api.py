"""Release diff: what changed between two releases and whether the change is dangerous.

``diff(old, new, config)`` takes artifacts or stored JSON reports (told apart by content) and
returns a ``ReleaseDiff``. The comparison itself lives in the other modules of this package.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from finalexam.analyze import ANALYZERS
from finalexam.config import Config
from finalexam.diffing.content import ContentStore, capture_factory
from finalexam.diffing.engine import diff_reports, summary
from finalexam.diffing.model import Change, ReleaseDiff
from finalexam.diffing.policy import baseline_violations, endpoint_allowlist
from finalexam.events import EventSink, ignore
from finalexam.model import Report
from finalexam.report.load import is_report_document, load_report

_SNIFF_LIMIT = 512 * 1024 * 1024


def looks_like_report(path: Path) -> bool:
    try:
        if not path.is_file() or path.stat().st_size > _SNIFF_LIMIT:
            return False
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
            if not head.startswith(b"{"):
                return False
            handle.seek(0)
            return is_report_document(handle.read())
    except OSError:
        return False


def examine(
    target: str | Path, config: Config, events: EventSink = ignore
) -> tuple[Report, ContentStore | None]:
    """A Report for one side of a diff: loaded when it is a stored report, else examined."""
    from finalexam.exam import run_exam

    path = Path(target)
    if looks_like_report(path):
        return load_report(path), None
    store = ContentStore()
    analyzers = (*ANALYZERS, capture_factory(store))
    report = run_exam(path, replace(config, baseline=None), events, analyzers=analyzers)
    return report, store


def diff(
    old: str | Path | Report,
    new: str | Path | Report,
    config: Config | None = None,
    events: EventSink = ignore,
) -> ReleaseDiff:
    """Compare two releases (artifact paths, stored report paths or Reports). Never prints."""
    config = config or Config()
    old_report, old_store = (old, None) if isinstance(old, Report) else examine(old, config, events)
    new_report, new_store = (new, None) if isinstance(new, Report) else examine(new, config, events)
    return diff_reports(
        old_report,
        new_report,
        old_content=old_store,
        new_content=new_store,
        endpoint_allowlist=endpoint_allowlist(config),
    )


__all__ = [
    "Change",
    "ReleaseDiff",
    "baseline_violations",
    "diff",
    "diff_reports",
    "examine",
    "looks_like_report",
    "summary",
]
