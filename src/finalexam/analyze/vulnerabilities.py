"""Known vulnerabilities and known-malicious packages: every component against the OSV DB.

Runs once after the walk (``finish``). Without a database the exam goes on: one notice
says so and the report's ``vulnerability_db`` section records it; the exit code is unchanged.
"""

from __future__ import annotations

from typing import Any

from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config
from finalexam.events import Notice
from finalexam.model import FileEntry
from finalexam.vuln.db import DatabaseError, VulnDatabase, resolve_db_path
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import FOUND_BY, Matcher

REPORT_KEY = "vulnerability_db"


class VulnerabilityAnalyzer:
    name = FOUND_BY

    def __init__(self, config: Config) -> None:
        self.config = config

    def accepts(self, entry: FileEntry) -> bool:
        return False  # component-level only: see finish()

    def analyze(self, entry: FileEntry) -> Analysis:
        return Analysis()

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
            matcher = Matcher(database)
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
