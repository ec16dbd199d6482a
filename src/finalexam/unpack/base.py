"""Unpacker protocol: a container format turns one blob into a stream of members."""

from __future__ import annotations

import contextlib
import io
import mmap
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, BinaryIO, Protocol

from finalexam.config import Limits
from finalexam.errors import ContainerLimitExceeded
from finalexam.model import Blob, IssueKind
from finalexam.plugins import FilePlugin


class MemberKind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    DEVICE = "device"
    OTHER = "other"
    NOTICE = "notice"  # not a member: a problem of the container itself (``problem``)


class RatioMeter:
    """A decompression ratio judged on bytes actually produced against bytes actually consumed,
    never on sizes a header declares: past ``ratio_floor`` produced bytes, more than
    ``max_ratio`` times what was consumed is a bomb, and the rest of the container is given up.
    """

    def __init__(self, limits: Limits, what: str) -> None:
        self.limits = limits
        self.what = what

    def check(self, produced: int, consumed: int) -> None:
        limits = self.limits
        if produced > limits.ratio_floor and produced > limits.max_ratio * max(consumed, 1):
            raise ContainerLimitExceeded(
                f"compression ratio above max_ratio={limits.max_ratio} ({consumed} bytes "
                f"expand past {produced}): decompression stopped, the rest of {self.what} "
                "is not examined"
            )


def stream_problem(stream: object) -> tuple[str, IssueKind] | None:
    """What went wrong while a member's stream was read (truncation, bad CRC, corruption).

    Readers set ``problem`` (and ``problem_kind``, CORRUPT by default) on the stream they hand
    out instead of raising, so that the bytes read before the problem are still examined.
    """
    problem = getattr(stream, "problem", None)
    if not isinstance(problem, str):
        return None
    kind = getattr(stream, "problem_kind", IssueKind.CORRUPT)
    return problem, kind if isinstance(kind, IssueKind) else IssueKind.CORRUPT


@dataclass
class Member:
    """One entry of a container, as the format describes it (names not yet sanitized)."""

    name: str
    kind: MemberKind
    size: int | None = None  # declared uncompressed size, if the format has one
    compressed_size: int | None = None
    link_target: str | None = None
    mode: int | None = None
    encrypted: bool = False
    layer: str | None = None
    opener: Callable[[], IO[bytes]] | None = None  # file members only
    problem: str | None = None  # a format-level problem to record as an Issue
    problem_kind: IssueKind = IssueKind.CORRUPT  # why, when ``problem`` is set
    # What the archive records besides the content, as it records it: compared by the
    # reproducibility check, not examined. Filled by the zip and tar unpackers.
    mtime: float | tuple[int, ...] | None = None  # tar: epoch seconds; zip: DOS (y, m, d, H, M, S)
    owner: tuple[object, ...] | None = None  # tar: (uid, gid, user, group); zip: (host system,)
    compression: tuple[int, int] | None = None  # zip: (method, compressed size)
    extra: bytes = b""  # zip: the central directory's extra field (extended timestamps)


class Content:
    """The bytes of one file: in memory when small, else in a scratch file (read via mmap)."""

    def __init__(self, data: bytes | None = None, path: str | None = None) -> None:
        self._data = data
        self._path = path
        self._map: mmap.mmap | None = None
        self._handle: BinaryIO | None = None
        self.sha256 = ""  # set by the walker, which hashes while reading
        self.sha1 = ""

    @property
    def size(self) -> int:
        if self._data is not None:
            return len(self._data)
        assert self._path is not None
        return os.path.getsize(self._path)

    def blob(self) -> Blob:
        if self._data is not None:
            return self._data
        if self._map is None:
            assert self._path is not None
            if self.size == 0:
                return b""
            self._handle = open(self._path, "rb")  # noqa: SIM115 - closed in close()
            self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def open(self) -> BinaryIO:
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self._path is not None
        return open(self._path, "rb")

    def head(self, size: int = 4096) -> bytes:
        if self._data is not None:
            return self._data[:size]
        with self.open() as handle:
            return handle.read(size)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = None
            self._data = b""


@dataclass(frozen=True)
class UnpackContext:
    limits: Limits
    scratch_dir: str


class Unpacker(FilePlugin, Protocol):
    """A container format. ``sniff`` looks at magic bytes (and may peek), never at names only."""

    name: str

    def sniff(self, head: bytes, name: str, content: Content) -> bool: ...

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]: ...
