"""The secrets analyzer end to end: text encodings, binaries, chunk boundaries, redaction."""

from __future__ import annotations

import base64
import json
import os
import py_compile
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.analyze import ANALYZERS
from finalexam.analyze.secrets import analyzer as secrets
from finalexam.analyze.secrets.engine import HYPERSCAN_AVAILABLE, Engine, default_engine
from finalexam.analyze.secrets.extract import class_constants
from finalexam.analyze.secrets.rules import RULES_DIR, load_rules
from finalexam.analyze.secrets.scan import scan_bytes
from finalexam.analyze.secrets.validate import BASE62, base62_encode, crc32_base62_token_valid
from finalexam.redact import redact_secret as redact
from schema import assert_valid_report

RANDOM = "Q7vLx2Rk9TzP4mWn8YcB3dFh6JsA1e"  # 30 base62 characters, no placeholder words


def github_token(body: str = RANDOM) -> str:
    return "ghp_" + body + base62_encode(zlib.crc32(body.encode()))


def stripe_key() -> str:
    return "sk_live_" + "51" + "Hq8ZtR3vK2mN7xW4pL9cY6bD1fG5jS0aE"


def test_analyzer_is_registered() -> None:
    assert secrets.SecretsAnalyzer in ANALYZERS


def test_github_checksum_round_trip() -> None:
    token = github_token()
    assert crc32_base62_token_valid(token) is True
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert crc32_base62_token_valid(broken) is False
    assert set(token[4:]) <= set(BASE62)


def test_checksum_raises_and_lowers_confidence() -> None:
    good = github_token()
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    text = f"a = '{good}'\nb = '{bad}'\n".encode()
    hits = {h.secret: h for h in scan_bytes(text, "app/config.py", binary=False)}
    assert hits[good].confidence == "high" and hits[good].validation == "valid"
    assert hits[bad].confidence == "low" and hits[bad].validation == "invalid"


def test_test_paths_keep_the_finding_as_it_is() -> None:
    # whether a secret in tests blocks is the policy's call from its context, not a weaker
    # finding: the evidence stays the same
    text = f"TOKEN = '{github_token()}'\n".encode()
    (hit,) = [h for h in scan_bytes(text, "pkg/tests/test_api.py", binary=False)]
    (shipped,) = [h for h in scan_bytes(text, "pkg/api.py", binary=False)]
    assert hit.confidence == shipped.confidence


def test_well_known_examples_and_placeholders_are_ignored() -> None:
    text = (
        b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        b"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
        b'password = "${DB_PASSWORD}"\napi_key = "<your-api-key>"\nsecret = "changeme"\n'
        b'token = "d41d8cd98f00b204e9800998ecf8427e"\n'  # the MD5 digest of nothing
    )
    assert scan_bytes(text, "app/settings.py", binary=False) == []


def test_a_uuid_is_a_secret_when_its_name_says_so() -> None:
    # Azure AD client secrets and many API keys are UUID-shaped: the name decides
    uuid = "3f2b8c1e-7d4a-4e9b-a1c6-5d8e2f7b9a04"
    named = scan_bytes(f'client_secret = "{uuid}"\n'.encode(), "app/settings.py", binary=False)
    assert [h.secret for h in named] == [uuid]
    assert scan_bytes(f'request_id = "{uuid}"\n'.encode(), "app/settings.py", binary=False) == []


def test_lock_file_integrity_hashes_are_ignored() -> None:
    lock = {
        "packages": {
            "node_modules/x": {
                "integrity": "sha512-" + base64.b64encode(os.urandom(64)).decode(),
                "resolved": "https://registry.npmjs.org/x/-/x-1.0.0.tgz",
            }
        }
    }
    assert scan_bytes(json.dumps(lock).encode(), "package-lock.json", binary=False) == []


def test_aws_pair_is_high_confidence() -> None:
    text = (
        b"[default]\naws_access_key_id = AKIA2OGYBAH6TQYJ5VKL\n"
        b"aws_secret_access_key = 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\n"
    )
    analyzer = secrets.SecretsAnalyzer(config=None)  # type: ignore[arg-type]
    hits = secrets._pair(scan_bytes(text, "home/.aws/credentials", binary=False))
    assert {h.rule.id for h in hits} == {"aws-access-key-id", "aws-secret-access-key"}
    assert all(h.confidence == "high" for h in hits)
    assert analyzer.name == "secrets"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_text_reports_line_numbers(encoding: str) -> None:
    token = github_token()
    text = f'first line\r\nsecond\r\n$token = "{token}"\r\n'.encode(encoding)
    (hit,) = scan_bytes(text, "setup.ps1", binary=False)
    assert hit.secret == token and hit.line == 3
    assert hit.encoding.startswith("utf-16")


def test_secret_spanning_a_chunk_boundary_is_found_once() -> None:
    token = github_token()
    engine = default_engine()
    for cut in range(1, len(token)):
        data = b"x" * (4096 - cut) + b" " + token.encode() + b" \n" + b"y" * 5000
        found = [c for c in engine.scan(data, chunk_size=4096, overlap=512)]
        assert [c.secret.decode() for c in found] == [token], cut


def test_big_text_across_default_chunks_keeps_line_numbers() -> None:
    token = github_token()
    line = b"filler text that is not a secret at all\n"
    prefix = line * (1024 * 1024 // len(line) + 3)
    data = prefix + f"t = '{token}'\n".encode()
    (hit,) = scan_bytes(data, "big.txt", binary=False)
    assert hit.line == prefix.count(b"\n") + 1


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_both_engine_paths_agree_on_a_mixed_document() -> None:
    rules = load_rules(RULES_DIR)
    blob = "\n".join(e for r in rules for e in (*r.examples_match, *r.examples_benign))
    data = blob.encode("utf-8", "replace")
    fast = [
        (h.rule.id, h.secret, h.line)
        for h in scan_bytes(data, "all.txt", binary=False, engine=Engine(rules, True))
    ]
    slow = [
        (h.rule.id, h.secret, h.line)
        for h in scan_bytes(data, "all.txt", binary=False, engine=Engine(rules, False))
    ]
    assert fast == slow and len(fast) > 150


def test_binary_utf16le_strings_and_offsets() -> None:
    token = github_token()
    data = b"\x00\x01\x02" * 50 + token.encode("utf-16-le") + b"\x00\xff" * 40
    (hit,) = scan_bytes(data, "app.dll", binary=True, kind="pe")
    assert hit.offset == 150 and hit.source == "binary-utf16le" and hit.line is None


def test_class_file_constant_pool_is_read() -> None:
    token = github_token()
    utf8 = token.encode()
    pool = b"\x01" + len(utf8).to_bytes(2, "big") + utf8 + b"\x07\x00\x01"
    data = b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x03" + pool
    assert [c for _, c in class_constants(data)] == [utf8]
    (hit,) = scan_bytes(data, "Config.class", binary=True, kind="java-class")
    assert hit.source == "class-constant" and hit.offset == 13


def test_pyc_constants_are_found_without_loading(tmp_path: Path) -> None:
    token = stripe_key()
    source = tmp_path / "settings.py"
    source.write_text(f"STRIPE = {token!r}\n")
    compiled = Path(py_compile.compile(str(source), cfile=str(tmp_path / "settings.pyc")))
    data = compiled.read_bytes()
    (hit,) = scan_bytes(data, "settings.pyc", binary=True, kind="pyc")
    assert hit.secret == token and hit.source == "pyc-constant"
    assert data[hit.offset : hit.offset + len(token)] == token.encode()


def test_redaction_never_shows_enough() -> None:
    assert redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == "ghp_…6789"
    assert redact("short1") == "s…1"
    assert redact("abc") == "***"


C_PROGRAM = """
#include <stdio.h>
static const char *token = "%s";
static const char *stripe = "%s";
int main(void) { printf("%%p %%p\\n", (void*)token, (void*)stripe); return 0; }
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")
def test_secrets_planted_in_a_compiled_elf_are_found_and_redacted(tmp_path: Path) -> None:
    token, stripe = github_token(), stripe_key()
    source = tmp_path / "app.c"
    source.write_text(C_PROGRAM % (token, stripe))
    binary = tmp_path / "app"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True)  # our own source
    archive = write(tmp_path / "dist" / "app-1.0.zip", zip_bytes({"bin/app": binary.read_bytes()}))
    out = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(archive), "-o", f"json={out}"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(secrets.__file__).parents[3])},
    )
    assert result.returncode in (0, 1), result.stderr
    raw = out.read_text()
    assert token not in raw and stripe not in raw
    document = json.loads(raw)
    assert_valid_report(document)
    found = {f["rule_id"]: f for f in document["findings"] if f["kind"] == "secret"}
    assert {"github-pat-classic", "stripe-secret-key"} <= set(found)
    for finding in found.values():
        evidence = finding["evidence"]
        assert isinstance(evidence["offset"], int) and "line" not in evidence
        assert evidence["secret_sha256"] in {
            __import__("hashlib").sha256(s.encode()).hexdigest() for s in (token, stripe)
        }
        assert finding["location"].endswith("!/bin/app")
    elf = binary.read_bytes()
    assert elf[found["github-pat-classic"]["evidence"]["offset"] :].startswith(token.encode())


def test_a_dsa_key_is_found_without_a_library_warning_on_stderr(tmp_path: Path) -> None:
    # cryptography warns that DSA is deprecated when the validator loads the key; that is
    # about the scanned key, not for the user's terminal
    rule = next(r for r in load_rules(RULES_DIR) if r.id == "private-key-dsa")
    key = tmp_path / "pkg" / "deploy_key.pem"
    write(key, rule.examples_match[0].encode())
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "default",
            "-m",
            "finalexam",
            "scan",
            str(key.parent),
            "--only",
            "secrets",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "private-key-dsa" in result.stdout
    assert "Warning" not in result.stderr
