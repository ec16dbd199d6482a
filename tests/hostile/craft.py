"""Byte-level builders for malformed archives: what the standard writers refuse to produce."""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import lzma
import random
import struct
import zipfile
import zlib
from collections.abc import Iterable

import zstandard

BLOCK = 512


@functools.cache
def private_key() -> bytes:
    """A real RSA private key in PEM: the payload every "installer sees it" case hides."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def payload() -> bytes:
    return b"// deploy credentials\n" + private_key()


def text_blob(size: int, seed: int = 7) -> bytes:
    """Minified-JavaScript-like text that compresses about 3-4x, like a real bundle."""
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_$") for _ in range(rng.randint(2, 9)))
        for _ in range(4000)
    ]
    out = io.StringIO()
    written = 0
    while written < size:
        piece = (
            f"function {rng.choice(words)}({rng.choice(words)}){{return {rng.randint(0, 10**6)}}};"
        )
        out.write(piece)
        written += len(piece)
    return out.getvalue().encode()[:size]


def noise(size: int, seed: int = 11) -> bytes:
    return random.Random(seed).randbytes(size)


# -- compression --------------------------------------------------------------------------


def zeros_compressed(kind: str, size: int) -> bytes:
    """``size`` zero bytes, compressed in a stream (never held in memory whole)."""
    chunk = bytes(1 << 20)
    if kind == "gzip":
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as stream:
            for _ in range(size >> 20):
                stream.write(chunk)
        return buffer.getvalue()
    if kind == "zstd":
        compressor = zstandard.ZstdCompressor(level=19).compressobj()
        return b"".join(
            [*(compressor.compress(chunk) for _ in range(size >> 20)), compressor.flush()]
        )
    streaming = {"xz": lzma.LZMACompressor(), "bzip2": bz2.BZ2Compressor(9)}[kind]
    return b"".join([*(streaming.compress(chunk) for _ in range(size >> 20)), streaming.flush()])


def gzip_of(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


# -- tar ----------------------------------------------------------------------------------


def tar_header(
    name: bytes | str,
    size: int,
    typeflag: bytes = b"0",
    *,
    linkname: bytes | str = b"",
    mode: int = 0o644,
    gnu: bool = False,
    size_field: bytes | None = None,
    extra: dict[int, bytes] | None = None,
) -> bytes:
    """One 512-byte header with a correct checksum (ustar, or old GNU with ``gnu``)."""
    name = name.encode() if isinstance(name, str) else name
    linkname = linkname.encode() if isinstance(linkname, str) else linkname
    block = bytearray(BLOCK)
    block[0 : min(len(name), 100)] = name[:100]
    block[100:108] = f"{mode:07o}\0".encode()
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = size_field if size_field is not None else f"{size:011o}\0".encode()
    block[136:148] = b"14000000000\0"
    block[156:157] = typeflag
    block[157 : 157 + min(len(linkname), 100)] = linkname[:100]
    block[257:265] = b"ustar  \0" if gnu else b"ustar\x0000"
    for offset, value in (extra or {}).items():
        block[offset : offset + len(value)] = value
    block[148:156] = b"        "
    block[148:156] = f"{sum(block):06o}\0 ".encode()
    return bytes(block)


def padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK)


def tar_file(name: str, data: bytes) -> bytes:
    return tar_header(name, len(data)) + padded(data)


def pax_records(records: dict[str, str]) -> bytes:
    out = b""
    for key, value in records.items():
        body = f" {key}={value}\n".encode()
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length = len(str(length)) + len(body)
        out += str(length).encode() + body
    return out


def tar_end() -> bytes:
    return bytes(2 * BLOCK)


# -- cpio ---------------------------------------------------------------------------------


def cpio_newc_header(name: bytes, filesize: int, mode: int, namesize: int | None = None) -> bytes:
    fields = [1, mode, 0, 0, 1, 1_700_000_000, filesize, 0, 0, 0, 0]
    fields += [len(name) + 1 if namesize is None else namesize, 0]
    return b"070701" + b"".join(f"{v:08x}".encode() for v in fields)


def cpio_newc_entry(name: str, data: bytes, mode: int = 0o100644) -> bytes:
    encoded = name.encode() + b"\0"
    out = bytearray(cpio_newc_header(encoded[:-1], len(data), mode) + encoded)
    out += bytes(-len(out) % 4) + data
    out += bytes(-len(out) % 4)
    return bytes(out)


# -- zip ----------------------------------------------------------------------------------


def zip_of(members: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_symlink(name: str, target: bytes, payload_after: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, target)
        archive.writestr(payload_after[0], payload_after[1])
    return buffer.getvalue()


def central_entries(data: bytes) -> list[int]:
    """Offsets of the central-directory records of a zip."""
    offsets = []
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        offsets.append(position)
        position = data.find(b"PK\x01\x02", position + 4)
    return offsets


def patch(data: bytes, offset: int, value: bytes) -> bytes:
    return data[:offset] + value + data[offset + len(value) :]


def zip_local_header(name: bytes, data: bytes, flags: int = 0) -> bytes:
    """A stored local entry (header and data)."""
    return (
        struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            flags,
            0,
            0,
            0,
            zlib.crc32(data),
            len(data),
            len(data),
            len(name),
            0,
        )
        + name
        + data
    )


# -- 7z -----------------------------------------------------------------------------------


def sevenzip_raw_names(members: list[tuple[str, bytes]]) -> bytes:
    """A 7z archive whose names are stored exactly as given (py7zr would clean them).

    Written with same-length placeholder names and an unencoded header, then patched.
    """
    import py7zr

    placeholders = [
        f"p{index:0{max(len(name) - 1, 1)}d}"[: len(name)]
        for index, (name, _) in enumerate(members)
    ]
    assert all(len(p) == len(n) for p, (n, _) in zip(placeholders, members, strict=True))
    buffer = io.BytesIO()
    archive = py7zr.SevenZipFile(buffer, "w")
    archive.encoded_header_mode = False
    for placeholder, (_, data) in zip(placeholders, members, strict=True):
        archive.writestr(data, placeholder)
    archive.close()
    blob = bytearray(buffer.getvalue())
    next_offset, next_size = struct.unpack_from("<QQ", blob, 12)
    header_start = 32 + next_offset
    header = bytes(blob[header_start : header_start + next_size])
    for placeholder, (name, _) in zip(placeholders, members, strict=True):
        old, new = placeholder.encode("utf-16-le") + b"\0\0", name.encode("utf-16-le") + b"\0\0"
        assert header.count(old) == 1, placeholder
        header = header.replace(old, new)
    blob[header_start : header_start + next_size] = header
    struct.pack_into("<I", blob, 28, zlib.crc32(header))
    struct.pack_into("<I", blob, 8, zlib.crc32(bytes(blob[12:32])))
    return bytes(blob)


# -- Berkeley DB (rpmdb Packages) ---------------------------------------------------------


def bdb_runaway(
    pages: int = 600, hash_pages: int = 300, items_per_page: int = 200, page_size: int = 4096
) -> bytes:
    """A hash database whose every item points into one long overflow chain."""
    db = bytearray(page_size * pages)
    struct.pack_into("<I", db, 12, 0x061561)
    struct.pack_into("<I", db, 20, page_size)
    chain_start = hash_pages + 1
    for number in range(chain_start, pages):
        base = number * page_size
        following = number + 1 if number + 1 < pages else 0
        struct.pack_into("<I", db, base + 16, following)
        struct.pack_into("<H", db, base + 22, page_size - 26)
        db[base + 25] = 7
        db[base + 26 : base + page_size] = b"\x8e" * (page_size - 26)
    total = (pages - chain_start) * (page_size - 26)
    for number in range(1, hash_pages + 1):
        base = number * page_size
        db[base + 25] = 13
        entries = items_per_page * 2
        item_area = page_size - 12 * items_per_page
        offsets = []
        for index in range(items_per_page):
            item = item_area + 12 * index
            db[base + item] = 3
            struct.pack_into("<II", db, base + item + 4, chain_start, total)
            offsets += [item + 12, item]  # key, then data (offset of the data item)
        struct.pack_into("<H", db, base + 20, entries)
        struct.pack_into(f"<{entries}H", db, base + 26, *offsets)
    return bytes(db)
