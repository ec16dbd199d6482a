"""The portfolio store: every write is one transaction, acknowledged only once committed."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from finalexam.errors import UsageError
from finalexam.model import Report
from finalexam.store import schema as t
from finalexam.store.engine import StoreError, describe_url, open_engine, resolve_store_url
from finalexam.store.records import (
    Exposure,
    component_row,
    dependency_rows,
    pack_report,
    report_exposures,
    report_status,
    utc_now,
)

_BATCH = 1000
ROLES = ("read", "admin")


@dataclass(frozen=True)
class StoredExam:
    release_id: int
    exam_id: int
    product: str
    version: str
    status: str
    exposures: int


@dataclass(frozen=True)
class Attestation:
    """An attestation of the exam, as written (``scan --attest``) or as received."""

    format: str
    data: bytes
    origin: str = "signed here"


@dataclass(frozen=True)
class WaiverInput:
    reason: str
    release_id: int | None = None
    product: str | None = None
    rule_id: str | None = None
    purl: str | None = None
    fingerprint: str | None = None
    path: str | None = None
    expires: str | None = None
    approved_by: str | None = None


def insert_ignoring_conflict(
    connection: Connection, table: Table, values: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """Insert rows, skipping those a unique key already holds (concurrent writers agree)."""
    if not values:
        return
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        connection.execute(postgresql.insert(table).on_conflict_do_nothing(), values)
    else:
        from sqlalchemy.dialects import sqlite

        connection.execute(sqlite.insert(table).on_conflict_do_nothing(), values)


def sync_exposures(
    connection: Connection,
    release_id: int,
    current: Sequence[Exposure],
    run_id: int | None,
    reason: str,
) -> tuple[list[Exposure], list[dict[str, Any]]]:
    """Make the release's open exposures equal ``current``; return (opened, closed rows).

    An open exposure stays open when the same component is matched by the same advisory or
    by a record that names it as an alias (a GHSA added for a known CVE is not news).
    """
    rows = connection.execute(
        select(t.exposures).where(
            and_(t.exposures.c.release_id == release_id, t.exposures.c.state == "open")
        )
    ).mappings()
    open_rows = list(rows)
    unmatched = {row["id"]: row for row in open_rows}
    opened: list[Exposure] = []
    for item in current:
        names = set(item.ids)
        match = next(
            (
                row
                for row in unmatched.values()
                if row["component"] == item.component
                and (row["advisory"] == item.advisory or names & set(row["ids"].split()))
            ),
            None,
        )
        if match is None:
            opened.append(item)
            continue
        del unmatched[match["id"]]
        changes = {k: v for k, v in item.row().items() if match[k] != v}
        if changes:
            connection.execute(
                update(t.exposures).where(t.exposures.c.id == match["id"]).values(**changes)
            )
    if opened:
        connection.execute(
            insert(t.exposures),
            [
                item.row() | {"release_id": release_id, "state": "open", "opened_run": run_id}
                for item in opened
            ],
        )
    closed = list(unmatched.values())
    for row in closed:
        connection.execute(
            update(t.exposures)
            .where(t.exposures.c.id == row["id"])
            .values(state="closed", closed_run=run_id, closed_reason=reason)
        )
    return opened, [dict(row) for row in closed]


class Store:
    """A portfolio of exams in SQLite or PostgreSQL (the same code for both)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = resolve_store_url(url)
        self.engine: Engine = open_engine(self.url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def description(self) -> str:
        return describe_url(self.url)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction: committed on a normal exit, rolled back on any error."""
        try:
            with self.engine.connect() as raw:
                connection = raw.execution_options(finalexam_write=True)
                with connection.begin():
                    yield connection
        except DBAPIError as error:
            raise StoreError(
                f"store {self.description}: write failed, nothing was stored: "
                f"{_first_line(error.orig)}"
            ) from None

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except DBAPIError as error:
            raise StoreError(
                f"store {self.description}: read failed: {_first_line(error.orig)}"
            ) from None

    # -- exams ---------------------------------------------------------------------------

    def add_exam(
        self,
        report: Report,
        product: str,
        version: str,
        source: str,
        policy_snapshot: str,
        attestations: Sequence[Attestation] = (),
    ) -> StoredExam:
        """Keep an exam (and its attestations) as the current one of release (product, version)."""
        if not product or not version:
            raise UsageError("a stored exam needs a product and a version")
        now = utc_now()
        status = report_status(report)
        violations = len(report.verdict.violations)
        digest = hashlib.sha256(policy_snapshot.encode("utf-8")).hexdigest()
        packed = pack_report(report)  # all the work that can be done outside the lock
        rows = [component_row(c) for c in report.components]
        dependencies = dependency_rows(report.components)
        exposures = report_exposures(report)
        with self.writing() as connection:
            insert_ignoring_conflict(
                connection, t.policies, {"digest": digest, "snapshot": policy_snapshot}
            )
            insert_ignoring_conflict(
                connection,
                t.releases,
                {
                    "product": product,
                    "version": version,
                    "source": source,
                    "status": status,
                    "violations": violations,
                    "policy_digest": digest,
                    "dirty": False,
                    "created_at": now,
                },
            )
            release_id = connection.execute(
                select(t.releases.c.id).where(
                    and_(t.releases.c.product == product, t.releases.c.version == version)
                )
            ).scalar_one()
            artifact = report.artifact
            exam_id = connection.execute(
                insert(t.exams)
                .values(
                    release_id=release_id,
                    artifact_name=artifact.name,
                    artifact_sha256=artifact.sha256,
                    artifact_size=artifact.size,
                    artifact_kind=artifact.kind,
                    source=source,
                    tool_version=report.tool_version,
                    status=status,
                    report=packed,
                    stored_at=now,
                )
                .returning(t.exams.c.id)
            ).scalar_one()
            for row in (*rows, *dependencies):
                row["exam_id"] = exam_id
            for start in range(0, len(rows), _BATCH):
                connection.execute(insert(t.components), rows[start : start + _BATCH])
            if dependencies:
                connection.execute(insert(t.dependency_names), dependencies)
            for attestation in attestations:
                connection.execute(
                    insert(t.attestations).values(
                        exam_id=exam_id,
                        format=attestation.format,
                        origin=attestation.origin,
                        sha256=hashlib.sha256(attestation.data).hexdigest(),
                        data=attestation.data,
                        stored_at=now,
                    )
                )
            connection.execute(
                update(t.releases)
                .where(t.releases.c.id == release_id)
                .values(
                    exam_id=exam_id,
                    source=source,
                    status=status,
                    violations=violations,
                    policy_digest=digest,
                    dirty=False,
                    checked_at=now,
                )
            )
            sync_exposures(connection, release_id, exposures, None, "replaced by a new exam")
            connection.execute(
                insert(t.verdicts).values(
                    release_id=release_id,
                    run_id=None,
                    at=now,
                    status=status,
                    violations=violations,
                    reason=f"exam of {artifact.name} ({artifact.sha256[:12] or artifact.kind})",
                )
            )
        return StoredExam(release_id, exam_id, product, version, status, len(exposures))

    # -- waivers -------------------------------------------------------------------------

    def add_waiver(self, waiver: WaiverInput) -> int:
        if not waiver.reason.strip():
            raise UsageError("a waiver needs a reason")
        if not (waiver.rule_id or waiver.purl or waiver.fingerprint or waiver.path):
            raise UsageError("a waiver must match something: rule id, purl, fingerprint or path")
        with self.writing() as connection:
            if waiver.release_id is not None:
                found = connection.execute(
                    select(t.releases.c.id).where(t.releases.c.id == waiver.release_id)
                ).first()
                if found is None:
                    raise UsageError(f"no release with id {waiver.release_id}")
            waiver_id = connection.execute(
                insert(t.waivers)
                .values(
                    release_id=waiver.release_id,
                    product=waiver.product,
                    rule_id=waiver.rule_id,
                    purl=waiver.purl,
                    fingerprint=waiver.fingerprint,
                    path=waiver.path,
                    reason=waiver.reason.strip(),
                    expires=waiver.expires,
                    approved_by=waiver.approved_by,
                    created_at=utc_now(),
                )
                .returning(t.waivers.c.id)
            ).scalar_one()
            self._mark_dirty(connection, waiver.release_id, waiver.product)
        return int(waiver_id)

    def remove_waiver(self, waiver_id: int) -> None:
        with self.writing() as connection:
            row = connection.execute(
                select(t.waivers).where(
                    and_(t.waivers.c.id == waiver_id, t.waivers.c.removed_at.is_(None))
                )
            ).first()
            if row is None:
                raise UsageError(f"no active waiver with id {waiver_id}")
            connection.execute(
                update(t.waivers).where(t.waivers.c.id == waiver_id).values(removed_at=utc_now())
            )
            self._mark_dirty(connection, row.release_id, row.product)

    @staticmethod
    def _mark_dirty(connection: Connection, release_id: int | None, product: str | None) -> None:
        statement = update(t.releases).values(dirty=True)
        if release_id is not None:
            statement = statement.where(t.releases.c.id == release_id)
        elif product is not None:
            statement = statement.where(t.releases.c.product == product)
        connection.execute(statement)

    # -- API tokens ----------------------------------------------------------------------

    def add_token(self, name: str, role: str) -> str:
        """A new random token; only its digest is kept, so it is shown once."""
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        token = "fxt_" + secrets.token_urlsafe(32)
        try:
            with self.writing() as connection:
                connection.execute(
                    insert(t.api_tokens).values(
                        name=name, role=role, digest=token_digest(token), created_at=utc_now()
                    )
                )
        except IntegrityError:  # pragma: no cover - 256 random bits
            raise StoreError("token collision, try again") from None
        return token

    def token_role(self, token: str) -> str | None:
        with self.reading() as connection:
            role = connection.execute(
                select(t.api_tokens.c.role).where(t.api_tokens.c.digest == token_digest(token))
            ).scalar_one_or_none()
        return str(role) if role is not None else None

    def has_tokens(self) -> bool:
        with self.reading() as connection:
            return connection.execute(select(t.api_tokens.c.id).limit(1)).first() is not None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _first_line(error: object) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
