"""Artifacts, keys and a small vulnerability database for the attestation tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from builders import write, zip_bytes
from finalexam.vuln.update import update_database

# One advisory in the published OSV shape, so the exam runs with a usable database.
ADVISORY = {
    "schema_version": "1.5.0",
    "id": "GHSA-x84v-xcm2-53pg",
    "modified": "2024-01-01T00:00:00Z",
    "aliases": ["CVE-2018-18074"],
    "summary": "Insufficiently Protected Credentials in Requests",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "requests"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.20.0"}]}],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}


@pytest.fixture(scope="session")
def vuln_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    records = tmp_path_factory.mktemp("osv")
    (records / f"{ADVISORY['id']}.json").write_text(json.dumps(ADVISORY))
    path = tmp_path_factory.mktemp("db") / "osv.sqlite3"
    update_database(path, [str(records)])
    return path


def wheel_bytes(name: str, extra: dict[str, str | bytes] | None = None) -> bytes:
    return zip_bytes(
        {
            f"{name}/__init__.py": "VERSION = '1.0'\n",
            f"{name}-1.0.dist-info/METADATA": (
                f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
            ),
            **(extra or {}),
        }
    )


def leaked_private_key() -> str:
    """A real EC private key in PEM, as a careless release would ship it."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vuln_db: Path) -> Iterator[Path]:
    """A working directory with a clean wheel, a wheel that leaks a key, and the DB selected."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.delenv("FINALEXAM_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("FINALEXAM_DB", str(vuln_db))
    write(tmp_path / "app-1.0-py3-none-any.whl", wheel_bytes("app"))
    write(
        tmp_path / "leaky-1.0-py3-none-any.whl",
        wheel_bytes("leaky", {"leaky/deploy.pem": leaked_private_key()}),
    )
    yield tmp_path
