"""The exam's scratch space: one directory per run, removed however the run ends.

A normal end, an exception, SIGINT and SIGTERM (turned into an exception by the CLI) remove
it on the way out. SIGKILL leaves it behind, so each directory carries its owner (pid and
process start time) and every run first removes the directories of owners that are gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from finalexam.errors import ExamError

PREFIX = "finalexam-"
OWNER_FILE = ".owner"
# A directory without an owner file may be one being created right now: left alone unless
# it is older than this (or was made by a version that wrote none).
_UNMARKED_GRACE = 24 * 3600


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells a reused pid apart), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22 of proc(5), counted after comm


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    current = _start_time(pid)
    return started is None or current is None or current == started


def mark_owner(directory: Path) -> None:
    """Record this process as the owner of ``directory``."""
    pid = os.getpid()
    (directory / OWNER_FILE).write_text(f"{pid} {_start_time(pid) or '-'}\n")


def reap_stale(base: Path | None = None) -> list[Path]:
    """Remove scratch directories whose owning run is gone (killed with SIGKILL, a crash of
    the machine); only the current user's. Returns what was removed."""
    base = Path(base or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX):
            continue
        with contextlib.suppress(OSError):
            info = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.getuid():
                continue
            path = Path(entry.path)
            try:
                pid_text, started = (path / OWNER_FILE).read_text().split()
                gone = not _alive(int(pid_text), None if started == "-" else started)
            except FileNotFoundError:
                gone = time.time() - info.st_mtime > _UNMARKED_GRACE
            except ValueError:
                gone = True  # a broken owner file: nobody can own it
            if gone:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


@contextlib.contextmanager
def scratch_directory() -> Iterator[str]:
    """A fresh scratch directory for one run, in TMPDIR, marked with its owner."""
    reap_stale()
    try:
        path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    except OSError as error:
        where = tempfile.gettempdir()
        raise ExamError(
            f"cannot create a scratch directory: {error.strerror}", path=where
        ) from None
    try:
        with contextlib.suppress(OSError):  # unmarked, it is still reaped after a grace time
            mark_owner(path)
        yield str(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
