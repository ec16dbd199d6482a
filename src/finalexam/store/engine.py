"""Where the store lives and how it is opened: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a commit that returned survives a crash
or a power cut) and takes its write lock up front (``BEGIN IMMEDIATE``) so concurrent
writers queue on the busy timeout instead of failing on a lock upgrade. Migrations run on
open, under a lock (a lock file for SQLite, an advisory lock for PostgreSQL) so several
processes opening a new store at once migrate it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from finalexam.errors import FinalexamError, UsageError

STORE_FILENAME = "portfolio.sqlite3"
BUSY_TIMEOUT_MS = 60_000
_MIGRATION_LOCK_KEY = 0x66696E616C  # PostgreSQL advisory lock id ("final")


class StoreError(FinalexamError):
    """The store cannot be opened, read or written (exit 3: nothing was acknowledged)."""

    exit_code = 3


def default_store_url() -> str:
    import platformdirs

    path = Path(platformdirs.user_data_dir("finalexam")) / STORE_FILENAME
    return f"sqlite:///{path}"


def resolve_store_url(configured: str | None) -> str:
    """``--store-url`` / ``FINALEXAM_STORE_URL``, else SQLite in the user data directory.

    A plain path is a SQLite file; ``postgresql://`` uses the psycopg (3) driver.
    """
    text_url = configured or os.environ.get("FINALEXAM_STORE_URL") or default_store_url()
    if "://" not in text_url:
        return f"sqlite:///{Path(text_url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if text_url.startswith(prefix):
            return "postgresql+psycopg://" + text_url[len(prefix) :]
    return text_url


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid store URL)"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun explicitly below
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("finalexam_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(f"not a store URL: {describe_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            directory = Path(database).parent
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"cannot create the store directory: {error.strerror}") from None
        # Pooled: closing the last connection to a WAL database checkpoints it (fsyncs).
        engine = create_engine(url, pool_size=4, max_overflow=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise UsageError(
                "a PostgreSQL store needs the psycopg driver: pip install 'finalexam[postgresql]'"
            ) from None
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4)
    raise UsageError(f"unsupported store URL (sqlite or postgresql): {describe_url(url)}")


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(config).get_current_head()
    return str(head)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        lock_path = f"{database}.lock" if database and database != ":memory:" else None
        handle = open(lock_path, "a+b") if lock_path else None  # noqa: SIM115
        try:
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_EX)
            with engine.connect() as connection:
                yield connection
        finally:
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
        return
    with engine.connect() as connection:
        connection.execute(text(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_KEY})"))
        connection.commit()
        try:
            yield connection
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_KEY})"))
            connection.commit()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (every shipped migration by default)."""
    from alembic import command

    if revision == "head" and current_revision(engine) == head_revision():
        return
    with _migration_lock(engine) as connection:
        command.upgrade(_alembic_config(connection), revision)
        connection.commit()


def open_engine(url: str) -> Engine:
    engine = make_engine(url)
    try:
        migrate(engine)
    except OperationalError as error:
        engine.dispose()
        raise StoreError(
            f"cannot open the store {describe_url(url)}: {error.orig or error}"
        ) from None
    return engine
