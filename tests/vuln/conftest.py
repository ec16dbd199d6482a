"""Real OSV records from the shared data, and one small database built once per session."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from finalexam.vuln.update import update_database

SHARED_OSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "osv"

# Packages whose real advisories the tests use, per export.
SELECTED = {
    "PyPI/all.zip": {"requests", "urllib3", "django", "pyyaml", "aiohttp", "jinja2"},
    "Go/all.zip": {"golang.org/x/text", "stdlib"},
    "crates.io/all.zip": {"time", "smallvec", "openssl"},
    "Maven/all.zip": None,  # every record
    "npm/all.zip": None,
    "NuGet/all.zip": None,
}
MALICIOUS_IDS = {"malicious/PyPI/all.zip": {"MAL-2022-7421.json", "MAL-2022-7422.json"}}


def require_shared() -> Path:
    if not (SHARED_OSV / "PyPI" / "all.zip").is_file():
        pytest.skip("shared OSV data not available")
    return SHARED_OSV


def _names(record: dict[str, Any]) -> set[str]:
    return {str(a.get("package", {}).get("name", "")).lower() for a in record.get("affected") or []}


def select_records(root: Path) -> Iterable[tuple[str, bytes]]:
    for relative, wanted in SELECTED.items():
        with zipfile.ZipFile(root / relative) as archive:
            for info in archive.infolist():
                raw = archive.read(info)
                if wanted is None or _names(json.loads(raw)) & wanted:
                    yield info.filename, raw
    for relative, ids in MALICIOUS_IDS.items():
        with zipfile.ZipFile(root / relative) as archive:
            for name in sorted(ids):
                yield name, archive.read(name)


# Records written by the tests, in the OSV shape, for cases the shared data lacks.
MAL_EVERY_VERSION = {
    "schema_version": "1.5.0",
    "id": "MAL-2099-0001",
    "modified": "2024-01-01T00:00:00Z",
    "published": "2024-01-01T00:00:00Z",
    "summary": "Malicious code in totally-evil-pkg (PyPI)",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "Totally_Evil.Pkg"}}],
}
GHSA_ALIAS_OF_PYSEC = {
    "schema_version": "1.5.0",
    "id": "GHSA-x84v-xcm2-53pg",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2018-18074"],
    "summary": "Insufficiently Protected Credentials in Requests",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
        }
    ],
    "database_specific": {"severity": "HIGH"},
    "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2018-18074"}],
}
WITHDRAWN = {
    "id": "GHSA-0000-0000-0000",
    "modified": "2024-01-01T00:00:00Z",
    "withdrawn": "2024-01-02T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.31.0"]}],
}
EXTRA_RECORDS = (MAL_EVERY_VERSION, GHSA_ALIAS_OF_PYSEC, WITHDRAWN)


@pytest.fixture(scope="session")
def osv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of real OSV JSON records (plus the records above)."""
    root = require_shared()
    target = tmp_path_factory.mktemp("osv-records")
    for name, raw in select_records(root):
        (target / name).write_bytes(raw)
    for record in EXTRA_RECORDS:
        (target / f"{record['id']}.json").write_text(json.dumps(record))
    return target


@pytest.fixture(scope="session")
def vuln_db(osv_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "osv.sqlite3"
    update_database(path, [str(osv_dir)])
    return path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving ``tmp_path/www``; yields (base URL, root)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None
