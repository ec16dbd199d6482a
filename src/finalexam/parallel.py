"""Per-file analysis, inline or across worker processes (``--jobs``).

The walk (decompression, hashing, cataloging) stays in the main process; with ``jobs > 1`` each
file's bytes are shipped to a pool whose workers build their own analyzers from the same
factories and config. Results are merged in walk order, so reports are identical whatever the
number of workers. Analyzers must therefore keep no state between ``analyze`` calls: anything
needed after the walk travels in the returned ``Analysis`` (``carried``, handed to ``finish``
through ``ExamState.carried``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from typing import Any

from finalexam.analyze.base import Analysis, Analyzer
from finalexam.budget import (
    BudgetExceeded,
    can_supervise,
    enforceable,
    file_budget,
    time_budget,
)
from finalexam.config import Config
from finalexam.lifetime import die_with_parent
from finalexam.model import FileEntry, Issue, IssueKind, Location

AnalyzerFactory = Callable[[Config], Analyzer]
# Files bigger than this are analysed in the main process rather than copied to a worker.
_SHIP_LIMIT = 64 * 1024 * 1024

_worker_analyzers: list[Analyzer] = []
_worker_budget = 0.0


def analyze_entry(
    entry: FileEntry, analyzers: Sequence[Analyzer], budget: float = 0
) -> tuple[Analysis, dict[str, str]]:
    """Run every accepting analyzer on one file, each within ``budget`` seconds (more for a
    big file, see ``file_budget``); a failing plug-in, or one out of time, becomes an Issue
    and the next one runs."""
    result = Analysis()
    failures: dict[str, str] = {}
    for analyzer in analyzers:
        try:
            if not analyzer.accepts(entry):  # cheap by contract: outside the budget
                continue
            with time_budget(file_budget(budget, entry.size)):
                result.merge(analyzer.analyze(entry))
        except BudgetExceeded as over:
            result.issues.append(over_budget(analyzer.name, entry.location, over, "analyze"))
        except Exception as error:  # a broken file never breaks the exam
            record_failure(result, failures, analyzer.name, entry.location, error, "analyze")
    return result, failures


def over_budget(name: str, location: Location | None, over: BudgetExceeded, stage: str) -> Issue:
    """What a time budget left unexamined: this file (or, without a location, the step after
    the walk that goes over the whole exam), by this plug-in."""
    if location is None:
        message = f"{name} did not finish its whole-exam step: {over}"
    else:
        message = f"{name} did not examine this file: {over}"
    return Issue(stage, location, message, IssueKind.TIME_BUDGET, name)


def record_failure(
    analysis: Analysis,
    failures: dict[str, str],
    name: str,
    location: Location | None,
    error: Exception,
    stage: str,
) -> None:
    """A plug-in failed on one file (or after the walk): an Issue, and its status line."""
    scope = "this file" if location is not None else "its whole-exam step"
    message = f"{name} failed: {type(error).__name__}: {error} ({name} did not finish on {scope})"
    failures.setdefault(name, message)
    analysis.issues.append(Issue(stage, location, message, IssueKind.PLUGIN_FAILED, name))


def relocate(cached: Analysis, location: Location) -> Analysis:
    """Results of identical content, reported at another location."""
    return Analysis(
        findings=[replace(f, location=location) for f in cached.findings],
        indicators=[replace(i, locations=(location,)) for i in cached.indicators],
        binaries=[{**b, "location": str(location)} for b in cached.binaries],
        issues=[replace(i, location=location) for i in cached.issues],
        extra={},
    )


def selected(analyzer: Analyzer, config: Config) -> bool:
    """Whether an analyzer runs: chosen by ``only``/``disable``, or one the exam itself needs
    (such as the content capture of a release diff), which says so with ``always_runs``."""
    return config.runs(analyzer.name) or bool(getattr(analyzer, "always_runs", False))


def _init_worker(factories: Sequence[AnalyzerFactory], config: Config) -> None:
    global _worker_analyzers, _worker_budget
    die_with_parent()
    _worker_analyzers = [a for a in (make(config) for make in factories) if selected(a, config)]
    _worker_budget = config.time_budget


def _analyze_in_worker(fields: dict[str, Any], data: bytes) -> tuple[Analysis, dict[str, str]]:
    entry = FileEntry(**fields, _loader=lambda: data)
    return analyze_entry(entry, _worker_analyzers, _worker_budget)


class FileAnalysis:
    """Collects per-file analysis for the exam, identical files analysed once."""

    def __init__(
        self,
        analyzers: Sequence[Analyzer],
        factories: Sequence[AnalyzerFactory],
        config: Config,
    ) -> None:
        self.analyzers = analyzers
        self.result = Analysis()
        self.failures: dict[str, str] = {}
        self._memo: dict[str, Analysis] = {}
        self.budget = config.time_budget
        jobs = config.jobs if config.jobs > 0 else (os.cpu_count() or 1)
        # A budget is enforced in the main thread of a process: called from another thread,
        # the analysis goes to a worker process, whose main thread it then runs in.
        pooled = jobs > 1 or bool(self.budget and not enforceable() and can_supervise())
        self._pool: ProcessPoolExecutor | None = None
        if pooled and analyzers:
            self._pool = ProcessPoolExecutor(
                max_workers=jobs,
                initializer=_init_worker,
                initargs=(tuple(factories), config),
            )
        self._pending: deque[tuple[str, int, Future[tuple[Analysis, dict[str, str]]]]] = deque()
        self._in_flight = 0  # bytes shipped to workers and not yet merged
        self._window = 64 * jobs

    def submit(self, entry: FileEntry) -> None:
        # Identical content at the same path inside its archive (the same file in two image
        # layers, the same jar nested twice) is analysed once. The path is part of the key
        # because judgements depend on it (setup.py runs at install, tests/ is not imported):
        # a copy of a payload under tests/ must not lend its verdict to the one in the library.
        key = f"{entry.sha256}:{entry.path}"
        cached = self._memo.get(key)
        if cached is not None:
            self._merge(relocate(cached, entry.location), {})
            return
        if self._pool is None:
            result, failures = analyze_entry(entry, self.analyzers, self.budget)
            self._remember(key, result)
            self._merge(result, failures)
            return
        if not any(a.accepts(entry) for a in self.analyzers):
            return
        if entry.size > _SHIP_LIMIT:
            # Too big to copy to a worker: analysed here while the workers go on; the result
            # waits in the queue so that results are still merged in walk order.
            done: Future[tuple[Analysis, dict[str, str]]] = Future()
            done.set_result(analyze_entry(entry, self.analyzers, self.budget))
            self._pending.append((key, 0, done))
            return
        fields = {
            "location": entry.location,
            "size": entry.size,
            "sha256": entry.sha256,
            "sha1": entry.sha1,
            "file_type": entry.file_type,
            "media_type": entry.media_type,
            "mode": entry.mode,
            "layer": entry.layer,
            "link_target": entry.link_target,
        }
        future = self._pool.submit(_analyze_in_worker, fields, bytes(entry.data))
        self._pending.append((key, entry.size, future))
        self._in_flight += entry.size
        self._drain(self._window)

    def _drain(self, keep: int) -> None:
        # Bounded by count and by bytes held for the workers, so memory stays flat.
        while self._pending and (len(self._pending) > keep or self._in_flight > _SHIP_LIMIT):
            key, size, future = self._pending.popleft()
            self._in_flight -= size
            result, failures = future.result()
            self._remember(key, result)
            self._merge(result, failures)

    def _remember(self, key: str, result: Analysis) -> None:
        self._memo[key] = Analysis(
            findings=list(result.findings),
            indicators=list(result.indicators),
            binaries=list(result.binaries),
            issues=list(result.issues),
            extra={},
        )

    def _merge(self, result: Analysis, failures: dict[str, str]) -> None:
        self.result.merge(result)
        for name, message in failures.items():
            self.failures.setdefault(name, message)

    def close(self) -> None:
        try:
            self._drain(0)
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)

    def abort(self) -> None:
        """The exam stops (an error, a signal): workers end now, their results are dropped."""
        if self._pool is None:
            return
        for process in list(self._pool._processes.values()):
            process.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)
