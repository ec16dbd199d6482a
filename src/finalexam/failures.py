"""Plug-in failures as Issues: one bad item is recorded and skipped, never the rest with it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from finalexam.model import Issue, IssueKind, Location


def failure_message(plugin: str, error: BaseException, subject: str | None = None) -> str:
    on = f" on {subject}" if subject else ""
    return f"{plugin} failed{on}: {type(error).__name__}: {error}"


@dataclass
class Isolation:
    """Runs a plug-in's work item by item; an item that raises becomes an Issue."""

    plugin: str
    stage: str = "analyze"
    issues: list[Issue] = field(default_factory=list)

    @contextmanager
    def item(self, subject: str, location: Location | None = None) -> Iterator[None]:
        try:
            yield
        except Exception as error:  # a broken item never breaks the others
            message = failure_message(self.plugin, error, subject)
            kind = IssueKind.PLUGIN_FAILED
            self.issues.append(Issue(self.stage, location, message, kind, self.plugin))
