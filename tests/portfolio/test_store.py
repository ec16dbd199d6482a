"""The store: what is written comes back; concurrent writers, kill -9 and a full disk lose
nothing that was acknowledged; migrations keep old data. SQLite and a real PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from finalexam.store import Store, StoreError
from finalexam.store import schema as t
from finalexam.store.engine import current_revision, make_engine, migrate
from finalexam.store.queries import find_release, list_releases, release_report
from portfolio_support import RELEASE_POLICY, make_report

PACKAGES = [("PyPI", "requests", "2.19.1"), ("npm", "lodash", "4.17.20")]


def count(store: Store, table: t.Table) -> int:
    with store.reading() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_exam_round_trip_and_a_new_exam_of_the_same_release(store_url: str) -> None:
    with Store(store_url) as store:
        first = store.add_exam(
            make_report("app", "1.0", PACKAGES), "app", "1.0", "built", RELEASE_POLICY
        )
        assert first.status == "passed"
        with store.reading() as connection:
            report = release_report(connection, first.release_id)
        assert [c.purl for c in report.components] == [
            "pkg:pypi/requests@2.19.1",
            "pkg:npm/lodash@4.17.20",
        ]
        assert report.artifact.name == "app-1.0.zip" and len(report.artifact.sha256) == 64
        second = store.add_exam(
            make_report("app", "1.0", PACKAGES[:1]), "app", "1.0", "received", RELEASE_POLICY
        )
        assert second.release_id == first.release_id and second.exam_id != first.exam_id
        with store.reading() as connection:
            [release] = list_releases(connection)
            assert release["source"] == "received"
            assert len(release_report(connection, release["id"]).components) == 1
        assert count(store, t.verdicts) == 2 and count(store, t.exams) == 2


def _write_many(url: str, worker: int, exams: int) -> list[int]:
    acknowledged = []
    with Store(url) as store:
        for index in range(exams):
            stored = store.add_exam(
                make_report(f"w{worker}", str(index), PACKAGES),
                f"product-{worker}",
                f"1.{index}",
                "built",
                RELEASE_POLICY,
            )
            acknowledged.append(stored.exam_id)
    return acknowledged


def test_eight_concurrent_writers_lose_nothing(store_url: str) -> None:
    Store(store_url).close()  # created and migrated once
    context = multiprocessing.get_context("fork")  # eight real processes, started quickly
    with context.Pool(8) as pool:
        results = pool.starmap(_write_many, [(store_url, worker, 6) for worker in range(8)])
    acknowledged = {exam for batch in results for exam in batch}
    assert len(acknowledged) == 48
    with Store(store_url) as store, store.reading() as connection:
        stored = set(connection.execute(select(t.exams.c.id)).scalars())
        assert stored == acknowledged
        assert len(list_releases(connection)) == 48
        rows = connection.execute(select(func.count()).select_from(t.components)).scalar_one()
        assert rows == 48 * len(PACKAGES)


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from finalexam.store import Store
    from portfolio_support import RELEASE_POLICY, make_report
    packages = [("PyPI", f"pkg{{i}}", "1.0") for i in range(200)]
    with Store({url!r}) as store:
        index = 0
        while True:
            stored = store.add_exam(make_report("app", str(index), packages), "app",
                                    str(index), "built", RELEASE_POLICY)
            print(stored.exam_id, flush=True)  # acknowledged: the commit returned
            index += 1
    """
)


def test_kill_9_mid_write_loses_nothing_acknowledged(store_url: str) -> None:
    Store(store_url).close()
    script = WRITER.format(tests=str(Path(__file__).parents[1]), url=store_url)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 12 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acknowledged.append(int(line))
    time.sleep(0.05)  # be inside the next transaction
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    acknowledged += [int(line) for line in process.stdout.read().split()]
    assert len(acknowledged) >= 12
    with Store(store_url) as store, store.reading() as connection:
        exams = set(connection.execute(select(t.exams.c.id)).scalars())
        assert set(acknowledged) <= exams
        for exam_id in acknowledged:  # every acknowledged exam whole: report and components
            rows = connection.execute(
                select(func.count())
                .select_from(t.components)
                .where(t.components.c.exam_id == exam_id)
            ).scalar_one()
            assert rows == 200
        for item in list_releases(connection):
            assert len(release_report(connection, item["id"]).components) == 200
    if not store_url.startswith("postgresql"):
        with contextlib.closing(sqlite3.connect(store_url)) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _fill_until_full(store: Store) -> list[int]:
    packages = [("PyPI", f"package-{i}", "1.0") for i in range(300)]
    acknowledged = []
    with pytest.raises(StoreError, match="nothing was stored"):
        for index in range(10_000):
            stored = store.add_exam(
                make_report("big", str(index), packages), "big", str(index), "built", RELEASE_POLICY
            )
            acknowledged.append(stored.exam_id)
    return acknowledged


def _check_whole(store: Store, acknowledged: list[int]) -> None:
    with store.reading() as connection:
        exams = set(connection.execute(select(t.exams.c.id)).scalars())
        assert exams == set(acknowledged)  # the failed exam left nothing behind
        for item in list_releases(connection):
            assert len(release_report(connection, item["id"]).components) == 300


def test_a_full_store_refuses_the_write_and_keeps_what_was_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "small.sqlite3"
    Store(str(path)).close()
    with Store(str(path)) as store:
        event.listen(
            store.engine,
            "connect",
            lambda connection, _: connection.execute("PRAGMA max_page_count = 400"),
        )
        store.engine.dispose()  # the pooled connections are opened again, with the limit
        acknowledged = _fill_until_full(store)
        assert acknowledged
        _check_whole(store, acknowledged)


@contextlib.contextmanager
def tiny_filesystem(path: Path) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_refuses_the_write_and_keeps_what_was_acknowledged(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    with tiny_filesystem(tmp_path / "disk") as disk, Store(str(disk / "p.sqlite3")) as store:
        acknowledged = _fill_until_full(store)
        assert acknowledged
        _check_whole(store, acknowledged)


def test_migrations_keep_the_data_of_an_older_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    migrate(engine, "0001")  # a store written by the first release of the schema
    assert current_revision(engine) == "0001"
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO policies (digest, snapshot) VALUES ('d', :s)"), {"s": RELEASE_POLICY}
        )
        connection.execute(
            text(
                "INSERT INTO releases (product, version, source, status, violations, policy_digest,"
                " dirty, created_at) VALUES ('old', '0.9', 'built', 'failed', 1, 'd', 0, 'then')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO runs (started_at, reference_date, releases, rechecked, opened, closed,"
                " verdict_changes) VALUES ('then', '2024-01-01', 1, 1, 1, 0, 1)"
            )
        )
    engine.dispose()
    with Store(url) as store:  # opening migrates to the newest schema
        assert current_revision(store.engine) == "0004"
        with store.reading() as connection:
            assert find_release(connection, "old", "0.9") == 1
            assert connection.execute(select(t.runs.c.reference_date)).scalar_one() == "2024-01-01"
        store.add_token("ci", "read")  # a table the second migration added
        assert store.has_tokens()


def test_an_unreachable_store_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        Store("postgresql://nobody@127.0.0.1:1/none")
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(StoreError):
        Store(str(blocked / "store.sqlite3"))


def test_the_store_never_prints_a_password() -> None:
    from finalexam.store.engine import describe_url

    assert "secret" not in describe_url("postgresql+psycopg://user:secret@db.example/x")
    assert json.dumps(describe_url("sqlite:////tmp/x.sqlite3"))
