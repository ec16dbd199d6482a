"""7z archives, via py7zr's header parser and decoders, one member at a time.

Members are decoded in archive order into a spooled scratch file, each handed on before the
next is decoded. Names reach the walker as the archive spells them (``./x``, ``/x``,
``a//b``, duplicates): the walker reports and cleans them, as 7-Zip and libarchive extract
them. A CRC mismatch is reported and the data examined; a member that cannot be decoded ends
only the rest of its solid block, never the archive.
"""

from __future__ import annotations

import lzma
import tempfile
import zlib
from collections.abc import Iterator
from typing import IO, Any

from finalexam.errors import ContainerLimitExceeded, CorruptInput, LimitExceeded
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, RatioMeter, UnpackContext

MAGIC = b"7z\xbc\xaf\x27\x1c"


class _Output:
    """Receives one member's bytes, within the member size and the archive's ratio."""

    def __init__(self, ctx: UnpackContext, budget: _Budget) -> None:
        self.file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - handed to the walker
            max_size=ctx.limits.memory_member_size, dir=ctx.scratch_dir
        )
        self.limit = ctx.limits.max_member_size
        self.budget = budget
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise LimitExceeded(f"7z member larger than max_member_size={self.limit}: skipped")
        self.budget.add(len(data))
        self.file.write(data)
        return len(data)

    def flush(self) -> None:
        self.file.flush()


class _Budget:
    def __init__(self, meter: RatioMeter, size: int) -> None:
        self.meter = meter
        self.size = size
        self.produced = 0

    def add(self, count: int) -> None:
        self.produced += count
        self.meter.check(self.produced, self.size)


class SevenZipUnpacker:
    name = "7z"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("7z archives",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        import py7zr
        import py7zr.exceptions

        budget = _Budget(RatioMeter(ctx.limits, repr(name)), max(content.size, 1))
        with content.open() as raw:
            try:
                archive = py7zr.SevenZipFile(raw, mode="r")
            except py7zr.exceptions.PasswordRequired:
                raise CorruptInput(
                    "encrypted 7z archive (header encrypted): not examined", IssueKind.ENCRYPTED
                ) from None
            except (py7zr.exceptions.ArchiveError, lzma.LZMAError, ValueError, EOFError) as error:
                raise CorruptInput(f"corrupt 7z archive: {error}") from None
            with archive:
                if archive.needs_password():
                    for info in archive.files:
                        if not info.is_directory:
                            yield _unreadable(
                                info, "encrypted member: content not examined", IssueKind.ENCRYPTED
                            )
                    return
                yield from _decode(archive, raw, ctx, budget)


def _unreadable(info: Any, problem: str, kind: IssueKind = IssueKind.CORRUPT) -> Member:
    return Member(name=info.filename, kind=MemberKind.OTHER, problem=problem, problem_kind=kind)


def _blocks(archive: Any) -> Iterator[tuple[list[Any], int, int]]:
    """The solid blocks: their members, and where their packed data starts and ends."""
    streams = getattr(archive.header, "main_streams", None)
    if streams is None:
        return
    positions = streams.packinfo.packpositions
    start = archive.worker.src_start
    for index, folder in enumerate(streams.unpackinfo.folders):
        yield list(folder.files or ()), start + positions[index], start + positions[index + 1]


def _decode(archive: Any, raw: IO[bytes], ctx: UnpackContext, budget: _Budget) -> Iterator[Member]:
    import py7zr.exceptions

    errors = (py7zr.exceptions.ArchiveError, lzma.LZMAError, zlib.error, ValueError, EOFError)
    in_blocks: set[int] = set()
    for files, start, end in _blocks(archive):
        in_blocks.update(f.id for f in files)
        raw.seek(start)
        failed: str | None = None
        for info in files:
            if info.is_directory:
                continue
            if failed is not None:
                yield _unreadable(info, f"not examined: {failed}")
                continue
            output = _Output(ctx, budget)
            problem = None
            try:
                crc = archive.worker.decompress(
                    raw, info.folder, output, info.uncompressed, info.compressed, end
                )
                if info.crc32 is not None and crc != info.crc32:
                    problem = f"CRC mismatch (stored {info.crc32:08x}, data {crc:08x}): examined"
            except ContainerLimitExceeded:
                output.file.close()
                raise
            except (LimitExceeded, *errors) as error:
                output.file.close()
                failed = f"an earlier member of its solid block could not be decoded ({error})"
                yield _unreadable(info, f"cannot decode ({type(error).__name__}: {error})")
                continue
            yield _member(info, output, problem)
    for info in archive.files:  # members without data of their own (empty files)
        if info.id not in in_blocks and not info.is_directory:
            output = _Output(ctx, budget)
            yield _member(info, output, None)


def _member(info: Any, output: _Output, problem: str | None) -> Member:
    output.file.seek(0)
    if info.is_symlink:
        target = output.file.read(4096).decode("utf-8", "replace")
        output.file.close()
        return Member(
            name=info.filename,
            kind=MemberKind.SYMLINK,
            link_target=target,
            problem=problem,
            problem_kind=IssueKind.NOTE,
        )
    stream = output.file

    def opener() -> IO[bytes]:
        return stream  # closed by the walker after reading

    return Member(
        name=info.filename,
        kind=MemberKind.FILE,
        size=output.written,
        opener=opener,
        problem=problem,
        problem_kind=IssueKind.NOTE,  # the only problem of a decoded member: a CRC mismatch
    )
