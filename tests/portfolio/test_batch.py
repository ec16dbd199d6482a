"""scan --store --from-list: every listed artifact examined and stored, on local cores and on
a Dask cluster, by concurrent writers to the same store."""

from __future__ import annotations

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
