"""Known vulnerabilities and known-malicious packages: every component against the OSV DB.

Runs once after the walk (``finish``). Without a database the exam goes on: one notice
says so and the report's ``vulnerability_db`` section records it; the exit code is unchanged.
During the walk it reads one thing per file: the functions each Go binary links, so that a
Go advisory whose vulnerable functions a binary does not link is reported as not reachable.
"""

from __future__ import annotations

from typing import Any

from finalexam.analyze.base import Analysis, Carried, ExamState
from finalexam.catalog.binformat import parse
from finalexam.catalog.golang import MAGIC as GO_BUILD_INFO
from finalexam.config import Config
from finalexam.events import Notice
from finalexam.formats.gopclntab import GoSymbols, go_symbols
from finalexam.model import FileEntry, FileType, Location
from finalexam.vuln.db import DatabaseError, VulnDatabase, resolve_db_path
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import FOUND_BY, Matcher

REPORT_KEY = "vulnerability_db"


class VulnerabilityAnalyzer:
    name = FOUND_BY

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
        path = resolve_db_path(self.config.db)
        try:
            database = VulnDatabase(path)
        except DatabaseError as error:
            missing = not path.exists()
            message = (
                "no vulnerability database: run `finalexam db update` (vulnerabilities not checked)"
                if missing
                else f"vulnerability database unusable: {error} (vulnerabilities not checked)"
            )
            state.events(Notice(message))
            section: dict[str, Any] = {
                "status": "missing" if missing else "unusable",
                "path": str(path),
                "message": message,
            }
            return Analysis(extra={REPORT_KEY: section})
        with database:
            status = database.status()
            age = status.age_days()
            stale = age is not None and age > self.config.db_max_age_days
            if stale:
                state.events(
                    Notice(
                        f"warning: vulnerability database is {age:.0f} days old "
                        f"(db_max_age_days={self.config.db_max_age_days}): "
                        "run `finalexam db update`"
                    )
                )
            tables: dict[Location, GoSymbols | None] = dict(state.carried_by(self.name))
            matcher = Matcher(database, tables)
            findings = matcher.match_all(state.components)
            dependencies = malicious_dependencies(database, state.components)
        stats = matcher.stats
        section = {
            "status": "stale" if stale else "ok",
            "path": str(path),
            "updated": status.updated,
            "records": status.records,
            "components_checked": stats.checked,
            "components_unsupported": stats.unsupported,
            "components_without_version": stats.without_version,
            "vulnerable_components": stats.vulnerable,
            "malicious_components": stats.malicious,
            "malicious_dependencies": len(dependencies),
        }
        return Analysis(findings=[*findings, *dependencies], extra={REPORT_KEY: section})


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
