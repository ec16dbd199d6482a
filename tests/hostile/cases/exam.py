"""Hostile inputs at the edges of the pipeline: names aimed at terminals and renderers,
credentials that must not leak into the report, vulnerability data that is missing or
unusable, components that break the matcher, plug-in requirements.

Cases that need their own process control (signals, a full TMPDIR, config discovery from
inside the target, output targets) are in tests/exam/test_hostile_exam.py.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from builders import log4j_core_jar, tar_bytes, zip_bytes
from finalexam.analyze.secrets.validate import base62_encode
from hostile.harness import Case

_BODY = "Q7vLx2Rk9TzP4mWn8YcB3dFh6JsA1e"
TOKEN = "ghp_" + _BODY + base62_encode(zlib.crc32(_BODY.encode()))
CONTROLS = ("\x1b", "\x9b", "\u202e", "\u2066", "\x07")
SECRETS = {
    "https://deploy:hunter2-Pa55word@artifacts.example.com/repo": "hunter2-Pa55word",
    "https://hooks.slack.com/services/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": (
        "Xq9Zr7Lm2Np4Ks8Vt6Wb3Yc5"
    ),
    "https://api.example.com/v1/items?access_token=Zk4tQ9pLx2Rm7vWn&page=2": "Zk4tQ9pLx2Rm7vWn",
}
NO_DATABASE = "not checked for known vulnerabilities"


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def _names(directory: Path) -> Path:
    names = (
        "[/x].js",
        "red\x1b[31m\x1b]0;owned\x07.js",
        "csi\x9b2J.js",
        "invoice\u202egnp.js",
        "iso\u2066late.js",
        "<script>alert(1)</script>.js",
    )
    members = {name: f"TOKEN = {TOKEN!r}\n" for name in names}
    return _write(directory, "names\x1b[2J\u202e.tar", tar_bytes(members))


def _credentials(directory: Path) -> Path:
    code = "import requests\n" + "".join(f'requests.post("{url}")\n' for url in SECRETS)
    return _write(directory, "agent-1.0.tar", tar_bytes({"agent-1.0/agent/upload.py": code}))


def _clean(directory: Path) -> Path:
    return _write(directory, "clean.zip", zip_bytes({"README.txt": "hello\n"}))


def _text_database(directory: Path) -> Path:
    _write(directory, "notes.sqlite3", b"not a database\n")
    return _clean(directory)


def _huge_version(directory: Path) -> Path:
    metadata = "Metadata-Version: 2.1\nName: requests\nVersion: {}\n"
    members = {
        "a/requests-2.30.0.dist-info/METADATA": metadata.format("2.30.0"),
        "b/requests-9.dist-info/METADATA": metadata.format("1" * 5000),
    }
    return _write(directory, "bundle.zip", zip_bytes(members))


def _log4shell_war(directory: Path) -> Path:
    members = {"WEB-INF/lib/log4j-core-2.14.1.jar": log4j_core_jar(), "index.jsp": "<html/>"}
    return _write(directory, "shop.war", zip_bytes(members))


CASES = [
    Case(
        "exam-names-markup-and-controls",
        _names,
        findings=("github-pat-classic",),
        issues=("control characters in member name",),
        absent=CONTROLS,
        area="exam",
    ),
    Case(
        "exam-credentials-in-urls",
        _credentials,
        absent=tuple(SECRETS.values()),
        area="exam",
    ),
    Case(
        "exam-database-missing",
        _clean,
        args=("--db", "/nonexistent/osv.sqlite3"),
        issues=(NO_DATABASE,),
        area="exam",
    ),
    Case(
        "exam-database-text-file",
        _text_database,
        args=("--db", "../input/notes.sqlite3"),  # relative to the case's working directory
        issues=(NO_DATABASE,),
        area="exam",
    ),
    Case(
        "exam-5000-digit-version",
        _huge_version,
        findings=("PYSEC-2023-74",),
        issues=("(5000 characters)",),
        area="exam",
    ),
    Case(
        "exam-only-vulnerabilities-log4shell",
        _log4shell_war,
        args=("--only", "vulnerabilities"),
        findings=("GHSA-jfh8-c2jp-5v3q",),
        area="exam",
    ),
]
