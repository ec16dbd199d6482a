"""7z archives, via py7zr. Members are decompressed into scratch files within the limits."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import py7zr
import py7zr.exceptions
import py7zr.io

from finalexam.errors import CorruptInput, LimitExceeded
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

MAGIC = b"7z\xbc\xaf\x27\x1c"


class _ScratchWriter(py7zr.io.Py7zIO):
    """Receives one member's bytes into a scratch file, refusing to grow past the limit."""

    def __init__(self, path: str, limit: int, budget: list[int]) -> None:
        self.path = path
        self.handle = open(path, "wb")  # noqa: SIM115 - closed when extraction ends
        self.limit = limit
        self.budget = budget
        self.written = 0

    def write(self, s: Any) -> int:
        size = len(s)
        self.written += size
        self.budget[0] -= size
        if self.written > self.limit:
            raise LimitExceeded(f"7z member larger than max_member_size={self.limit}")
        if self.budget[0] < 0:
            raise LimitExceeded("7z archive expands past max_total_bytes")
        self.handle.write(s)
        return size

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.handle.seek(offset, whence)

    def flush(self) -> None:
        self.handle.flush()

    def size(self) -> int:
        return self.written


class _ScratchFactory(py7zr.io.WriterFactory):
    def __init__(self, directory: str, limit: int, budget: int) -> None:
        self.directory = directory
        self.limit = limit
        self.budget = [budget]
        self.writers: dict[str, _ScratchWriter] = {}

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        fd, path = tempfile.mkstemp(dir=self.directory)
        os.close(fd)
        writer = _ScratchWriter(path, self.limit, self.budget)
        self.writers[filename] = writer
        return writer

    def close(self) -> None:
        for writer in self.writers.values():
            writer.handle.close()

    def cleanup(self) -> None:
        for writer in self.writers.values():
            if os.path.exists(writer.path):
                os.unlink(writer.path)


class SevenZipUnpacker:
    name = "7z"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        limits = ctx.limits
        factory = _ScratchFactory(ctx.scratch_dir, limits.max_member_size, limits.max_total_bytes)
        try:
            with content.open() as raw:
                try:
                    archive = py7zr.SevenZipFile(raw, mode="r")
                except py7zr.exceptions.PasswordRequired:
                    raise CorruptInput(
                        "encrypted 7z archive (header encrypted): not examined"
                    ) from None
                except (py7zr.exceptions.Bad7zFile, py7zr.exceptions.ArchiveError) as error:
                    raise CorruptInput(f"corrupt 7z archive: {error}") from None
                with archive:
                    infos = archive.list()
                    if archive.needs_password():
                        for info in infos:
                            yield Member(
                                name=info.filename,
                                kind=MemberKind.OTHER,
                                problem="encrypted member: content not examined",
                            )
                        return
                    archive.extractall(factory=factory)
            factory.close()
            for info in sorted(infos, key=lambda i: i.filename):
                if info.is_directory:
                    continue
                writer = factory.writers.get(info.filename)
                if writer is None:
                    continue
                if getattr(info, "is_symlink", False):
                    with open(writer.path, "rb") as handle:
                        target = handle.read(4096).decode("utf-8", "replace")
                    yield Member(name=info.filename, kind=MemberKind.SYMLINK, link_target=target)
                    continue
                yield Member(
                    name=info.filename,
                    kind=MemberKind.FILE,
                    size=writer.written,
                    compressed_size=None,
                    opener=_opener(writer.path),
                )
        finally:
            factory.close()
            factory.cleanup()


def _opener(path: str) -> Any:
    def open_member() -> IO[bytes]:
        return open(path, "rb")

    return open_member
