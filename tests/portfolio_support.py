"""What the portfolio tests share: real OSV records, real servers on loopback, built artifacts."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from builders import zip_bytes
from finalexam.vuln.update import update_database

SHARED_OSV = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "osv"
LOG4SHELL = "GHSA-jfh8-c2jp-5v3q"
LOG4J_PURL = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"


def shared_record(export: str, record_id: str) -> dict[str, Any]:
    """A real OSV record from the shared exports (the test is skipped without them)."""
    path = SHARED_OSV / export / "all.zip"
    if not path.is_file():
        pytest.skip("shared OSV data not available")
    with zipfile.ZipFile(path) as archive:
        record: dict[str, Any] = json.loads(archive.read(f"{record_id}.json"))
        return record


def build_db(path: Path, records: list[dict[str, Any]]) -> Path:
    """A vulnerability DB holding exactly ``records`` (rebuilt in place: a DB update)."""
    source = path.parent / f"osv-{uuid.uuid4().hex[:8]}"
    source.mkdir()
    for record in records:
        (source / f"{record['id']}.json").write_text(json.dumps(record))
    if path.exists():
        path.unlink()
    update_database(path, [str(source)])
    shutil.rmtree(source)
    return path


def log4j_jar(path: Path, name: str = "shop", version: str = "1.4.3") -> Path:
    """A web application jar that bundles log4j-core 2.14.1, as Maven packages it."""
    own = f"groupId=com.example\nartifactId={name}\nversion={version}\n"
    log4j = "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n"
    inner = zip_bytes(
        {
            "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": log4j,
        }
    )
    manifest = f"Manifest-Version: 1.0\nImplementation-Title: {name}\n"
    path.write_bytes(
        zip_bytes(
            {
                "META-INF/MANIFEST.MF": manifest + f"Implementation-Version: {version}\n",
                f"META-INF/maven/com.example/{name}/pom.properties": own,
                "WEB-INF/lib/log4j-core-2.14.1.jar": inner,
            }
        )
    )
    return path


def cyclonedx_sbom(path: Path, components: list[tuple[str, str, str]]) -> Path:
    """A received CycloneDX SBOM listing (name, version, purl)."""
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "name": name, "version": version, "purl": purl}
            for name, version, purl in components
        ],
    }
    path.write_text(json.dumps(document))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- an HTTP server that records what it is sent -------------------------------------------


@dataclass
class Recorder:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200

    def bodies(self, path: str | None = None) -> list[Any]:
        return [r["json"] for r in self.requests if path is None or r["path"] == path]


@contextlib.contextmanager
def recording_server() -> Iterator[Recorder]:
    recorder = Recorder("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorder.requests.append(
                {
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(body) if body else None,
                }
            )
            self.send_response(recorder.status)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    def url(self, to: str = "security@example.org") -> str:
        return f"smtp://{self.host}:{self.port}?from=finalexam@example.org&to={to}"


@contextlib.contextmanager
def smtp_server() -> Iterator[Mailbox]:
    from email import message_from_bytes, policy

    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    mailbox = Mailbox("127.0.0.1", free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            mailbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = aiosmtpd.Controller(Handler(), hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


# -- the dashboard on a real server ---------------------------------------------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


# -- PostgreSQL on loopback -------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    for directory in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(directory) / "initdb").is_file():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@dataclass
class Postgres:
    url: str

    def new_database(self) -> str:
        """A fresh, empty database on the server: its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            self.url.replace("postgresql://", "postgresql://", 1), autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb + pg_ctl in a scratch directory, listening on 127.0.0.1 only. PostgreSQL
    refuses to run as root: as root, it runs as the ``postgres`` system user."""
    pytest.importorskip("psycopg")
    binaries = _postgres_bin()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not installed")
    prefix: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="finalexam-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no postgres user to run PostgreSQL as")
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    subprocess.run(
        [
            *prefix,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        **quiet,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        [
            *prefix,
            str(binaries / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        ],
        **quiet,
    )
    try:
        yield Postgres(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        subprocess.run(
            [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


# -- exams made in memory (the store does not care how a Report was produced) -----------------


def make_report(name: str, version: str, packages: list[tuple[str, str, str]]) -> Any:
    """A passed exam of artifact ``name-version.zip`` holding (ecosystem, name, version)."""
    import hashlib

    from finalexam.model import Artifact, Component, Location, Report, Verdict
    from finalexam.vuln.purl import PURL_ECOSYSTEMS

    types = {ecosystem: purl_type for purl_type, ecosystem in PURL_ECOSYSTEMS.items()}
    artifact_name = f"{name}-{version}.zip"
    components = tuple(
        Component(
            name=package,
            version=package_version,
            ecosystem=ecosystem,
            purl=f"pkg:{types.get(ecosystem, 'generic')}/{package.replace(':', '/')}"
            f"@{package_version}",
            locations=(Location((artifact_name, f"lib/{package}-{package_version}")),),
            found_by=("test",),
        )
        for ecosystem, package, package_version in packages
    )
    sha256 = hashlib.sha256(f"{name}@{version}".encode()).hexdigest()
    return Report(
        artifact=Artifact(artifact_name, artifact_name, sha256, 1000, "zip"),
        tool_version="test",
        components=components,
        verdict=Verdict(passed=True, policy="release"),
    )


RELEASE_POLICY = '{"fail_on":null,"profile":null,"version":1,"waiver_files":[]}'
