"""``db update`` from a zip, a directory and a real HTTP server; incremental; atomic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from builders import write, zip_bytes
from conftest import GHSA_ALIAS_OF_PYSEC
from finalexam.errors import InputError
from finalexam.vuln.sources import SourceError, default_sources
from finalexam.vuln.store import SCHEMA_VERSION, DatabaseError, VulnDatabase, resolve_db_path
from finalexam.vuln.update import update_database


def osv_zip(directory: Path, target: Path) -> Path:
    members = {p.name: p.read_bytes() for p in sorted(directory.glob("*.json"))}
    return write(target, zip_bytes(members))


def test_directory_import_counts_and_status(vuln_db: Path, osv_dir: Path) -> None:
    with VulnDatabase(vuln_db) as database:
        status = database.status()
        assert status.schema == SCHEMA_VERSION
        assert status.updated is not None
        records = [json.loads(p.read_bytes()) for p in osv_dir.glob("*.json")]
        withdrawn = sum(1 for r in records if r.get("withdrawn"))
        assert withdrawn >= 1
        assert status.records == len(records) - withdrawn  # withdrawn records are ignored
        assert status.by_ecosystem["PyPI"] > 50
        assert status.by_ecosystem["Maven"] == 4
        assert status.malicious == 3
        (source,) = status.sources
        assert source.withdrawn == withdrawn and source.invalid == 0
        assert database.record("GHSA-0000-0000-0000") is None
        assert "PYSEC-2018-28" in database.record_ids("PyPI", "requests")


def test_zip_import_then_incremental_update(osv_dir: Path, tmp_path: Path) -> None:
    archive = osv_zip(osv_dir, tmp_path / "all.zip")
    path = tmp_path / "db" / "osv.sqlite3"
    first = update_database(path, [str(archive)])
    assert first.sources[0].added == first.records > 100
    again = update_database(path, [str(archive)])
    assert again.sources[0].added == again.sources[0].updated == 0
    assert again.sources[0].unchanged == first.records

    changed = dict(GHSA_ALIAS_OF_PYSEC, modified="2025-01-01T00:00:00Z", summary="changed")
    older = dict(GHSA_ALIAS_OF_PYSEC, id="PYSEC-2018-28", modified="1999-01-01T00:00:00Z")
    withdrawn = {"id": "PYSEC-2023-74", "modified": "2030-01-01T00:00:00Z", "withdrawn": "x"}
    update_dir = tmp_path / "delta"
    for record in (changed, older, withdrawn):
        write(update_dir / f"{record['id']}.json", json.dumps(record).encode())
    delta = update_database(path, [str(update_dir)])
    assert (delta.sources[0].updated, delta.sources[0].unchanged) == (1, 1)
    assert delta.sources[0].withdrawn == 1
    with VulnDatabase(path) as database:
        assert database.record(changed["id"])["summary"] == "changed"  # type: ignore[index]
        assert database.record("PYSEC-2018-28")["modified"] != "1999-01-01T00:00:00Z"  # type: ignore[index]
        assert database.record("PYSEC-2023-74") is None
        assert "PYSEC-2023-74" not in database.record_ids("PyPI", "requests")


def test_http_source_and_not_modified(
    osv_dir: Path, tmp_path: Path, served: tuple[str, Path]
) -> None:
    base, root = served
    osv_zip(osv_dir, root / "PyPI" / "all.zip")
    path = tmp_path / "osv.sqlite3"
    url = f"{base}/PyPI/all.zip"
    result = update_database(path, [url])
    assert result.sources[0].added > 100
    with VulnDatabase(path) as database:
        assert [s.source for s in database.status().sources] == [url]
    # The server answers 304 to the conditional request: nothing is re-imported.
    again = update_database(path, [url])
    assert again.sources[0].not_modified
    assert not list(tmp_path.glob(".download-*"))


def test_unreachable_url_keeps_the_old_database(
    vuln_db: Path, tmp_path: Path, served: tuple[str, Path]
) -> None:
    path = tmp_path / "osv.sqlite3"
    path.write_bytes(vuln_db.read_bytes())
    before = path.read_bytes()
    base, _ = served
    with pytest.raises(SourceError, match="HTTP 404"):
        update_database(path, [f"{base}/missing/all.zip"])
    with pytest.raises(SourceError, match="cannot download"):
        update_database(path, ["http://127.0.0.1:9/all.zip"])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv.sqlite3", "www"]


def test_bad_zip_is_a_one_line_input_error_and_atomic(vuln_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "osv.sqlite3"
    path.write_bytes(vuln_db.read_bytes())
    bad = write(tmp_path / "bad.zip", b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError) as error:
        update_database(path, [str(bad)])
    assert "bad.zip" in str(error.value) and "\n" not in str(error.value)
    assert path.read_bytes() == vuln_db.read_bytes()
    with pytest.raises(InputError, match="no such file"):
        update_database(path, [str(tmp_path / "missing.zip")])


def test_invalid_json_records_are_skipped_and_counted(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write(source / "good.json", json.dumps(GHSA_ALIAS_OF_PYSEC).encode())
    write(source / "broken.json", b"{not json")
    write(source / "noid.json", b'{"affected": []}')
    result = update_database(tmp_path / "osv.sqlite3", [str(source)])
    assert (result.sources[0].added, result.sources[0].invalid) == (1, 2)
    with VulnDatabase(tmp_path / "osv.sqlite3") as database:
        assert database.status().sources[0].invalid == 2


def test_database_errors(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="run `finalexam db update`"):
        VulnDatabase(tmp_path / "none.sqlite3")
    junk = write(tmp_path / "junk.sqlite3", b"junk" * 100)
    with pytest.raises(DatabaseError, match="not a vulnerability database"):
        VulnDatabase(junk)


def test_default_sources_and_path(tmp_path: Path) -> None:
    sources = default_sources()
    assert "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip" in sources
    assert "https://osv-vulnerabilities.storage.googleapis.com/crates.io/all.zip" in sources
    assert "https://osv-vulnerabilities.storage.googleapis.com/Red%20Hat/all.zip" in sources
    assert resolve_db_path(str(tmp_path / "x.db")) == tmp_path / "x.db"
    assert resolve_db_path(None).name == "osv.sqlite3"


def test_stored_and_corrupt_zip_members(tmp_path: Path) -> None:
    record = json.dumps(GHSA_ALIAS_OF_PYSEC).encode()
    stored = write(tmp_path / "stored.zip", zip_bytes({"a.json": record}, compression=0))
    path = tmp_path / "osv.sqlite3"
    assert update_database(path, [str(stored)]).sources[0].added == 1
    with VulnDatabase(path) as database:
        assert database.record(GHSA_ALIAS_OF_PYSEC["id"]) == GHSA_ALIAS_OF_PYSEC
    data = bytearray(zip_bytes({"a.json": record * 3}))
    data[60] ^= 0xFF  # inside the deflated member data
    corrupt = write(tmp_path / "corrupt.zip", bytes(data))
    with pytest.raises(InputError, match=r"corrupt member a\.json"):
        update_database(path, [str(corrupt)])
