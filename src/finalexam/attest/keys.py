"""Signing keys: generate Ed25519 / ECDSA P-256 pairs as PEM files, load existing PEM keys.

Private keys are PKCS#8 PEM written with mode 0600 (encrypted when FINALEXAM_KEY_PASSPHRASE
is set); public keys are SubjectPublicKeyInfo PEM. Existing keys load from PEM (PKCS#8,
"EC PRIVATE KEY", encrypted or not) and OpenSSH private key files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from securesystemslib.signer import CryptoSigner, SSlibKey

from finalexam.errors import UsageError
from finalexam.report.base import write_atomically

PASSPHRASE_ENV = "FINALEXAM_KEY_PASSPHRASE"
KEY_TYPES = ("ed25519", "ecdsa-p256")
DEFAULT_KEY_TYPE = "ed25519"
# What securesystemslib signs and verifies with a standard scheme for each key.
_EC_CURVES = (ec.SECP256R1, ec.SECP384R1)
_MIN_RSA_BITS = 2048


def _passphrase(environ: Mapping[str, str] | None) -> bytes | None:
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    return value.encode() if value else None


def _check_supported(key: PrivateKeyTypes | PublicKeyTypes, path: str) -> None:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, _EC_CURVES):
            return
        raise UsageError(f"unsupported elliptic curve {key.curve.name} (use P-256)", path=path)
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        if key.key_size >= _MIN_RSA_BITS:
            return
        raise UsageError(f"RSA key of {key.key_size} bits is too small", path=path)
    raise UsageError(
        f"unsupported key type {type(key).__name__} (use Ed25519 or ECDSA P-256)", path=path
    )


def generate_private_key(key_type: str = DEFAULT_KEY_TYPE) -> PrivateKeyTypes:
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise UsageError(f"unknown key type {key_type!r} (choose from {', '.join(KEY_TYPES)})")


def private_pem(key: PrivateKeyTypes, passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_pem(key: PrivateKeyTypes | PublicKeyTypes) -> bytes:
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_key_pair(
    out: str | Path,
    key_type: str = DEFAULT_KEY_TYPE,
    *,
    force: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[Path, Path, str]:
    """Write ``out`` (private, 0600) and ``out.pub``; return both paths and the key id.

    Refuses to replace either file unless ``force``; nothing is written when it refuses.
    """
    private_path = Path(out)
    public_path = Path(f"{out}.pub")
    for path in (private_path, public_path):
        if not path.parent.is_dir():
            raise UsageError("directory does not exist", path=str(path.parent))
        if not force and (path.exists() or path.is_symlink()):
            raise UsageError("already exists (use --force to replace it)", path=str(path))
    key = generate_private_key(key_type)
    write_atomically(private_path, private_pem(key, _passphrase(environ)), mode=0o600)
    write_atomically(public_path, public_pem(key))
    return private_path, public_path, signer_for(key).public_key.keyid


def read_input(path: str | Path, what: str) -> bytes:
    """A small input file's bytes; a clear one-line usage error when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} not found", path=str(path)) from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a directory", path=str(path)) from None
    except OSError as error:
        raise UsageError(f"cannot read {what}: {error.strerror}", path=str(path)) from None


def load_private_key(path: str | Path, environ: Mapping[str, str] | None = None) -> PrivateKeyTypes:
    """A private key from a PEM or OpenSSH file; the passphrase comes from the environment."""
    data = read_input(path, "private key")
    passphrase = _passphrase(environ)
    loader = (
        serialization.load_ssh_private_key
        if data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY")
        else serialization.load_pem_private_key
    )
    try:
        key: Any = loader(data, passphrase)
    except TypeError:
        # Encrypted without a passphrase given, or a passphrase given for a plain key.
        if passphrase is None:
            raise UsageError(
                f"private key is encrypted: set {PASSPHRASE_ENV}", path=str(path)
            ) from None
        key = loader(data, None)
    except ValueError as error:
        # A wrong key decrypting a CBC-encrypted key yields valid padding about once in 256
        # tries: the parse of the garbage then fails with another message. An encrypted key
        # that does not load with a passphrase is the passphrase's fault either way.
        wrong = passphrase is not None and ("decrypt" in str(error).lower() or _encrypted(data))
        message = "wrong passphrase" if wrong else "not a PEM or OpenSSH private key"
        raise UsageError(message, path=str(path)) from None
    except UnsupportedAlgorithm as error:
        raise UsageError(f"unsupported key: {error}", path=str(path)) from None
    _check_supported(key, str(path))
    private: PrivateKeyTypes = key
    return private


def _encrypted(data: bytes) -> bool:
    head = data.lstrip()[:4096]
    return head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY") or b"Proc-Type: 4,ENCRYPTED" in head


def load_public_key(path: str | Path) -> PublicKeyTypes:
    """A public key from a PEM file (SubjectPublicKeyInfo), or the public half of a private key."""
    data = read_input(path, "key")
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise UsageError("not a PEM public key", path=str(path)) from None
    _check_supported(key, str(path))
    return key


def signer_for(key: PrivateKeyTypes) -> CryptoSigner:
    return CryptoSigner(key)


def verification_key(key: PublicKeyTypes) -> SSlibKey:
    return SSlibKey.from_crypto(key)
