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
        assert source.split()[0] in {
            "GnuTLS",
            "Cisco",
            "rspamd",
            "SpeechRecognition",
            "Microsoft",
            "Vagrant",
            "goproxy",
            "RFC",
            "IETF",
            "Azure",
            "AirPort",
            "triton-go",
        }
        assert "(" in source


# HashiCorp's insecure Vagrant key (keys/vagrant in Vagrant's sources and Debian's vagrant):
# every base box trusts it until its first boot replaces it
VAGRANT_INSECURE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEogIBAAKCAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzI\n"
    "w+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoP\n"
    "kcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2\n"
    "hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NO\n"
    "Td0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcW\n"
    "yLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQIBIwKCAQEA4iqWPJXtzZA68mKd\n"
    "ELs4jJsdyky+ewdZeNds5tjcnHU5zUYE25K+ffJED9qUWICcLZDc81TGWjHyAqD1\n"
    "Bw7XpgUwFgeUJwUlzQurAv+/ySnxiwuaGJfhFM1CaQHzfXphgVml+fZUvnJUTvzf\n"
    "TK2Lg6EdbUE9TarUlBf/xPfuEhMSlIE5keb/Zz3/LUlRg8yDqz5w+QWVJ4utnKnK\n"
    "iqwZN0mwpwU7YSyJhlT4YV1F3n4YjLswM5wJs2oqm0jssQu/BT0tyEXNDYBLEF4A\n"
    "sClaWuSJ2kjq7KhrrYXzagqhnSei9ODYFShJu8UWVec3Ihb5ZXlzO6vdNQ1J9Xsf\n"
    "4m+2ywKBgQD6qFxx/Rv9CNN96l/4rb14HKirC2o/orApiHmHDsURs5rUKDx0f9iP\n"
    "cXN7S1uePXuJRK/5hsubaOCx3Owd2u9gD6Oq0CsMkE4CUSiJcYrMANtx54cGH7Rk\n"
    "EjFZxK8xAv1ldELEyxrFqkbE4BKd8QOt414qjvTGyAK+OLD3M2QdCQKBgQDtx8pN\n"
    "CAxR7yhHbIWT1AH66+XWN8bXq7l3RO/ukeaci98JfkbkxURZhtxV/HHuvUhnPLdX\n"
    "3TwygPBYZFNo4pzVEhzWoTtnEtrFueKxyc3+LjZpuo+mBlQ6ORtfgkr9gBVphXZG\n"
    "YEzkCD3lVdl8L4cw9BVpKrJCs1c5taGjDgdInQKBgHm/fVvv96bJxc9x1tffXAcj\n"
    "3OVdUN0UgXNCSaf/3A/phbeBQe9xS+3mpc4r6qvx+iy69mNBeNZ0xOitIjpjBo2+\n"
    "dBEjSBwLk5q5tJqHmy/jKMJL4n9ROlx93XS+njxgibTvU6Fp9w+NOFD/HvxB3Tcz\n"
    "6+jJF85D5BNAG3DBMKBjAoGBAOAxZvgsKN+JuENXsST7F89Tck2iTcQIT8g5rwWC\n"
    "P9Vt74yboe2kDT531w8+egz7nAmRBKNM751U/95P9t88EDacDI/Z2OwnuFQHCPDF\n"
    "llYOUI+SpLJ6/vURRbHSnnn8a/XG+nzedGH5JGqEJNQsz+xT2axM0/W/CRknmGaJ\n"
    "kda/AoGANWrLCz708y7VYgAtW2Uf1DPOIYMdvo6fxIB5i9ZfISgcJ/bbCUkFrhoH\n"
    "+vq/5CIWxCPp0f85R4qxxQ5ihxJ0YDQT9Jpx4TMss4PSavPaBH3RXow5Ohe+bYoQ\n"
    "NE5OgEXk2wVfZczCZpigBKbKZHNYcelXtTt/nP3rsCuGcM4h53s=\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def test_vagrants_insecure_key_is_published_material() -> None:
    [hit] = scan_bytes(
        VAGRANT_INSECURE_KEY.encode(), "gems/vagrant-2.3.4/keys/vagrant", binary=False
    )
    assert hit.rule.id == "private-key-rsa"
    assert hit.context is FileContext.WELL_KNOWN
    assert _published()[hit.sha256].startswith("Vagrant keys/vagrant")


def _fresh_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode()


def test_a_key_named_test_material_is_test_material() -> None:
    """datahub 1.7 keeps TEST_RSA_PRIVATE_KEY, generated for its replay tests, in shipped code:
    the name says what it is. A key under any other name still blocks."""
    pem = _fresh_pem()
    for assignment in (
        f'TEST_RSA_PRIVATE_KEY = """{pem}"""\n',
        f'DUMMY_KEY = (\n    """{pem}"""\n)\n',
        f'mockSigningKey = """{pem}"""\n',
    ):
        [hit] = scan_bytes(assignment.encode(), "datahub/recording/archive.py", binary=False)
        assert hit.context is FileContext.TEST, assignment
    for assignment in (
        f'SERVER_KEY = """{pem}"""\n',
        f'contest_key = """{pem}"""\n',
        f'# a test follows\nKEY = """{pem}"""\n',
    ):
        [hit] = scan_bytes(assignment.encode(), "app/keys.py", binary=False)
        assert hit.context is None and hit.confidence is not Confidence.LOW, assignment


def test_quics_retry_integrity_keys_are_protocol_constants() -> None:
    """qh3 (and every QUIC stack) carries the Retry Integrity Tag keys that RFC 9001 and
    RFC 9369 print: published material. A key of the same shape under the same name that no
    one published still blocks."""
    text = (
        'RETRY_AEAD_KEY_VERSION_1 = binascii.unhexlify("be0c690b9f66575a1d766b54e368c84e")\n'
        'RETRY_AEAD_KEY_VERSION_2 = binascii.unhexlify("8fb4b01b56ac48e260fbcbcead7ccc92")\n'
        'RETRY_AEAD_KEY_VERSION_3 = binascii.unhexlify("5d0f3a9e27c81b46e9a07f3c2d58b16e")\n'
    )
    hits = {h.secret: h for h in scan_bytes(text.encode(), "qh3/quic/packet.py", binary=False)}
    assert hits["be0c690b9f66575a1d766b54e368c84e"].context is FileContext.WELL_KNOWN
    assert hits["8fb4b01b56ac48e260fbcbcead7ccc92"].context is FileContext.WELL_KNOWN
    own = hits["5d0f3a9e27c81b46e9a07f3c2d58b16e"]
    assert own.context is None and own.confidence is not Confidence.LOW


def test_the_azure_storage_emulators_account_key_is_published_material() -> None:
    """@azure/storage-blob 12.32 builds the development connection string of Azurite, the
    storage emulator, whose devstoreaccount1 key is the same in every install and printed in
    Microsoft's documentation. Another account's key in the same string still blocks."""
    azurite = (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    )
    own = "NSR4uNC3Usizxl7FlxEZzVE1GxwH7GicZDZSm3gzxuJx3xrrIUsJTCTCkAGm9fhefPGljxPK/qt5ivLcl4+oAQ=="
    for key, published in ((azurite, True), (own, False)):
        text = (
            "const DevelopmentConnectionString = `DefaultEndpointsProtocol=http;"
            f"AccountName=devstoreaccount1;AccountKey={key};"
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;`;\n"
        )
        [hit] = scan_bytes(text.encode(), "package/dist/commonjs/utils/constants.js", binary=False)
        assert hit.rule.id == "azure-storage-account-key"
        if published:
            assert hit.context is FileContext.WELL_KNOWN
            assert _published()[hit.sha256].startswith("Azure Storage emulator (Azurite)")
        else:
            assert hit.context is None and hit.confidence is not Confidence.LOW
