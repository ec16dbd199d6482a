"""Traditional PKWARE zip encryption (APPNOTE 6.1), opened with the passwords security work
agrees on for samples.

Malware and exploit samples travel in zips locked with ``infected`` (MalwareBazaar,
VirusTotal, vendors' exchanges) so that no scanner or mail filter trips over them in
transit. An exam that stops at such a lock leaves the sample unread; one
that tries the agreed passwords reads what the archive carries. Any other password, and
strong (AES) encryption, stay locked: the member is reported as not examined.
"""

from __future__ import annotations

from collections.abc import Sequence

SAMPLE_PASSWORDS: tuple[bytes, ...] = (b"infected", b"malware", b"virus")
# Decryption runs byte by byte in Python: larger members stay locked (and are said to be).
MAX_ENCRYPTED = 8 * 1024 * 1024
_HEADER = 12  # the encryption header in front of each member's data


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC = _crc_table()


def decrypt(data: bytes, password: bytes, check: int) -> bytes | None:
    """The member's data without its encryption header, or None when the header's check
    byte says the password is not this one (a wrong password passes 1 time in 256: the
    data then fails its CRC or does not decompress, and the exam says so)."""
    if len(data) < _HEADER:
        return None
    crc = _CRC
    k0, k1, k2 = 0x12345678, 0x23456789, 0x34567890
    for byte in password:
        k0 = (k0 >> 8) ^ crc[(k0 ^ byte) & 0xFF]
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = (k2 >> 8) ^ crc[(k2 ^ (k1 >> 24)) & 0xFF]
    out = bytearray(len(data))
    for index, cipher in enumerate(data):
        temp = (k2 | 2) & 0xFFFF
        plain = cipher ^ (((temp * (temp ^ 1)) >> 8) & 0xFF)
        out[index] = plain
        k0 = (k0 >> 8) ^ crc[(k0 ^ plain) & 0xFF]
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = (k2 >> 8) ^ crc[(k2 ^ (k1 >> 24)) & 0xFF]
        if index == _HEADER - 1 and plain != check:
            return None
    return bytes(out[_HEADER:])


def open_with_sample_password(
    data: bytes, check: int, passwords: Sequence[bytes] = SAMPLE_PASSWORDS
) -> tuple[bytes, bytes] | None:
    """(plain data, password) for the first agreed password the header accepts."""
    for password in passwords:
        plain = decrypt(data, password, check)
        if plain is not None:
            return plain, password
    return None
