"""``finalexam key generate`` and loading keys made by other tools (openssl, ssh-keygen)."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from finalexam.attest import load_private_key, load_public_key
from finalexam.cli import main
from finalexam.errors import UsageError


@pytest.mark.parametrize(
    ("key_type", "kind"),
    [("ed25519", ed25519.Ed25519PrivateKey), ("ecdsa-p256", ec.EllipticCurvePrivateKey)],
)
def test_generate_writes_a_private_0600_pem_and_a_public_pem(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    key_type: str,
    kind: type,
) -> None:
    monkeypatch.delenv("FINALEXAM_KEY_PASSPHRASE", raising=False)
    out = tmp_path / "exam-key"
    assert main(["key", "generate", "--out", str(out), "--type", key_type]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert Path(f"{out}.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    private = load_private_key(out)
    assert isinstance(private, kind)
    assert load_public_key(f"{out}.pub") == private.public_key()
    assert "key id:" in capsys.readouterr().out


def test_generate_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exam-key"
    assert main(["key", "generate", "--out", str(out)]) == 0
    before = out.read_bytes(), Path(f"{out}.pub").read_bytes()
    assert main(["key", "generate", "--out", str(out)]) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert (out.read_bytes(), Path(f"{out}.pub").read_bytes()) == before
    # Only the public half left over: still refused, and no private key written beside it.
    out.unlink()
    assert main(["key", "generate", "--out", str(out)]) == 2
    assert not out.exists()
    assert main(["key", "generate", "--out", str(out), "--force"]) == 0
    assert Path(f"{out}.pub").read_bytes() != before[1]
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_passphrase_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exam-key"
    monkeypatch.setenv("FINALEXAM_KEY_PASSPHRASE", "correct horse")
    assert main(["key", "generate", "--out", str(out)]) == 0
    assert out.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert isinstance(load_private_key(out), ed25519.Ed25519PrivateKey)
    monkeypatch.setenv("FINALEXAM_KEY_PASSPHRASE", "wrong")
    with pytest.raises(UsageError, match="wrong passphrase"):
        load_private_key(out)
    monkeypatch.delenv("FINALEXAM_KEY_PASSPHRASE")
    with pytest.raises(UsageError, match="encrypted: set FINALEXAM_KEY_PASSPHRASE"):
        load_private_key(out)
    # The public key needs no passphrase.
    assert load_public_key(f"{out}.pub") is not None


def test_missing_directory_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["key", "generate", "--out", "/nonexistent-dir/exam-key"]) == 2
    assert "directory does not exist" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_keys_made_by_openssl_load(tmp_path: Path) -> None:
    ed = tmp_path / "ed.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", ed], check=True)
    assert isinstance(load_private_key(ed), ed25519.Ed25519PrivateKey)
    p256 = tmp_path / "p256.pem"  # traditional "EC PRIVATE KEY" form
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                    "-out", p256], check=True)  # fmt: skip
    assert "BEGIN EC PRIVATE KEY" in p256.read_text()
    public = tmp_path / "p256.pub"
    subprocess.run(["openssl", "ec", "-in", p256, "-pubout", "-out", public],
                   check=True, capture_output=True)  # fmt: skip
    assert load_public_key(public) == load_private_key(p256).public_key()
    weak = tmp_path / "rsa1024.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
                    "-out", weak], check=True, capture_output=True)  # fmt: skip
    with pytest.raises(UsageError, match="too small"):
        load_private_key(weak)
    curve = tmp_path / "k1.pem"
    subprocess.run(["openssl", "ecparam", "-name", "secp256k1", "-genkey", "-noout",
                    "-out", curve], check=True)  # fmt: skip
    with pytest.raises(UsageError, match="unsupported elliptic curve"):
        load_private_key(curve)


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_openssh_ed25519_key_loads(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    assert isinstance(load_private_key(key), ed25519.Ed25519PrivateKey)


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"-----BEGIN PUBLIC KEY-----\nAAAA\n"])
def test_garbage_key_files_are_one_line_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(UsageError, match="not a PEM"):
        load_public_key(path)
    with pytest.raises(UsageError, match="not a PEM or OpenSSH private key"):
        load_private_key(path)
    with pytest.raises(UsageError, match="not found"):
        load_public_key(tmp_path / "missing.pub")


def test_every_wrong_passphrase_says_so(tmp_path: Path) -> None:
    """A wrong passphrase decrypts a CBC-encrypted key into garbage with valid padding about
    once in 256 tries; the key parser's message then differs, and it must still read
    "wrong passphrase" (this test was the one in 256 that failed)."""
    key = ed25519.Ed25519PrivateKey.generate()
    out = tmp_path / "exam-key"
    out.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"correct horse"),
        )
    )
    for attempt in range(2000):
        with pytest.raises(UsageError, match="wrong passphrase"):
            load_private_key(out, {"FINALEXAM_KEY_PASSPHRASE": f"wrong-{attempt}"})
