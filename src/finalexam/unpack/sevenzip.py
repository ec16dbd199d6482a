"""7z archives, via py7zr. Members are decompressed into scratch files within the limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from finalexam.errors import CorruptInput
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

MAGIC = b"7z\xbc\xaf\x27\x1c"


class SevenZipUnpacker:
    name = "7z"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        return head.startswith(MAGIC)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        import py7zr
        import py7zr.exceptions

        from finalexam.unpack._py7zr_io import ScratchFactory

        limits = ctx.limits
        factory = ScratchFactory(ctx.scratch_dir, limits.max_member_size, limits.max_total_bytes)
        try:
            with content.open() as raw:
                try:
                    archive = py7zr.SevenZipFile(raw, mode="r")
                except py7zr.exceptions.PasswordRequired:
                    raise CorruptInput(
                        "encrypted 7z archive (header encrypted): not examined",
                        IssueKind.ENCRYPTED,
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
                                problem_kind=IssueKind.ENCRYPTED,
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
