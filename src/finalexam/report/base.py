"""Reporter protocol: one Report in, bytes out. Selected with ``-o FORMAT[=FILE]``."""

from __future__ import annotations

import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from finalexam.errors import UsageError
from finalexam.model import Issue, Report
from finalexam.plugins import Plugin


@dataclass(frozen=True)
class RenderOptions:
    files: bool = False  # full file list in the JSON document
    timestamp: str | None = None  # ISO 8601, only when asked for (reproducible otherwise)
    color: bool = False
    width: int = 100
    timings: bool = False  # stage durations in the JSON document (they differ run to run)


class Reporter(Plugin, Protocol):
    name: str
    description: str

    def render(self, report: Report, options: RenderOptions) -> bytes: ...


@dataclass(frozen=True)
class OutputSpec:
    format: str
    path: str | None  # None: standard output


def parse_output(spec: str, known: set[str]) -> OutputSpec:
    name, _, path = spec.partition("=")
    name = name.strip()
    if name not in known:
        raise UsageError(f"unknown output format {name!r} (known: {', '.join(sorted(known))})")
    return OutputSpec(name, path or None)


def check_output_target(path: str | Path) -> bool:
    """Whether ``path`` is written through (a FIFO, a terminal or another character device,
    or a link to one, such as /dev/stdout) rather than replaced; raises UsageError for what
    must not be written at all (a link to a file, a directory, a block device, a socket).

    Only a regular file (or a name that does not exist yet) is replaced atomically: replacing
    anything else, as root, would swap a device or a link for a plain file."""
    destination = Path(path)
    try:
        info = os.lstat(destination)
    except FileNotFoundError:
        directory = destination.parent if str(destination.parent) else Path(".")
        if not directory.is_dir():
            raise UsageError("output directory does not exist", path=str(directory)) from None
        return False
    if stat.S_ISREG(info.st_mode):
        return False
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(destination)
        except OSError:
            raise UsageError(
                "output is a dangling symbolic link: not written", path=str(path)
            ) from None
        if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
            return True
        raise UsageError(
            "output is a symbolic link: not written (name the file itself)", path=str(path)
        )
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        return True
    raise UsageError(
        "output is not a regular file, FIFO or character device: not written", path=str(path)
    )


def write_atomically(path: str | Path, data: bytes, mode: int | None = None) -> None:
    """Write next to the destination, then rename: readers never see half a report. A FIFO
    or character device (``/dev/stdout``) is written through instead, never replaced.

    ``mode``: the file's permissions from its first byte on (e.g. 0o600 for a private key);
    by default an ordinary file (0666 less the umask)."""
    destination = Path(path)
    if check_output_target(destination):
        fd = os.open(destination, os.O_WRONLY | os.O_NOCTTY)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return
    directory = destination.parent if str(destination.parent) else Path(".")
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{destination.name}.", suffix=".tmp")
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # an ordinary file, not mkstemp's private 0600
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, destination)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def gaps_summary(report: Report) -> str:
    """Why the exam is incomplete, in one line: how many gaps of which kinds."""
    counts = Counter(issue.kind.value for issue in report.gaps)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    return f"{len(report.gaps)} part(s) of the artifact not examined ({kinds})"


def issue_line(issue: Issue) -> str:
    """One issue as text: ``[kind] location: message``."""
    where = f"{issue.location}: " if issue.location else ""
    return f"[{issue.kind.value}] {where}{issue.message}"
