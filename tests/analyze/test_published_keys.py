"""Keys printed in a public source (data/published-keys.txt) are published test material, not
a leak: GnuTLS links the Ed25519 key of its power-on self-test into libgnutls (GnuTLS 3.8,
lib/crypto-selftests-pk.c; a wheel bundling it, such as av's, carries it), while a private key
of the same kind that no one published still blocks."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from binbuild import compile_c
from finalexam.analyze.secrets.scan import scan_bytes
from finalexam.context import _published
from finalexam.model import Confidence, FileContext

# GnuTLS 3.8.9 lib/crypto-selftests-pk.c, eddsa_ed25519_privkey (RFC 8410 PKCS#8 form)
GNUTLS_SELF_TEST_ED25519 = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIH4WeqmZGZQlSY/8H85ZZimVd26h6I68gFNyBvyh3Vcy\n"
    "-----END PRIVATE KEY-----\n"
)

LIBRARY = r"""
static const char self_test_key[] = "@SELF_TEST@";
static const char server_key[] = "@OWN@";
const char *key_of(int which) { return which ? server_key : self_test_key; }
"""


def c_string(pem: str) -> str:
    return pem.replace("\n", "\\n")


def test_a_published_self_test_key_is_well_known_and_an_unpublished_one_blocks(
    tmp_path: Path,
) -> None:
    own = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    source = LIBRARY.replace("@SELF_TEST@", c_string(GNUTLS_SELF_TEST_ED25519)).replace(
        "@OWN@", c_string(own)
    )
    library = compile_c(tmp_path, "libtls.so", ["-O0", "-shared", "-fPIC"], source)
    hits = {
        hit.secret.strip(): hit
        for hit in scan_bytes(library.read_bytes(), "libtls.so", binary=True, kind="elf")
    }
    published = hits[GNUTLS_SELF_TEST_ED25519.strip()]
    assert published.rule.id == "private-key-pkcs8"
    assert published.context is FileContext.WELL_KNOWN
    assert "crypto-selftests-pk.c" in _published()[published.sha256]
    leaked = hits[own.strip()]
    assert leaked.rule.id == "private-key-pkcs8"
    assert leaked.confidence is not Confidence.LOW and leaked.context is None


def test_every_published_key_names_its_source() -> None:
    listed = _published()
    assert len(listed) >= 13
    for digest, source in listed.items():
        assert len(digest) == 64 and int(digest, 16) >= 0
        assert source.split()[0] in {"GnuTLS", "Cisco", "rspamd", "SpeechRecognition", "Microsoft"}
        assert "(" in source
