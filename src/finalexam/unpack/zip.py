"""Zip family: zip, whl, jar/war/ear, nupkg, apk, vsix, xpi, egg."""

from __future__ import annotations

import itertools
import stat
import zipfile
from collections.abc import Iterator
from typing import IO

from finalexam.errors import CorruptInput
from finalexam.model import IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext

_LOCAL_HEADER_SIZE = 30


class ZipUnpacker:
    name = "zip"

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        # Empty zips start with the end-of-central-directory record.
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        handle = content.open()
        try:
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                raise CorruptInput(f"corrupt zip: {error}") from None
            infos = archive.infolist()
            overlapping = _overlapping_entries(infos)
            for info in infos:
                yield _member(archive, info, overlapping)
        finally:
            handle.close()


def _overlapping_entries(infos: list[zipfile.ZipInfo]) -> set[int]:
    """Entries whose data overlaps another's: the signature of a non-recursive zip bomb."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    bad: set[int] = set()
    for current, following in itertools.pairwise(ordered):
        end = (
            current.header_offset
            + _LOCAL_HEADER_SIZE
            + len(current.filename.encode())
            + current.compress_size
        )
        if end > following.header_offset:
            bad.add(id(current))
            bad.add(id(following))
    return bad


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, overlapping: set[int]) -> Member:
    mode = (info.external_attr >> 16) & 0xFFFF
    name = info.filename
    if info.is_dir():
        return Member(name=name, kind=MemberKind.DIR, mode=mode or None)
    if mode and stat.S_ISLNK(mode):
        target = archive.read(info).decode("utf-8", "replace") if info.file_size < 4096 else "?"
        return Member(name=name, kind=MemberKind.SYMLINK, link_target=target, mode=mode)
    if id(info) in overlapping:
        return Member(
            name=name,
            kind=MemberKind.OTHER,
            size=info.file_size,
            problem="overlapping zip entries (zip bomb): member skipped",
            problem_kind=IssueKind.LIMIT,
        )
    encrypted = bool(info.flag_bits & 0x1)

    def opener() -> IO[bytes]:
        return archive.open(info)

    return Member(
        name=name,
        kind=MemberKind.FILE,
        size=info.file_size,
        compressed_size=info.compress_size,
        mode=mode or None,
        encrypted=encrypted,
        opener=None if encrypted else opener,
        problem="encrypted member: content not examined" if encrypted else None,
        problem_kind=IssueKind.ENCRYPTED,
    )
