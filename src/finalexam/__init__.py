"""finalexam: a final exam for built software packages before they ship."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from finalexam.config import Config
    from finalexam.events import EventSink
    from finalexam.model import Report


def scan(path: str | Path, config: Config | None = None, events: EventSink | None = None) -> Report:
    """Examine one artifact (file or directory) and return its Report. Never prints."""
    from finalexam.config import Config
    from finalexam.events import ignore
    from finalexam.exam import run_exam

    return run_exam(Path(path), config or Config(), events or ignore)


__all__ = ["__version__", "scan"]
