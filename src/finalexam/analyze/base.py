"""Analyzer protocol: turns files (and, after the walk, the whole exam) into findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from finalexam.config import Config
from finalexam.events import EventSink
from finalexam.model import Artifact, Component, FileEntry, FileRecord, Finding, Indicator, Issue
from finalexam.plugins import FilePlugin

# Bytes of carried state (see ``Carried``) one analyzer may hold until ``finish``; beyond it,
# items are dropped in walk order, so what survives is the same whatever the number of workers.
CARRIED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Carried:
    """Something an analyzer needs again in ``finish``. Per-file analysis may run in a worker
    process, so it travels back in the ``Analysis`` instead of staying on the analyzer."""

    analyzer: str
    payload: Any
    cost: int = 0  # bytes it holds, counted against the analyzer's ``limit``
    limit: int = CARRIED_BYTES


@dataclass
class Analysis:
    """What an analyzer returns: any mix of findings, indicators, binary facts and issues."""

    findings: list[Finding] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    binaries: list[Mapping[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # report sections owned by a plug-in
    carried: list[Carried] = field(default_factory=list)  # for finish(); never reported
    carried_bytes: dict[str, int] = field(default_factory=dict)  # by analyzer

    def merge(self, other: Analysis) -> None:
        for item in other.carried:
            held = self.carried_bytes.get(item.analyzer, 0)
            if item.cost and held + item.cost > item.limit:
                continue
            self.carried.append(item)
            self.carried_bytes[item.analyzer] = held + item.cost
        self.findings.extend(other.findings)
        self.indicators.extend(other.indicators)
        self.binaries.extend(other.binaries)
        self.issues.extend(other.issues)
        for key, value in other.extra.items():
            if isinstance(value, list) and isinstance(self.extra.get(key), list):
                self.extra[key].extend(value)
            else:
                self.extra[key] = value


@dataclass(frozen=True)
class ExamState:
    """What analyzers see after the walk: the whole inventory and every component."""

    artifact: Artifact
    config: Config
    files: tuple[FileRecord, ...]
    components: tuple[Component, ...]
    events: EventSink
    carried: tuple[Carried, ...] = ()  # what analyze() calls carried, in walk order
    # what analyzers declared in ``requires`` and the exam provided (see requirements.py)
    resources: Mapping[str, Any] = field(default_factory=dict)

    def carried_by(self, analyzer: str) -> list[Any]:
        return [c.payload for c in self.carried if c.analyzer == analyzer]


class Analyzer(FilePlugin, Protocol):
    """``name`` is what ``only``/``disable`` select. An analyzer may also declare ``requires``
    (a tuple: ``catalogers``, a cataloger's name, ``vulnerability-db``; see requirements.py)."""

    name: str

    def accepts(self, entry: FileEntry) -> bool:
        """Cheap gate: by name, size, type and magic bytes; never reads the whole file."""
        ...

    def analyze(self, entry: FileEntry) -> Analysis: ...

    def finish(self, state: ExamState) -> Analysis:
        """Runs once after the walk (component-level checks such as vulnerability matching)."""
        ...


def findings_only(findings: Iterable[Finding]) -> Analysis:
    return Analysis(findings=list(findings))
