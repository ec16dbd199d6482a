"""Progress on stderr: files, bytes and the current nested path."""

from __future__ import annotations

import sys
import time
from types import TracebackType

from finalexam.cli import signals
from finalexam.events import Event, FileVisited, Notice, StageStarted
from finalexam.redact import neutralize


class ProgressDisplay:
    def __init__(self, enabled: bool) -> None:
        from rich.console import Console  # rich is slow to import: only when shown
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.enabled = enabled
        # member names are shown as they are: never read as markup ([/x]) or emoji codes
        self.console = Console(
            file=sys.stderr, force_terminal=enabled or None, markup=False, emoji=False
        )
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[files]:>7,} files {task.fields[mib]:>9.1f} MiB"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", style="dim", markup=False),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("examining", files=0, mib=0.0, current="")
        self._last = 0.0

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.enabled:
            self.progress.stop()

    def __call__(self, event: Event) -> None:
        signals.check()  # a signal whose exception Python dropped still ends the run here
        if isinstance(event, Notice):
            self.console.print(
                f"finalexam: {neutralize(event.message)}", highlight=False, soft_wrap=True
            )
            return
        if not self.enabled:
            return
        if isinstance(event, StageStarted):
            self.progress.update(self.task, description=event.stage)
        elif isinstance(event, FileVisited):
            now = time.monotonic()
            if now - self._last < 0.05:
                return
            self._last = now
            current = event.location if len(event.location) < 70 else "…" + event.location[-69:]
            self.progress.update(
                self.task, files=event.files, mib=event.bytes_total / 1048576, current=current
            )
