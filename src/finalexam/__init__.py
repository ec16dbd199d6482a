"""finalexam: a final exam for built software packages before they ship."""

from __future__ import annotations

import os as _os
import sys as _sys

# ``python -m finalexam`` puts the working directory first on the import path (sys.argv[0]
# is "-m" while the package loads): run from inside an unpacked package, the exam would
# import that package's modules in place of the standard library's (a pathlib.py, a
# zipfile.py). Removed before anything else is imported; ``python -P`` and the
# ``finalexam`` command never add it.
if _sys.argv[:1] == ["-m"] and _sys.path[:1] in ([""], [_os.getcwd()]):
    del _sys.path[0]

from pathlib import Path
from typing import TYPE_CHECKING

from finalexam.version import __version__

if TYPE_CHECKING:
    from finalexam.config import Config
    from finalexam.diffing.model import ReleaseDiff
    from finalexam.events import EventSink
    from finalexam.model import Report


def scan(path: str | Path, config: Config | None = None, events: EventSink | None = None) -> Report:
    """Examine one artifact (file or directory) and return its Report. Never prints."""
    from finalexam.config import Config
    from finalexam.diffing.baseline import exam_with_baseline
    from finalexam.events import ignore

    return exam_with_baseline(Path(path), config or Config(), events or ignore)


def diff(
    old: str | Path | Report,
    new: str | Path | Report,
    config: Config | None = None,
    events: EventSink | None = None,
) -> ReleaseDiff:
    """Compare two releases: artifacts, stored JSON reports (detected by content) or Reports."""
    from finalexam.diffing.api import diff as release_diff
    from finalexam.events import ignore

    return release_diff(old, new, config, events or ignore)


def load_report(path: str | Path) -> Report:
    """Read a JSON report written by ``finalexam scan -o json`` back into a Report."""
    from finalexam.report.load import load_report as load

    return load(path)


__all__ = ["__version__", "diff", "load_report", "scan"]
