"""Tar family: tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .tar.zst, .tar.lzma (npm tarballs, sdists,
gems, the control and data tarballs of a .deb). The reading rules are in ``formats/tar.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from finalexam.formats.tar import BLOCK, TarEntry, TarReader, is_tar_header
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext, stream_problem
from finalexam.unpack.compressed import compression_of, decompressing_reader, peek_decompressed

__all__ = ["TarUnpacker", "is_tar_header", "tar_member", "tar_members"]


class TarUnpacker:
    name = "tar"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("tar archives: sdists, npm tarballs, gems, image layers",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        if is_tar_header(head[:512]):
            return True
        inner = peek_decompressed(head, content, 512)
        return inner is not None and is_tar_header(inner)

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        with content.open() as raw:
            magic = compression_of(content.head(16))
            if magic is None:
                yield from tar_members(raw, seekable=True)
            else:
                yield from tar_members(decompressing_reader(magic, raw, ctx.limits, name))


def tar_members(stream: IO[bytes], *, seekable: bool = False) -> Iterator[Member]:
    """Members of a tar stream, then a notice for a problem of the stream itself, if any."""
    reader = TarReader(stream, seekable=seekable)
    for entry in reader:
        yield tar_member(reader, entry)
    problem = stream_problem(stream)
    if problem:
        yield Member(name="", kind=MemberKind.NOTICE, problem=problem[0], problem_kind=problem[1])


def tar_member(reader: TarReader, entry: TarEntry) -> Member:
    member = _member(reader, entry)
    if not entry.notice:
        member.mtime, member.owner = entry.mtime, entry.owner
    if entry.problems:
        member.problem = "; ".join(text for text, _ in entry.problems)
        kinds = [kind for _, kind in entry.problems]
        member.problem_kind = next((k for k in kinds if k.gap), IssueKind.NOTE)
    return member


def _member(reader: TarReader, entry: TarEntry) -> Member:
    if entry.notice:
        return Member(name="", kind=MemberKind.NOTICE)
    name, typeflag, mode = entry.name, chr(entry.typeflag), entry.mode
    if typeflag in "5D":
        return Member(name=name, kind=MemberKind.DIR, mode=mode)
    if typeflag == "2" or (typeflag == "1" and not entry.stored):
        kind = MemberKind.SYMLINK if typeflag == "2" else MemberKind.HARDLINK
        return Member(name=name, kind=kind, link_target=entry.linkname, mode=mode)
    if typeflag in "346":
        return Member(
            name=name,
            kind=MemberKind.DEVICE,
            mode=mode,
            problem="device or fifo member: no content to examine",
            problem_kind=IssueKind.NOTE,
        )
    if typeflag == "N":
        return Member(
            name=name,
            kind=MemberKind.OTHER,
            problem="unsupported tar member type 'N' (old GNU long names): not examined",
            problem_kind=IssueKind.UNSUPPORTED,
        )

    def opener() -> IO[bytes]:
        return reader.contents(entry)

    # Regular files, and what installers write as regular files: unknown types (POSIX), the
    # parts of multi-volume archives, sparse files, hard links that carry their own data.
    return Member(
        name=name,
        kind=MemberKind.FILE,
        size=entry.size,
        # A sparse file's holes are not in the archive: its ratio is judged on its own.
        compressed_size=entry.stored + BLOCK if entry.sparse is not None else None,
        mode=mode,
        opener=opener,
    )
