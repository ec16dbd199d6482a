"""Known vulnerabilities and known-malicious packages: every component against the OSV DB.

Runs once after the walk (``finish``). The database is part of the exam: the exam provides it
before the walk (fetched on first use, see vuln/provision.py), and when there is none to use
(missing, offline, unreadable, not a database) a ``database`` Issue makes the exam incomplete,
unless the user disables this analyzer. A database older than ``db_max_age_days`` is a
``vulnerabilities.stale-database`` finding, which the ``stale-database`` policy check warns on.
During the walk it reads one thing per file: the functions each Go binary links, so that a
Go advisory whose vulnerable functions a binary does not link is reported as not reachable.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from finalexam.analyze.base import Analysis, Carried, ExamState
from finalexam.catalog.golang import MAGIC as GO_BUILD_INFO
from finalexam.config import Config
from finalexam.events import Notice
from finalexam.failures import Isolation
from finalexam.formats.binformat import parse
from finalexam.formats.gopclntab import GoSymbols, go_symbols
from finalexam.model import (
    Component,
    Confidence,
    Evidence,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Issue,
    IssueKind,
    Location,
    Severity,
)
from finalexam.requirements import CATALOGERS, VULNERABILITY_DB
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import FOUND_BY, Matcher
from finalexam.vuln.provision import DatabaseProvision, provide_database
from finalexam.vuln.store import STALE_DATABASE_RULE, DatabaseError, VulnDatabase

REPORT_KEY = "vulnerability_db"
_SHOWN_VERSION = 40  # characters of a component version quoted in an Issue


class VulnerabilityAnalyzer:
    name = FOUND_BY
    version = "1.0"
    wants = ("elf", "pe", "macho")  # Go symbols for reachability; matching reads components
    requires = (CATALOGERS, VULNERABILITY_DB)

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return entry.file_type in (FileType.ELF, FileType.PE, FileType.MACHO)

    def analyze(self, entry: FileEntry) -> Analysis:
        if not _is_go(entry):
            return Analysis()
        symbols = go_symbols(entry.data)
        cost = sum(len(name) for name in symbols.functions) if symbols else 0
        return Analysis(carried=[Carried(self.name, (entry.location, symbols), cost)])

    def finish(self, state: ExamState) -> Analysis:
        provision = state.resources.get(VULNERABILITY_DB)
        if not isinstance(provision, DatabaseProvision):  # run outside an exam
            provision = provide_database(self.config, lambda m: state.events(Notice(m)))
        if provision.problem is not None:
            return _no_database(state, provision, "missing", provision.problem)
        try:
            database = VulnDatabase(provision.path)
        except DatabaseError as error:
            return _no_database(state, provision, "unusable", f"{error}")
        try:
            with database:
                return self._match(state, database, provision)
        except sqlite3.DatabaseError as error:  # a corrupt page shows only when read
            problem = f"{provision.path}: vulnerability database unreadable ({error})"
            return _no_database(state, provision, "unusable", problem)

    def _match(
        self, state: ExamState, database: VulnDatabase, provision: DatabaseProvision
    ) -> Analysis:
        status = database.status()
        age = status.age_days()
        max_age = self.config.db_max_age_days
        stale = age is None or age > max_age
        findings: list[Finding] = []
        if stale:
            # the report names the update time, not the age: the same inputs, the same report
            updated = status.updated or "at an unknown time"
            message = (
                f"the vulnerability database was last updated {updated}, more than "
                f"db_max_age_days={max_age} days ago: advisories published since are not "
                "known to this exam; run `finalexam db update`"
            )
            shown = f"{age:.0f} days old" if age is not None else "of unknown age"
            state.events(Notice(f"warning: the vulnerability database is {shown}: {message}"))
            findings.append(_stale_finding(message, updated, max_age))
        tables: dict[Location, GoSymbols | None] = dict(state.carried_by(self.name))
        matcher = Matcher(database, tables)
        issues: list[Issue] = []
        matcher.prefetch(state.components)
        for component in state.components:
            try:
                findings.extend(matcher.match_component(component))
            except sqlite3.DatabaseError:
                raise
            except Exception as error:  # one bad component never stops the others
                issues.append(_unmatched(component, error))
        undecided = Isolation(FOUND_BY)  # declared dependencies that could not be judged
        dependencies = malicious_dependencies(database, state.components, undecided)
        stats = matcher.stats
        section: dict[str, Any] = {
            "status": "stale" if stale else "ok",
            "path": str(provision.path),
            "updated": status.updated,
            "records": status.records,
            "components_checked": stats.checked,
            "components_unsupported": stats.unsupported,
            "components_without_version": stats.without_version,
            "components_failed": len(issues),
            "vulnerable_components": stats.vulnerable,
            "malicious_components": stats.malicious,
            "malicious_dependencies": len(dependencies),
        }
        issues += undecided.issues
        return Analysis(
            findings=[*findings, *dependencies], issues=issues, extra={REPORT_KEY: section}
        )


def _no_database(
    state: ExamState, provision: DatabaseProvision, status: str, problem: str
) -> Analysis:
    count = len(state.components)
    message = (
        f"{problem}: {count} component(s) not checked for known vulnerabilities or "
        "malicious packages (disable vulnerabilities to examine without them)"
    )
    state.events(Notice(message))
    section = {"status": status, "path": str(provision.path), "message": problem}
    issue = Issue("analyze", None, message, IssueKind.DATABASE, FOUND_BY)
    return Analysis(issues=[issue], extra={REPORT_KEY: section})


def _unmatched(component: Component, error: Exception) -> Issue:
    version = component.version or ""
    if len(version) > _SHOWN_VERSION:
        version = version[:_SHOWN_VERSION] + f"… ({len(component.version or '')} characters)"
    reason = str(error)[:200]
    message = (
        f"{FOUND_BY} failed on {component.name} {version}: {type(error).__name__}: {reason} "
        "(this component not checked)"
    )
    location = component.locations[0] if component.locations else None
    return Issue("analyze", location, message, IssueKind.PLUGIN_FAILED, FOUND_BY)


def _stale_finding(message: str, updated: str, max_age: int) -> Finding:
    return Finding(
        kind=FindingKind.POLICY,
        rule_id=STALE_DATABASE_RULE,
        severity=Severity.INFO,
        title=f"Vulnerability database older than {max_age} days (updated {updated})",
        message=message,
        location=None,
        found_by=FOUND_BY,
        confidence=Confidence.HIGH,
        evidence=Evidence(details={"updated": updated}),
    )


_GO_SECTIONS = (
    ".go.buildinfo",
    ".gopclntab",
    "__DATA,__go_buildinfo",
    "__DATA_CONST,__go_buildinfo",
    "__TEXT,__gopclntab",
)


def _is_go(entry: FileEntry) -> bool:
    """A Go binary: by its linker's sections where the format names them (ELF, Mach-O), else
    (PE, or no section table) by the build-info magic."""
    binary = parse(entry.data)
    if binary is not None and binary.format != "pe" and binary.sections:
        return binary.section(*_GO_SECTIONS) is not None
    return entry.data.find(GO_BUILD_INFO) >= 0
