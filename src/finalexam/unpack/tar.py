"""Tar family: tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .tar.zst (npm tarballs, sdists, gems)."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from typing import IO, BinaryIO, cast

from finalexam.config import Limits
from finalexam.errors import CorruptInput, LimitExceeded
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import compression_of, decompressing_reader, peek_decompressed


def is_tar_header(block: bytes) -> bool:
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    # v7 tar: no magic, but a valid header checksum (octal digits first: cheap rejection).
    if block[0] == 0 or block[148:156].strip(b"01234567 \0"):
        return False
    try:
        stored = int(block[148:156].split(b"\x00", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return stored == computed and block[0] != 0


class _CountingReader:
    """Counts bytes pulled from the compressed stream, to bound the compression ratio."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.raw.close()


class TarUnpacker:
    name = "tar"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        if is_tar_header(head[:512]):
            return True
        inner = peek_decompressed(head, content, 512)
        return inner is not None and is_tar_header(inner)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        raw = content.open()
        magic = compression_of(content.head(8))
        counter = _CountingReader(raw)
        counted = cast(BinaryIO, counter)
        stream = decompressing_reader(magic, counted) if magic else counted
        limits = ctx.limits
        # The ratio of a member is its size over the compressed bytes read while it was read:
        # measured once the next header is reached. Its declared size is also checked at
        # once against the whole compressed file, which bounds what it can expand from. (The
        # declared size against the bytes read *before* it would stop honest packages: the
        # header of a large program arrives before any of its data.)
        current, mark = 0, 0
        try:
            try:
                archive = tarfile.open(fileobj=stream, mode="r|", errorlevel=1)  # noqa: SIM115
            except (tarfile.TarError, OSError, EOFError) as error:
                raise CorruptInput(f"corrupt tar: {error}") from None
            iterator = iter(archive)
            while True:
                try:
                    info = next(iterator)
                except StopIteration:
                    break
                except (tarfile.TarError, OSError, EOFError, ValueError) as error:
                    raise CorruptInput(f"corrupt or truncated tar: {error}") from None
                if magic:
                    _check_ratio(current, counter.count - mark, limits)
                    _check_ratio(info.size, content.size, limits)
                current, mark = info.size, counter.count
                yield tar_member(archive, info)
            if magic:
                _check_ratio(current, counter.count - mark, limits)
        finally:
            raw.close()


def _check_ratio(expanded: int, compressed: int, limits: Limits) -> None:
    if expanded > limits.ratio_floor and expanded / max(compressed, 1) > limits.max_ratio:
        raise LimitExceeded(f"compression ratio above {limits.max_ratio}: stopped unpacking")


def tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Member:
    name = info.name
    if info.isdir():
        return Member(name=name, kind=MemberKind.DIR, mode=info.mode)
    if info.issym():
        return Member(name=name, kind=MemberKind.SYMLINK, link_target=info.linkname, mode=info.mode)
    if info.islnk():
        return Member(
            name=name, kind=MemberKind.HARDLINK, link_target=info.linkname, mode=info.mode
        )
    if info.ischr() or info.isblk() or info.isfifo():
        return Member(
            name=name,
            kind=MemberKind.DEVICE,
            mode=info.mode,
            problem="device or fifo member: no content to examine",
            problem_kind=IssueKind.NOTE,
        )
    if not info.isfile():
        return Member(
            name=name,
            kind=MemberKind.OTHER,
            problem="unsupported tar member type",
            problem_kind=IssueKind.UNSUPPORTED,
        )

    def opener() -> IO[bytes]:
        handle = archive.extractfile(info)
        if handle is None:
            raise CorruptInput("tar member has no data")
        return handle

    return Member(name=name, kind=MemberKind.FILE, size=info.size, mode=info.mode, opener=opener)
