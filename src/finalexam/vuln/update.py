"""``db update``: stream OSV records from their sources into a fresh copy of the database,
then swap it in.

Sources (``finalexam.vuln.sources``): the official per-ecosystem ``all.zip`` over HTTP(S)
(OSV's public bucket by default), a local zip, a directory (``*.json`` records and ``*.zip``
exports, recursively) or a single JSON record. The update is incremental: a record is
rewritten only when its ``modified`` time is newer or its content changed. Withdrawn records
are dropped. Nothing touches the live file until the new one is complete (``os.replace``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from finalexam.vuln.sources import SourceError, Validators, default_sources, open_source
from finalexam.vuln.store import (
    SCHEMA,
    SCHEMA_VERSION,
    compress,
    loads,
    same_vulnerability,
    utc_now,
)
from finalexam.vuln.versions import base_ecosystem, normalize_name

_BATCH = 2000


@dataclass
class SourceResult:
    source: str
    seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    invalid: int = 0
    not_modified: bool = False  # HTTP 304: the export did not change since the last update
    invalid_names: list[str] = field(default_factory=list)


@dataclass
class UpdateResult:
    path: Path
    sources: list[SourceResult]
    records: int

    @property
    def invalid(self) -> int:
        return sum(s.invalid for s in self.sources)


Progress = Callable[[str], None]


# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    record_id: str
    modified: str
    withdrawn: bool
    malicious: bool
    packages: tuple[tuple[str, str], ...]
    aliases: tuple[str, ...]


def _parse(raw: bytes) -> _Parsed | None:
    try:
        record = loads(raw)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        return None
    record_id: str = record["id"]
    packages: set[tuple[str, str]] = set()
    for affected in record.get("affected") or []:
        package = affected.get("package") if isinstance(affected, dict) else None
        if not isinstance(package, dict):
            continue
        ecosystem, name = package.get("ecosystem"), package.get("name")
        if isinstance(ecosystem, str) and isinstance(name, str) and name:
            packages.add((base_ecosystem(ecosystem), normalize_name(ecosystem, name)))
    return _Parsed(
        record_id=record_id,
        modified=str(record.get("modified") or ""),
        withdrawn=bool(record.get("withdrawn")),
        malicious=record_id.startswith("MAL-"),
        packages=tuple(sorted(packages)),
        aliases=tuple(sorted(set(same_vulnerability(record)))),
    )


class _Writer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.known: dict[str, tuple[str, str]] = {
            row[0]: (row[1], row[2])
            for row in conn.execute("SELECT id, modified, digest FROM records")
        }
        self.digests = {digest for _, digest in self.known.values()}
        self.records: list[tuple[str, str, str, int, str, bytes]] = []
        self.packages: list[tuple[str, str, str]] = []
        self.aliases: list[tuple[str, str]] = []
        self.deleted: list[str] = []

    def add(
        self, raw: bytes, source: str, result: SourceResult, name: str, stored: bytes | None
    ) -> None:
        result.seen += 1
        digest = hashlib.sha256(raw).hexdigest()[:32]
        if digest in self.digests:  # byte-identical to what is stored: nothing to parse
            result.unchanged += 1
            return
        parsed = _parse(raw)
        if parsed is None:
            result.invalid += 1
            if len(result.invalid_names) < 5:
                result.invalid_names.append(name)
            return
        current = self.known.get(parsed.record_id)
        if parsed.withdrawn:
            result.withdrawn += 1
            if current is not None:
                self.deleted.append(parsed.record_id)
                del self.known[parsed.record_id]
            return
        if current is not None:
            if current[0] > parsed.modified:
                result.unchanged += 1
                return
            self.deleted.append(parsed.record_id)
            result.updated += 1
        else:
            result.added += 1
        self.known[parsed.record_id] = (parsed.modified, digest)
        self.digests.add(digest)
        self.records.append(
            (
                parsed.record_id,
                parsed.modified,
                digest,
                int(parsed.malicious),
                source,
                compress(raw),
            )
        )
        self.packages.extend((eco, name, parsed.record_id) for eco, name in parsed.packages)
        self.aliases.extend((name, parsed.record_id) for name in parsed.aliases)
        if len(self.records) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.deleted:
            ids = [(i,) for i in self.deleted]
            self.conn.executemany("DELETE FROM records WHERE id = ?", ids)
            self.conn.executemany("DELETE FROM packages WHERE record_id = ?", ids)
            self.conn.executemany("DELETE FROM aliases WHERE record_id = ?", ids)
            self.deleted = []
        self.conn.executemany(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)", self.records
        )
        self.conn.executemany("INSERT INTO packages VALUES (?, ?, ?)", self.packages)
        self.conn.executemany("INSERT INTO aliases VALUES (?, ?)", self.aliases)
        self.records, self.packages, self.aliases = [], [], []


def update_database(
    path: Path, sources: Sequence[str] | None = None, progress: Progress | None = None
) -> UpdateResult:
    """Import ``sources`` (default: OSV's public export) into the database at ``path``."""
    sources = list(sources) if sources else default_sources()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temp = Path(temp_name)
    os.chmod(temp, 0o644)
    try:
        if path.is_file():
            shutil.copyfile(path, temp)
        conn = sqlite3.connect(temp)
        try:
            result = _import(conn, path.parent, sources, progress)
        finally:
            conn.close()
        os.replace(temp, path)
    except sqlite3.DatabaseError as error:
        raise SourceError(f"cannot update the database ({error})", path=str(path)) from None
    finally:
        temp.unlink(missing_ok=True)
    result.path = path
    return result


def _import(
    conn: sqlite3.Connection, workdir: Path, sources: list[str], progress: Progress | None
) -> UpdateResult:
    conn.execute("PRAGMA journal_mode = OFF")  # the temp file is thrown away on failure
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(SCHEMA)
    schema = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if schema is not None and schema[0] != SCHEMA_VERSION:
        conn.executescript(
            "DELETE FROM records; DELETE FROM packages; DELETE FROM aliases; DELETE FROM sources;"
        )
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
    writer = _Writer(conn)
    results: list[SourceResult] = []
    for source in sources:
        if progress:
            progress(f"importing {source}")
        results.append(_import_source(conn, writer, workdir, source))
    writer.flush()
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('updated', ?)", (utc_now(),))
    conn.commit()
    total = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    if any(r.updated or r.withdrawn for r in results):
        conn.execute("VACUUM")  # reclaim the space of replaced records
    return UpdateResult(path=workdir, sources=results, records=int(total))


def _import_source(
    conn: sqlite3.Connection, writer: _Writer, workdir: Path, location: str
) -> SourceResult:
    result = SourceResult(location)
    row = conn.execute(
        "SELECT etag, last_modified FROM sources WHERE source = ?", (location,)
    ).fetchone()
    previous = Validators(*row) if row else Validators()
    with open_source(location).fetch(workdir, previous) as fetched:
        if fetched is None:
            result.not_modified = True
            return result
        for name, raw, stored in fetched.members:
            writer.add(raw, location, result, name, stored)
    conn.execute(
        "INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            location,
            utc_now(),
            result.seen - result.withdrawn - result.invalid,
            result.withdrawn,
            result.invalid,
            fetched.validators.etag,
            fetched.validators.last_modified,
        ),
    )
    return result


def summarize(result: UpdateResult) -> list[str]:
    lines = []
    for source in result.sources:
        if source.not_modified:
            lines.append(f"{source.source}: not modified")
            continue
        line = (
            f"{source.source}: {source.seen} records, {source.added} added, "
            f"{source.updated} updated, {source.unchanged} unchanged, "
            f"{source.withdrawn} withdrawn ignored"
        )
        if source.invalid:
            line += f", {source.invalid} invalid skipped (e.g. {source.invalid_names[0]})"
        lines.append(line)
    return lines
