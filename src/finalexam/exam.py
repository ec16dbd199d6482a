"""The exam: walk the artifact once, feed every plug-in, merge, decide, return a Report."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TypeVar

from finalexam.analyze import ANALYZERS
from finalexam.analyze.base import Analysis, Analyzer, ExamState
from finalexam.budget import BudgetExceeded, time_budget
from finalexam.catalog import CATALOGERS
from finalexam.catalog.base import Cataloger
from finalexam.catalog.ownership import collect, link_owned
from finalexam.config import Config
from finalexam.context import References, resolve
from finalexam.errors import ConfigError, InputError
from finalexam.events import EventSink, StageFinished, StageStarted, ignore
from finalexam.failures import Isolation
from finalexam.model import (
    Artifact,
    Component,
    Confidence,
    FileEntry,
    Finding,
    Indicator,
    Issue,
    Location,
    PluginStatus,
    Report,
    counts_as_gap,
)
from finalexam.parallel import FileAnalysis, over_budget, record_failure, selected
from finalexam.policy import decide
from finalexam.redact import neutralize, safe_report
from finalexam.requirements import plan, provide
from finalexam.scratch import scratch_directory
from finalexam.testcerts import TestCertificates
from finalexam.unpack import UNPACKERS
from finalexam.unpack.base import Unpacker
from finalexam.unpack.walk import Walker
from finalexam.version import __version__

T = TypeVar("T")
_CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


@dataclass
class _Stopwatch:
    events: EventSink
    timings: dict[str, float]

    def run(self, stage: str, work: Callable[[], None]) -> None:
        self.events(StageStarted(stage))
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        self.timings[stage] = round(self.timings.get(stage, 0.0) + seconds, 3)
        self.events(StageFinished(stage, seconds))


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def describe_target(path: Path) -> Artifact:
    if not path.exists() and not path.is_symlink():
        raise InputError("no such file or directory", path=str(path))
    if path.is_dir():
        return Artifact(
            name=neutralize(path.resolve().name, lines=False),
            path=str(path),
            sha256="",
            size=0,
            kind="directory",
        )
    try:
        sha256, size = _hash_file(path)
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path=str(path)) from None
    name = neutralize(path.name, lines=False)  # the walk names the root the same way
    return Artifact(name=name, path=str(path), sha256=sha256, size=size, kind="file")


def run_exam(
    target: Path,
    config: Config,
    events: EventSink = ignore,
    catalogers: Sequence[Callable[[], Cataloger]] = CATALOGERS,
    analyzers: Sequence[Callable[[Config], Analyzer]] = ANALYZERS,
    unpackers: Sequence[Unpacker] = UNPACKERS,
) -> Report:
    artifact = describe_target(target)
    timings: dict[str, float] = {}
    clock = _Stopwatch(events, timings)
    disabled = set(config.disable)
    all_catalogers = [make() for make in catalogers]
    all_analyzers = [make(config) for make in analyzers]
    _check_names(config, [c.name for c in all_catalogers] + [a.name for a in all_analyzers])
    active_analyzers = [a for a in all_analyzers if selected(a, config)]
    needs = plan(config, [c.name for c in all_catalogers], active_analyzers)
    active_catalogers = [c for c in all_catalogers if c.name in needs.catalogers]
    resources = provide(needs.resources, config, events)  # e.g. fetch the DB on first use
    unselected = [
        PluginStatus(name, kind, "skipped", "not selected (only)")
        for kind, names, active in (
            ("cataloger", [c.name for c in all_catalogers], {c.name for c in active_catalogers}),
            ("analyzer", [a.name for a in all_analyzers], {a.name for a in active_analyzers}),
        )
        for name in names
        if name not in active and name not in disabled
    ]
    components: list[Component] = []
    analysis = Analysis()
    failures: dict[str, str] = {}
    per_file = FileAnalysis(active_analyzers, analyzers, config)
    references = References()
    certificates = TestCertificates()

    with scratch_directory() as scratch:
        walker = Walker(config.limits, unpackers, scratch, events)

        def walk() -> None:
            try:
                for entry in walker.walk(target):
                    _catalog(
                        entry, active_catalogers, components, analysis, failures, config.time_budget
                    )
                    references.observe(entry)
                    certificates.observe(entry)
                    per_file.submit(entry)
            except BaseException:  # an error or a signal (SIGTERM, Ctrl-C): workers end now
                per_file.abort()
                raise
            per_file.close()

        clock.run("walk", walk)
    analysis.merge(per_file.result)
    for name, message in per_file.failures.items():
        failures.setdefault(name, message)

    def finish_catalogers() -> None:
        budget = whole_exam_budget(config.time_budget, len(walker.records) + len(components))
        for cataloger in active_catalogers:
            found = _whole_exam_step(
                cataloger.name, "catalog", cataloger.finish, budget, analysis, failures
            )
            components.extend(found or ())
            isolation = getattr(cataloger, "isolation", None)
            if isinstance(isolation, Isolation) and isolation.issues:
                analysis.issues.extend(isolation.issues)
                failures.setdefault(cataloger.name, isolation.issues[0].message)

    clock.run("catalog", finish_catalogers)
    # an OS package contains what was found only in its files (catalog/ownership.py)
    owners = collect(active_catalogers)
    merged = link_owned(merge_components(components), owners)
    kind = walker.root_unpacker or artifact.kind
    artifact = replace(artifact, kind=kind)
    state = ExamState(
        artifact,
        config,
        tuple(walker.records),
        tuple(merged),
        events,
        tuple(analysis.carried),
        resources,
    )
    analysis.carried.clear()

    def finish_analyzers() -> None:
        budget = whole_exam_budget(config.time_budget, len(state.files) + len(state.components))
        for analyzer in active_analyzers:
            finish = partial(analyzer.finish, state)
            found = _whole_exam_step(analyzer.name, "analyze", finish, budget, analysis, failures)
            if found is not None:
                analysis.merge(found)

    clock.run("analyze", finish_analyzers)

    # context decides whether a finding blocks: decided here once, for every analyzer
    image = walker.root_unpacker == "oci-image"
    contexts = resolve(
        (r.location for r in walker.records), references, image, owners.lists,
        certificates.keys(),
    )  # fmt: skip
    findings = dedupe_findings(contexts.apply(analysis.findings))
    issues = sorted(walker.issues + analysis.issues, key=_issue_key)
    verdict, kept, suppressed = decide(findings, issues, merged, config)
    pulled_in = {name: f"required by {user}" for name, user in needs.required_by.items()}
    plugins = [
        PluginStatus(
            c.name,
            "cataloger",
            "failed" if c.name in failures else "ok",
            failures.get(c.name) or pulled_in.get(c.name),
            c.version,
        )
        for c in active_catalogers
    ]
    plugins += [
        PluginStatus(
            a.name,
            "analyzer",
            "failed" if a.name in failures else "ok",
            failures.get(a.name),
            a.version,
        )
        for a in active_analyzers
    ]
    plugins += [
        PluginStatus(u.name, "unpacker", "ok", None, u.version)
        for u in walker.unpackers
        if u.name in walker.opened_by
    ]
    plugins += [PluginStatus(name, "plugin", "skipped", "disabled") for name in sorted(disabled)]
    plugins += unselected
    report = Report(
        artifact=artifact,
        tool_version=__version__,
        files=tuple(sorted(walker.records, key=lambda r: r.location)),
        components=tuple(merged),
        findings=tuple(kept),
        suppressed=tuple(suppressed),
        issues=tuple(issues),
        indicators=tuple(merge_indicators(analysis.indicators)),
        binaries=tuple(sorted(analysis.binaries, key=lambda b: str(b.get("location", "")))),
        plugins=tuple(sorted(plugins, key=lambda p: (p.kind, p.name))),
        verdict=verdict,
        timings=timings,
        complete=not any(counts_as_gap(issue, config.allow_incomplete) for issue in issues),
        extra=analysis.extra,
        allowed_incomplete=config.allow_incomplete,
    )
    return safe_report(report)  # secrets redacted, controls neutralised: safe to show anywhere


def _check_names(config: Config, names: Sequence[str]) -> None:
    """``only`` must name plug-ins of this command, ``disable`` plug-ins that exist: a typo
    would otherwise examine nothing, or silently leave on what was meant to be off."""
    unknown = sorted(set(config.only) - set(names))
    if unknown:
        raise ConfigError(
            f"only: no plug-in named {', '.join(map(repr, unknown))} "
            f"(plug-ins: {', '.join(sorted(set(names)))})"
        )
    if not set(config.disable) - set(names):
        return
    # a command that runs fewer plug-ins (sbom) still accepts the name of any registered one
    known = {*names, *(make().name for make in CATALOGERS)}
    known |= {make(config).name for make in ANALYZERS}
    unknown = sorted(set(config.disable) - known)
    if unknown:
        raise ConfigError(
            f"disable: no plug-in named {', '.join(map(repr, unknown))} "
            f"(plug-ins: {', '.join(sorted(known))})"
        )


def _catalog(
    entry: FileEntry,
    catalogers: Iterable[Cataloger],
    components: list[Component],
    analysis: Analysis,
    failures: dict[str, str],
    budget: float,
) -> None:
    for cataloger in catalogers:
        try:
            if not cataloger.accepts(entry):  # cheap by contract: outside the budget
                continue
            with time_budget(budget):
                components.extend(cataloger.catalog(entry))
        except BudgetExceeded as over:
            analysis.issues.append(over_budget(cataloger.name, entry.location, over, "catalog"))
        except Exception as error:
            record_failure(analysis, failures, cataloger.name, entry.location, error, "catalog")


def whole_exam_budget(per_file: float, inventory: int) -> float:
    """CPU seconds a plug-in's step after the walk may take: the per-file budget for every
    1,000 files and components (at least one), since that step goes over all of them."""
    return per_file * max(1.0, inventory / 1000)


def _whole_exam_step(
    name: str,
    stage: str,
    step: Callable[[], T],
    budget: float,
    analysis: Analysis,
    failures: dict[str, str],
) -> T | None:
    """A plug-in's ``finish``: its result, or None and an Issue when it fails or overruns."""
    try:
        with time_budget(budget):
            return step()
    except BudgetExceeded as over:
        issue = over_budget(name, None, over, stage)
        failures.setdefault(name, issue.message)
        analysis.issues.append(issue)
    except Exception as error:
        record_failure(analysis, failures, name, None, error, stage)
    return None


def _issue_key(issue: Issue) -> tuple[str, str, str]:
    return (str(issue.location) if issue.location else "", issue.stage, issue.message)


def merge_components(components: Iterable[Component]) -> list[Component]:
    """One component per identity; every location and every cataloger that saw it is kept."""
    by_id: dict[str, Component] = {}
    for component in components:
        current = by_id.get(component.id)
        if current is None:
            by_id[component.id] = component
            continue
        best = current
        if _CONFIDENCE_RANK[component.confidence] > _CONFIDENCE_RANK[current.confidence] or (
            current.declared and not component.declared
        ):
            best = component
        by_id[component.id] = replace(
            best,
            locations=tuple(sorted(set(current.locations) | set(component.locations))),
            found_by=tuple(sorted(set(current.found_by) | set(component.found_by))),
            evidence=tuple(sorted(set(current.evidence) | set(component.evidence))),
            hashes=tuple(sorted(set(current.hashes) | set(component.hashes))),
            licenses=best.licenses or current.licenses or component.licenses,
            dependencies=tuple(
                sorted(
                    set(current.dependencies) | set(component.dependencies),
                    key=lambda d: (d.target, d.kind, d.requirement or ""),
                )
            ),
            supplier=best.supplier or current.supplier or component.supplier,
            cpe=best.cpe or current.cpe or component.cpe,
            description=best.description or current.description or component.description,
            confidence=max(
                current.confidence, component.confidence, key=lambda c: _CONFIDENCE_RANK[c]
            ),
            declared=current.declared and component.declared,
        )
    return sorted(
        by_id.values(), key=lambda c: (c.ecosystem, c.name.lower(), c.version or "", c.id)
    )


def dedupe_findings(findings: Iterable[Finding]) -> list[Finding]:
    by_fingerprint: dict[str, Finding] = {}
    for finding in findings:
        by_fingerprint.setdefault(finding.fingerprint, finding)
    return sorted(
        by_fingerprint.values(),
        key=lambda f: (
            -f.severity.rank,
            f.kind.value,
            f.rule_id,
            str(f.location) if f.location else "",
            f.fingerprint,
        ),
    )


def merge_indicators(indicators: Iterable[Indicator]) -> list[Indicator]:
    """One indicator per (kind, value), the first seen, with every location it was seen at."""
    first: dict[tuple[str, str], Indicator] = {}
    locations: dict[tuple[str, str], set[Location]] = {}
    for indicator in indicators:
        key = (indicator.kind, indicator.value)
        first.setdefault(key, indicator)
        locations.setdefault(key, set()).update(indicator.locations)
    return [
        replace(first[key], locations=tuple(sorted(locations[key])))
        for key in sorted(first, key=lambda k: (first[k].kind, first[k].value))
    ]
