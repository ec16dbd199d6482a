"""Single-stream compression: gzip, bzip2, xz/lzma, zstandard."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO, cast

import zstandard

from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

GZIP = b"\x1f\x8b"
BZIP2 = b"BZh"
XZ = b"\xfd7zXZ\x00"
ZSTD = b"(\xb5/\xfd"
_SUFFIXES = {
    GZIP: (".gz", ".tgz"),
    BZIP2: (".bz2", ".tbz2"),
    XZ: (".xz", ".txz"),
    ZSTD: (".zst", ".zstd", ".tzst"),
}


def compression_of(head: bytes) -> bytes | None:
    for magic in (GZIP, BZIP2, XZ, ZSTD):
        if head.startswith(magic):
            return magic
    return None


def decompressing_reader(magic: bytes, raw: IO[bytes]) -> BinaryIO:
    """A stream of the decompressed bytes of ``raw`` (multi-member streams included)."""
    if magic == GZIP:
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb"))
    if magic == BZIP2:
        return cast(BinaryIO, bz2.BZ2File(raw, mode="rb"))
    if magic == XZ:
        return cast(BinaryIO, lzma.LZMAFile(raw, mode="rb"))
    reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return cast(BinaryIO, reader)


def peek_decompressed(head: bytes, content: Content, size: int) -> bytes | None:
    """The first ``size`` decompressed bytes when ``content`` is compressed, else None."""
    magic = compression_of(head)
    if magic is None:
        return None
    try:
        with content.open() as raw:
            return decompressing_reader(magic, raw).read(size)
    except Exception:  # any decoder error means "not this format"
        return None


def _inner_name(name: str, magic: bytes) -> str:
    base = name.rsplit("/", 1)[-1]
    for suffix in _SUFFIXES[magic]:
        if base.lower().endswith(suffix):
            stem = base[: -len(suffix)]
            return stem + ".tar" if suffix.startswith(".t") and suffix != ".tar" else stem
    return base + ".decompressed"


class CompressedUnpacker:
    """A compressed single file; a compressed tar is claimed by the tar unpacker first."""

    name = "compressed"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return compression_of(head) is not None

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        magic = compression_of(content.head(8))
        assert magic is not None
        raw = content.open()
        opener: Callable[[], BinaryIO] = lambda: decompressing_reader(magic, raw)  # noqa: E731
        try:
            yield Member(
                name=_inner_name(name, magic),
                kind=MemberKind.FILE,
                compressed_size=content.size,
                opener=opener,
            )
        finally:
            raw.close()
