"""The offline vulnerability database: OSV records in one indexed SQLite file.

``records`` holds each OSV record (compressed JSON) by id; ``packages`` indexes every
affected package by (base ecosystem, normalised name) so a lookup is one indexed query;
``aliases`` indexes the ids each record says are the same vulnerability (``aliases`` and
``upstream``), so the ratings of every alias of an advisory can be found.
The file is only ever replaced whole (see ``update.py``), so readers never see a half
written database.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from finalexam.errors import FinalexamError

try:
    import orjson

    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is optional
    import json

    def loads(data: bytes | str) -> Any:
        return json.loads(data)


SCHEMA_VERSION = "3"
_CHUNK = 500  # bound parameters per query (SQLite allows 999 on old builds)
DB_FILENAME = "osv.sqlite3"
# The finding an exam raises when it used a database older than ``db_max_age_days``.
STALE_DATABASE_RULE = "vulnerabilities.stale-database"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,
    updated TEXT NOT NULL,
    records INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    invalid INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    digest TEXT NOT NULL,
    malicious INTEGER NOT NULL,
    source TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS packages (
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    record_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS packages_by_name ON packages (ecosystem, name);
CREATE INDEX IF NOT EXISTS packages_by_record ON packages (record_id);
CREATE TABLE IF NOT EXISTS aliases (name TEXT NOT NULL, record_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_by_name ON aliases (name);
CREATE INDEX IF NOT EXISTS aliases_by_record ON aliases (record_id);
"""


def same_vulnerability(record: Mapping[str, Any]) -> list[str]:
    """Ids a record says are the same vulnerability: its ``aliases``, and the ``upstream``
    ids a distribution's record derives from (DEBIAN-CVE-2023-0286 from CVE-2023-0286)."""
    names: list[str] = []
    for key in ("aliases", "upstream"):
        values = record.get(key)
        if isinstance(values, list):
            names += [v for v in values if isinstance(v, str) and v]
    return names


class DatabaseError(FinalexamError):
    """The vulnerability database is missing, unreadable or from another version."""

    exit_code = 3


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("finalexam")) / DB_FILENAME


def resolve_db_path(configured: str | None) -> Path:
    """``--db`` / ``FINALEXAM_DB`` / ``db`` in the config file, else the user cache dir."""
    return Path(configured).expanduser() if configured else default_db_path()


def compress(data: bytes) -> bytes:
    """Records are stored as raw deflate streams (the same bytes an OSV zip holds)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def decompress(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SourceStatus:
    source: str
    updated: str
    records: int
    withdrawn: int
    invalid: int


@dataclass(frozen=True)
class DatabaseStatus:
    path: str
    schema: str
    updated: str | None
    records: int
    malicious: int
    by_ecosystem: Mapping[str, int]
    sources: tuple[SourceStatus, ...]

    def age_days(self, now: datetime | None = None) -> float | None:
        if not self.updated:
            return None
        then = datetime.strptime(self.updated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return ((now or datetime.now(UTC)) - then).total_seconds() / 86400


class VulnDatabase:
    """Read-only access to a built database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise DatabaseError(
                "no vulnerability database: run `finalexam db update`", path=str(path)
            )
        try:
            self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.DatabaseError as error:
            raise DatabaseError(f"not a vulnerability database ({error})", path=str(path)) from None
        if row is None or row[0] != SCHEMA_VERSION:
            found = row[0] if row else "none"
            raise DatabaseError(
                f"database schema {found}, expected {SCHEMA_VERSION}: run `finalexam db update`",
                path=str(path),
            )
        self._record = lru_cache(maxsize=16384)(self._load_record)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> VulnDatabase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def record_ids(self, ecosystem: str, name: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT DISTINCT record_id FROM packages WHERE ecosystem = ? AND name = ? "
            "ORDER BY record_id",
            (ecosystem, name),
        ).fetchall()
        return [row[0] for row in rows]

    def record_ids_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """``record_ids`` for many (ecosystem, name) pairs in a few queries."""
        by_ecosystem: dict[str, set[str]] = {}
        for ecosystem, name in keys:
            by_ecosystem.setdefault(ecosystem, set()).add(name)
        found: dict[tuple[str, str], set[str]] = {}
        for ecosystem, names in sorted(by_ecosystem.items()):
            ordered = sorted(names)
            for start in range(0, len(ordered), _CHUNK):
                chunk = ordered[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                query = "SELECT name, record_id FROM packages WHERE ecosystem = ? AND name IN "
                rows = self._conn.execute(f"{query}({marks})", (ecosystem, *chunk))
                for name, record_id in rows:
                    found.setdefault((ecosystem, name), set()).add(record_id)
        return {key: sorted(ids) for key, ids in found.items()}

    def records_many(self, record_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ordered = sorted(set(record_ids))
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(f"SELECT id, data FROM records WHERE id IN ({marks})", chunk)
            for record_id, data in rows:
                out[record_id] = loads(decompress(data))
        return out

    def records_naming(self, names: Iterable[str]) -> dict[str, list[str]]:
        """For each name, the records that list it among their aliases or upstream ids."""
        ordered = sorted(set(names))
        found: dict[str, list[str]] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT name, record_id FROM aliases WHERE name IN ({marks})"
            for name, record_id in self._conn.execute(query, chunk):
                found.setdefault(name, []).append(record_id)
        return {name: sorted(ids) for name, ids in found.items()}

    def record_digests(self, record_ids: Iterable[str]) -> dict[str, str]:
        """Each record's content digest: what changes when the record is rewritten."""
        ordered = sorted(set(record_ids))
        out: dict[str, str] = {}
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT id, digest FROM records WHERE id IN ({marks})"
            out.update(self._conn.execute(query, chunk).fetchall())
        return out

    def _load_record(self, record_id: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT data FROM records WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            return None
        record: dict[str, Any] = loads(decompress(row[0]))
        return record

    def record(self, record_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._record(record_id)
        return result

    def status(self) -> DatabaseStatus:
        conn = self._conn
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        records, malicious = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(malicious), 0) FROM records"
        ).fetchone()
        by_ecosystem = dict(
            conn.execute(
                "SELECT ecosystem, COUNT(DISTINCT record_id) FROM packages "
                "GROUP BY ecosystem ORDER BY ecosystem"
            ).fetchall()
        )
        sources = tuple(
            SourceStatus(*row)
            for row in conn.execute(
                "SELECT source, updated, records, withdrawn, invalid FROM sources ORDER BY source"
            ).fetchall()
        )
        return DatabaseStatus(
            path=str(self.path),
            schema=meta.get("schema", ""),
            updated=meta.get("updated"),
            records=int(records),
            malicious=int(malicious),
            by_ecosystem=by_ecosystem,
            sources=sources,
        )


def open_database(configured: str | None) -> VulnDatabase:
    return VulnDatabase(resolve_db_path(configured))
