"""The vulnerability database an exam uses: found, or fetched on first use (as grype and trivy
do), never silently absent.

Only the default database (the user cache directory) is fetched, and only when it does not
exist yet: a database named with ``--db`` is the user's, and ``--offline`` forbids any network
access. Whatever stops the exam from having a database becomes a ``problem``, which the
vulnerabilities analyzer turns into a ``database`` Issue (the exam is then incomplete).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finalexam.config import Config
from finalexam.errors import FinalexamError
from finalexam.vuln.sources import default_sources
from finalexam.vuln.store import resolve_db_path
from finalexam.vuln.update import update_database


@dataclass(frozen=True)
class DatabaseProvision:
    path: Path
    problem: str | None = None  # why there is no database to use
    fetched: bool = False  # downloaded by this run


def provide_database(config: Config, notify: Callable[[str], None]) -> DatabaseProvision:
    """The database for this exam, fetched first when it is the default one and missing."""
    path = resolve_db_path(config.db)
    if path.is_file():
        return DatabaseProvision(path)
    if path.exists():
        return DatabaseProvision(path, f"vulnerability database {path} is not a file")
    if config.db is not None:
        return DatabaseProvision(
            path,
            f"no vulnerability database at {path} (named by db): "
            f"run `finalexam db update --db {path}`",
        )
    if config.offline:
        return DatabaseProvision(
            path,
            "no vulnerability database, and --offline forbids fetching one: "
            "run `finalexam db update` while online (or name one with --db)",
        )
    sources = default_sources(config.db_mirror)
    notify(
        f"no vulnerability database yet: fetching OSV data for {len(sources)} ecosystems "
        f"into {path} (first use; --offline to forbid)"
    )
    try:
        update_database(path, sources, notify)
    except FinalexamError as error:
        return DatabaseProvision(path, f"could not fetch the vulnerability database: {error}")
    except OSError as error:
        reason = error.strerror or str(error)
        return DatabaseProvision(path, f"could not store the vulnerability database: {reason}")
    return DatabaseProvision(path, fetched=True)
