"""An independent verifier accepts our attestations: sigstore-js, the Sigstore library the npm
client uses, from the npm registry (versions pinned by tests/attest/sigstore_js/package-lock.json).

It checks each DSSE signature (its own PAE encoding and key handling, in another language) with
the public key only, and the in-toto statement's subject against the artifact's sha256.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from finalexam.cli import main

HERE = Path(__file__).resolve().parent / "sigstore_js"
APP = "app-1.0-py3-none-any.whl"
MIN_NODE = (20, 17)


def _node_version(node: str) -> tuple[int, ...]:
    text = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return tuple(int(part) for part in text.strip().lstrip("v").split(".")[:2])


@pytest.fixture(scope="session")
def sigstore_js() -> Path:
    """node_modules with @sigstore/verify, installed once per lock file (shared by workers)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    if _node_version(node) < MIN_NODE:
        pytest.skip(f"sigstore-js needs node >= {'.'.join(map(str, MIN_NODE))}")
    lock = (HERE / "package-lock.json").read_bytes()
    target = (
        Path(tempfile.gettempdir())
        / f"finalexam-sigstore-js-{hashlib.sha256(lock).hexdigest()[:16]}"
    )
    target.mkdir(exist_ok=True)
    with open(target / ".lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (target / "node_modules" / "@sigstore" / "verify" / "package.json").is_file():
            for name in ("package.json", "package-lock.json"):
                shutil.copy(HERE / name, target / name)
            installed = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--silent"],
                cwd=target,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert installed.returncode == 0, f"npm ci failed: {installed.stderr[-2000:]}"
    return target / "node_modules"


def node_verify(
    modules: Path, attestation: Path, public: Path, artifact: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(HERE / "verify.js"), str(attestation), str(public), str(artifact)],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_PATH": str(modules)},
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa-p256"])
@pytest.mark.parametrize("attest_format", ["intoto-jsonl", "sigstore-bundle"])
def test_sigstore_js_accepts_our_attestations(
    area: Path, sigstore_js: Path, key_type: str, attest_format: str
) -> None:
    key = area / "exam-key"
    assert main(["key", "generate", "--out", str(key), "--type", key_type]) == 0
    out = area / "app.intoto.jsonl"
    code = main(["scan", APP, "--attest", str(out), "--key", str(key), "--attest-sbom",
                 "--attest-format", attest_format])  # fmt: skip
    assert code == 0
    checked = node_verify(sigstore_js, out, area / "exam-key.pub", area / APP)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.split() == [
        "verified", "https://slsa.dev/verification_summary/v1",
        "verified", "https://finalexam.dev/attestation/exam/v1",
        "verified", "https://cyclonedx.org/bom",
    ]  # fmt: skip


def test_sigstore_js_rejects_what_we_reject(area: Path, sigstore_js: Path) -> None:
    """The independent verifier is not a rubber stamp: a changed payload, another key and
    another artifact all fail there too."""
    key = area / "exam-key"
    assert main(["key", "generate", "--out", str(key)]) == 0
    assert main(["key", "generate", "--out", str(area / "other-key")]) == 0
    out = area / "app.intoto.jsonl"
    assert main(["scan", APP, "--attest", str(out), "--key", str(key)]) == 0
    public = area / "exam-key.pub"
    assert node_verify(sigstore_js, out, area / "other-key.pub", area / APP).returncode != 0
    (area / "other.whl").write_bytes((area / APP).read_bytes() + b"\0")
    assert node_verify(sigstore_js, out, public, area / "other.whl").returncode != 0
    first, second = out.read_text().splitlines()
    envelope = json.loads(first)
    payload = base64.b64decode(envelope["payload"]).replace(b"PASSED", b"PASSEE", 1)
    envelope["payload"] = base64.b64encode(payload).decode()
    tampered = area / "tampered.jsonl"
    tampered.write_text(json.dumps(envelope) + "\n" + second + "\n")
    assert node_verify(sigstore_js, tampered, public, area / APP).returncode != 0
