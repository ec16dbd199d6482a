"""scan --store --from-list: every listed artifact examined and stored, on local cores and on
a Dask cluster, by concurrent writers to the same store."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from finalexam.cli import main
from finalexam.store import Store
from finalexam.store.queries import list_releases
from portfolio_support import build_db, cyclonedx_sbom, log4j_jar


def artifacts(tmp_path: Path, count: int) -> Path:
    lines = []
    for index in range(count):
        jar = log4j_jar(tmp_path / f"app{index}.jar", f"app{index}", f"1.{index}")
        lines.append(f"{jar.name} app{index} 1.{index}")
    sbom = cyclonedx_sbom(
        tmp_path / "vendor.cdx.json", [("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0")]
    )
    lines.append(f"'{sbom}' vendor 7")
    listing = tmp_path / "list.txt"
    listing.write_text("# artifacts to keep\n" + "\n".join(lines) + "\n")
    return listing


def test_from_list_on_local_cores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = build_db(tmp_path / "osv.sqlite3", [])
    listing = artifacts(tmp_path, 5)
    url = str(tmp_path / "p.sqlite3")
    code = main(
        [
            "scan",
            "--store",
            "--from-list",
            str(listing),
            "--jobs",
            "2",
            "--db",
            str(db),
            "--store-url",
            url,
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.count("passed\t") == 6
    with Store(url) as store, store.reading() as connection:
        releases = {(r["product"], r["version"]) for r in list_releases(connection)}
    assert releases == {*((f"app{i}", f"1.{i}") for i in range(5)), ("vendor", "7")}


def test_from_list_reports_a_missing_file_and_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_db(tmp_path / "osv.sqlite3", [])
    listing = artifacts(tmp_path, 1)
    listing.write_text(listing.read_text() + "missing.jar\n")
    url = str(tmp_path / "p.sqlite3")
    code = main(
        [
            "scan",
            "--store",
            "--from-list",
            str(listing),
            "--jobs",
            "1",
            "--db",
            str(db),
            "--store-url",
            url,
        ]
    )
    assert code == 2
    captured = capsys.readouterr()
    assert "missing.jar: no such file" in captured.err and captured.out.count("passed\t") == 2


def test_from_list_on_a_dask_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed")
    db = build_db(tmp_path / "osv.sqlite3", [])
    listing = artifacts(tmp_path, 4)
    url = str(tmp_path / "p.sqlite3")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        code = main(
            [
                "scan",
                "--store",
                "--from-list",
                str(listing),
                "--scheduler",
                cluster.scheduler_address,
                "--db",
                str(db),
                "--store-url",
                url,
            ]
        )
    assert code == 0
    assert capsys.readouterr().out.count("passed\t") == 5
    with Store(url) as store, store.reading() as connection:
        assert len(list_releases(connection)) == 5


def test_from_list_needs_store(tmp_path: Path) -> None:
    listing = artifacts(tmp_path, 1)
    assert main(["scan", "--from-list", str(listing)]) == 2


def _processes_examining(path: Path) -> list[int]:
    """Exam processes of a batch (``python -m finalexam.store.task PATH``) for that path.

    Matched on the whole path: a test run beside this one (another xdist worker, another
    checkout's suite) examines files of the same names, and its processes are not ours."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"finalexam.store.task" in argv and any(a.endswith(bytes(path)) for a in argv):
            found.append(int(proc.name))
    return found


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


class Killer:
    """Kills, as soon as it starts, the exam of ``exam_marker`` (as a native crash or the
    kernel's out-of-memory killer would) and the worker running the exam of
    ``worker_marker``."""

    def __init__(self, root: Path, exam_marker: str, worker_marker: str | None = None) -> None:
        self.root = root
        self.todo = {exam_marker: False, **({worker_marker: True} if worker_marker else {})}
        self.killed: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set() and len(self.killed) < len(self.todo):
            for marker, whole_worker in self.todo.items():
                if marker in self.killed:
                    continue
                for pid in _processes_examining(self.root / marker):
                    victim = _parent(pid) if whole_worker else pid
                    os.kill(victim, signal.SIGKILL)
                    self.killed[marker] = victim
            time.sleep(0.005)

    def __enter__(self) -> Killer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _scan_list(listing: Path, db: Path, url: str, *where: str) -> int:
    command = ["scan", "--store", "--from-list", str(listing), "--db", str(db)]
    return main([*command, "--store-url", url, *where])


def test_an_exam_that_dies_on_local_cores_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_db(tmp_path / "osv.sqlite3", [])
    listing = artifacts(tmp_path, 3)  # app0..app2 and the vendor SBOM
    url = str(tmp_path / "p.sqlite3")
    with Killer(tmp_path, "app1.jar") as killer:
        code = _scan_list(listing, db, url, "--jobs", "2")
    assert list(killer.killed) == ["app1.jar"]
    assert code == 3
    captured = capsys.readouterr()
    assert "app1.jar: the exam's process was killed by SIGKILL; nothing was stored" in captured.err
    assert captured.out.count("passed\t") == 3
    with Store(url) as store, store.reading() as connection:
        assert len(list_releases(connection)) == 3


def test_on_a_dask_cluster_a_dead_exam_or_worker_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distributed = pytest.importorskip("distributed")
    import dask

    db = build_db(tmp_path / "osv.sqlite3", [])
    listing = artifacts(tmp_path, 4)  # app0..app3 and the vendor SBOM
    url = str(tmp_path / "p.sqlite3")
    # a task whose worker died once is given up (the default retries it on other workers)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Killer(tmp_path, "app1.jar", worker_marker="app2.jar") as killer,
    ):
        code = _scan_list(listing, db, url, "--scheduler", cluster.scheduler_address)
    assert sorted(killer.killed) == ["app1.jar", "app2.jar"]
    assert code == 3
    captured = capsys.readouterr()
    assert "app1.jar: the exam's process was killed by SIGKILL; nothing was stored" in captured.err
    assert "app2.jar: the Dask task failed (KilledWorker); nothing stored" in captured.err
    assert captured.out.count("passed\t") == 3
    with Store(url) as store, store.reading() as connection:
        releases = {r["product"] for r in list_releases(connection)}
    assert releases == {"app0", "app3", "vendor"}
