"""The walk: one pass over every file of an artifact, nested archives included, within limits.

Each file is read exactly once; its hashes are computed while reading and its bytes are handed
to the consumer through ``FileEntry.data``. The consumer must finish with an entry before it
asks for the next one: a nested archive's bytes are released once its members are walked.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

from finalexam.config import Limits
from finalexam.errors import (
    ContainerLimitExceeded,
    CorruptInput,
    InputError,
    LimitExceeded,
    ScratchFull,
)
from finalexam.events import EventSink, FileVisited, ignore
from finalexam.model import FileEntry, FileRecord, FileType, Issue, IssueKind, Location
from finalexam.redact import neutralize
from finalexam.unpack import filetype
from finalexam.unpack.base import (
    Content,
    Member,
    MemberKind,
    RatioMeter,
    UnpackContext,
    Unpacker,
    stream_problem,
)
from finalexam.unpack.oci import OciImageUnpacker, is_layout_directory
from finalexam.unpack.zip import ZipUnpacker, appended_zip

_CHUNK = 1024 * 1024
_HEAD = 4096


# Archives whose members form a root filesystem: absolute link targets stay inside it.
_ROOTED_FORMATS = frozenset({"rpm", "oci-image", "cpio"})


class _StopWalk(Exception):
    """A limit on the whole exam was reached: nothing more is examined."""


@dataclass
class _Container:
    """Bytes the members of one container produced, judged against the container's size."""

    meter: RatioMeter
    size: int
    produced: int = 0


def sanitize(name: str) -> tuple[str, list[str]]:
    """A member name made safe to show and to use as a location, plus what was wrong with it."""
    problems: list[str] = []
    unified = name.replace("\\", "/")  # Windows separators count as separators
    display = unified.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if display != unified or "\ufffd" in name:
        problems.append("non-UTF-8 member name")
    shown = neutralize(display, lines=False)  # terminal escapes, C1, bidi overrides
    if shown != display:
        problems.append("control characters in member name")
        display = shown
    drive = len(display) > 1 and display[1] == ":" and display[0].isalpha()
    if display.startswith("/") or drive:
        problems.append(f"absolute member path {name!r}")
    if drive:
        display = display[2:]
    parts: list[str] = []
    escaped = False
    for part in display.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            else:
                escaped = True
            continue
        parts.append(part)
    if escaped or "/../" in f"/{display}/":
        problems.append(f"path traversal in member name {display!r}")
    return "/".join(parts) or ".", problems


def link_escapes(member_path: str, target: str) -> bool:
    """Whether a link target leaves the archive root (absolute, or too many ``..``)."""
    if target.startswith(("/", "\\")) or (len(target) > 1 and target[1] == ":"):
        return True
    depth = member_path.count("/")
    for part in target.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


# A write to the scratch space that failed for want of room (not the input's fault).
_SCRATCH_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _failure_kind(error: BaseException) -> IssueKind:
    if (isinstance(error, OSError) and error.errno in _SCRATCH_FULL) or isinstance(
        error, MemoryError
    ):
        return IssueKind.RESOURCE
    kind = getattr(error, "kind", IssueKind.CORRUPT)
    return kind if isinstance(kind, IssueKind) else IssueKind.CORRUPT


class Walker:
    def __init__(
        self,
        limits: Limits,
        unpackers: Sequence[Unpacker],
        scratch_dir: str,
        events: EventSink = ignore,
    ) -> None:
        self.limits = limits
        self.unpackers = unpackers
        self.ctx = UnpackContext(limits=limits, scratch_dir=scratch_dir)
        self.events = events
        self.issues: list[Issue] = []
        self.records: list[FileRecord] = []
        self.files = 0
        self.bytes_total = 0
        self.complete = True
        self.root_unpacker: str | None = None
        self.opened_by: set[str] = set()  # the unpackers that opened at least one container
        self._rooted: set[Location] = set()
        self._ar_archives: set[Location] = set()
        self._zip = next((u for u in unpackers if isinstance(u, ZipUnpacker)), ZipUnpacker())

    # -- entry points ------------------------------------------------------------------

    def walk(self, target: Path) -> Iterator[FileEntry]:
        try:
            if target.is_dir() and is_layout_directory(target):
                yield from self._walk_image_directory(target)
            elif target.is_dir():
                yield from self._walk_directory(target)
            else:
                try:
                    handle: BinaryIO = target.open("rb")
                except OSError as error:
                    raise InputError(f"cannot read: {error.strerror}", path=str(target)) from None
                root = Location((neutralize(target.name, lines=False),))
                try:
                    with handle:
                        content = self._read(handle, root, None)
                except LimitExceeded as error:  # the artifact itself: nothing is examined
                    self._issue(root, str(error), error.kind)
                    raise _StopWalk from None
                yield from self._visit(root, content, None, None, root=True)
        except _StopWalk:
            self.complete = False

    def _walk_image_directory(self, root: Path) -> Iterator[FileEntry]:
        base = Location((neutralize(root.resolve().name or str(root), lines=False),))
        self.root_unpacker = "oci-image"
        self.opened_by.add(self.root_unpacker)
        self._rooted.add(base)
        seen: set[str] = set()
        try:
            for member in OciImageUnpacker().directory_members(root, self.limits):
                yield from self._member(member, base, seen, None)
        except (CorruptInput, LimitExceeded) as error:
            self._issue(base, f"{error} (rest of the image not examined)", error.kind, "oci-image")

    def _walk_directory(self, root: Path) -> Iterator[FileEntry]:
        base = Location((neutralize(root.resolve().name or str(root), lines=False),))
        for directory, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            rel_dir = os.path.relpath(directory, root)
            for name in sorted(
                filenames + [d for d in dirnames if os.path.islink(os.path.join(directory, d))]
            ):
                path = os.path.join(directory, name)
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                clean, problems = sanitize(rel)
                location = base.child(clean)
                for problem in problems:
                    self._issue(location, problem, IssueKind.NOTE)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    self._link(location, os.readlink(path), None)
                    continue
                if not stat.S_ISREG(info.st_mode):
                    self._issue(
                        location,
                        "special file (device, fifo or socket): no content to examine",
                        IssueKind.NOTE,
                    )
                    continue
                try:
                    with open(path, "rb") as handle:
                        content = self._read(handle, location, None)
                except LimitExceeded as error:
                    self._issue(location, str(error), error.kind)
                    continue
                except OSError as error:
                    self._issue(
                        location,
                        f"cannot read: {error.strerror}: not examined",
                        IssueKind.UNREADABLE,
                    )
                    continue
                yield from self._visit(location, content, None, info.st_mode)

    # -- one file ----------------------------------------------------------------------

    def _visit(
        self,
        location: Location,
        content: Content,
        layer: str | None,
        mode: int | None,
        *,
        root: bool = False,
    ) -> Iterator[FileEntry]:
        try:
            head = content.head(_HEAD)
            size = content.size
            file_type = filetype.detect(head, location.name, size)
            sha256, sha1 = content.sha256, content.sha1
            self.files += 1
            if self.files > self.limits.max_files:
                self._issue(
                    location,
                    f"more than {self.limits.max_files} files: exam stopped, "
                    "this and every later file not examined",
                    IssueKind.LIMIT,
                )
                raise _StopWalk
            self.records.append(FileRecord(location, size, sha256, sha1, file_type, layer))
            self.events(FileVisited(str(location), size, self.files, self.bytes_total))
            container = file_type in (FileType.ARCHIVE, FileType.DATA)
            unpacker = self._unpacker_for(head, location.name, content) if container else None
            if unpacker is None and appended_zip(content):
                # A zip behind other data (a self-extracting stub, a script): pip, unzip and
                # Java open it, so its members are examined, and the file keeps its own type.
                unpacker = self._zip
            if root:
                self.root_unpacker = unpacker.name if unpacker else None
            yield FileEntry(
                location=location,
                size=size,
                sha256=sha256,
                sha1=sha1,
                file_type=FileType.ARCHIVE if unpacker and container else file_type,
                mode=mode,
                layer=layer,
                _loader=content.blob,
            )
            if unpacker is not None:
                if location.depth >= self.limits.max_depth:
                    self._issue(
                        location,
                        f"nested deeper than max_depth={self.limits.max_depth}: not unpacked",
                        IssueKind.LIMIT,
                    )
                else:
                    yield from self._unpack(unpacker, location, content, layer)
        finally:
            content.close()

    def _unpacker_for(self, head: bytes, name: str, content: Content) -> Unpacker | None:
        for unpacker in self.unpackers:
            if unpacker.sniff(head, name, content):
                return unpacker
        return None

    def _unpack(
        self, unpacker: Unpacker, location: Location, content: Content, layer: str | None
    ) -> Iterator[FileEntry]:
        seen: set[str] = set()
        self.opened_by.add(unpacker.name)
        parent_is_ar = location.parent is not None and location.parent in self._ar_archives
        if unpacker.name in _ROOTED_FORMATS or (
            parent_is_ar and location.name.startswith("data.tar")
        ):
            self._rooted.add(location)
        if unpacker.name == "ar":
            self._ar_archives.add(location)
        # All members together against the container's own size: catches what no single
        # member shows (overlapping zip entries, sparse holes, many small bombs).
        container = _Container(RatioMeter(self.limits, f"{location.name!r}"), max(content.size, 1))
        try:
            for member in unpacker.members(content, location.name, self.ctx):
                yield from self._member(member, location, seen, layer, container)
        except (_StopWalk, GeneratorExit):
            raise
        except ContainerLimitExceeded as error:  # its message says what is not examined
            self._issue(location, str(error), error.kind, unpacker.name)
        except (LimitExceeded, CorruptInput) as error:
            self._issue(
                location, f"{error} (rest of the archive not examined)", error.kind, unpacker.name
            )
        except Exception as error:  # a broken file never breaks the exam
            message = (
                f"cannot unpack ({type(error).__name__}: {error}): rest of the archive not examined"
            )
            self._issue(location, message, _failure_kind(error), unpacker.name)

    def _member(
        self,
        member: Member,
        parent: Location,
        seen: set[str],
        layer: str | None,
        container: _Container | None = None,
    ) -> Iterator[FileEntry]:
        if member.kind is MemberKind.NOTICE:
            self._issue(parent, member.problem or "problem in the archive", member.problem_kind)
            return
        clean, problems = sanitize(member.name)
        location = parent.child(clean)
        for problem in problems:
            self._issue(location, problem, IssueKind.NOTE)
        if member.problem:
            self._issue(location, member.problem, member.problem_kind)
        if member.kind is MemberKind.DIR:
            return
        layer = member.layer or layer
        if clean in seen and member.layer is None:
            self._issue(location, "duplicate member name", IssueKind.NOTE)
        seen.add(clean)
        if member.kind in (MemberKind.SYMLINK, MemberKind.HARDLINK):
            self._link(location, member.link_target or "", layer, member.kind)
            return
        if member.kind is not MemberKind.FILE or member.opener is None:
            return
        if member.link_target is not None:  # a link its consumers install as a file
            self._check_link(location, member.link_target, MemberKind.SYMLINK)
        try:
            with member.opener() as stream:
                content = self._read(stream, location, member.compressed_size, container)
                read_problem = stream_problem(stream)
        except ContainerLimitExceeded:
            raise
        except LimitExceeded as error:
            self._issue(location, str(error), error.kind)
            return
        except (_StopWalk, GeneratorExit):
            raise
        except Exception as error:
            message = f"cannot read member ({type(error).__name__}: {error}): not examined"
            self._issue(location, message, _failure_kind(error))
            return
        if read_problem:
            self._issue(location, *read_problem)
        yield from self._visit(location, content, layer, member.mode)

    def _link(
        self,
        location: Location,
        target: str,
        layer: str | None,
        kind: MemberKind = MemberKind.SYMLINK,
    ) -> None:
        self.records.append(
            FileRecord(location, 0, "", "", FileType.SYMLINK, layer, link_target=target)
        )
        self._check_link(location, target, kind)

    def _check_link(self, location: Location, target: str, kind: MemberKind) -> None:
        shown = target.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        rooted = any(
            Location(location.chain[:n]) in self._rooted for n in range(1, len(location.chain))
        )
        if rooted and target.startswith("/"):
            outside = link_escapes("", target.lstrip("/"))  # absolute within the package root
        elif kind is MemberKind.HARDLINK:
            outside = link_escapes("", target)
        else:
            outside = link_escapes(location.path, target)
        if outside:
            self._issue(
                location,
                f"{kind.value} points outside the archive: {shown!r} (recorded, not followed)",
                IssueKind.NOTE,
            )

    # -- reading -----------------------------------------------------------------------

    def _read(
        self,
        stream: IO[bytes],
        location: Location,
        compressed: int | None,
        container: _Container | None = None,
    ) -> Content:
        limits = self.limits
        sha256 = hashlib.sha256()
        sha1 = hashlib.sha1(usedforsecurity=False)
        buffer = bytearray()
        spill: BinaryIO | None = None
        spill_path: str | None = None
        size = 0
        first = stream.read(_CHUNK)
        probe = stream.read(1) if len(first) < _CHUNK else b"?"
        if not probe:  # small member: no copy, no buffer
            self._account(location, len(first), len(first), compressed, container)
            content = Content(data=first)
            content.sha256 = hashlib.sha256(first).hexdigest()
            content.sha1 = hashlib.sha1(first, usedforsecurity=False).hexdigest()
            return content
        if len(first) < _CHUNK:
            first += probe
        pending: bytes | None = first
        try:
            while True:
                chunk = pending if pending is not None else stream.read(_CHUNK)
                pending = None
                if not chunk:
                    break
                size += len(chunk)
                self._account(location, len(chunk), size, compressed, container)
                sha256.update(chunk)
                sha1.update(chunk)
                if spill is not None:
                    spill.write(chunk)
                elif len(buffer) + len(chunk) > limits.memory_member_size:
                    fd, spill_path = tempfile.mkstemp(dir=self.ctx.scratch_dir)
                    spill = os.fdopen(fd, "wb")
                    spill.write(buffer)
                    spill.write(chunk)
                    buffer = bytearray()
                else:
                    buffer += chunk
            if spill is not None:
                spill.close()  # flushes: may find the disk full too
        except BaseException as error:
            if spill is not None:
                with contextlib.suppress(OSError):
                    spill.close()
                assert spill_path is not None
                with contextlib.suppress(OSError):
                    os.unlink(spill_path)
            if isinstance(error, OSError) and error.errno in _SCRATCH_FULL:
                raise ScratchFull(
                    f"scratch space full ({self.ctx.scratch_dir}: {error.strerror}): "
                    "not examined; free TMPDIR or point it at a bigger disk"
                ) from None
            raise
        content = Content(path=spill_path) if spill is not None else Content(data=bytes(buffer))
        content.sha256 = sha256.hexdigest()
        content.sha1 = sha1.hexdigest()
        return content

    def _account(
        self,
        location: Location,
        added: int,
        size: int,
        compressed: int | None,
        container: _Container | None,
    ) -> None:
        """Count ``added`` bytes of a member now ``size`` long against every limit."""
        limits = self.limits
        self.bytes_total += added
        member_limit = None
        if size > limits.max_member_size:
            member_limit = f"member larger than max_member_size={limits.max_member_size}: skipped"
        elif compressed and size > limits.ratio_floor and size / compressed > limits.max_ratio:
            member_limit = (
                f"compression ratio above max_ratio={limits.max_ratio} "
                f"({compressed} bytes expand past {size}): skipped as a likely bomb"
            )
        if container is not None:
            if member_limit:  # this member is stopped on its own: its bytes no longer count
                container.produced -= size - added
                raise LimitExceeded(member_limit)
            container.produced += added
            container.meter.check(container.produced, container.size)
        if member_limit:
            raise LimitExceeded(member_limit)
        if self.bytes_total > limits.max_total_bytes:
            self._issue(
                location,
                "total uncompressed bytes above max_total_bytes="
                f"{limits.max_total_bytes}: exam stopped, this and every later file not examined",
                IssueKind.LIMIT,
            )
            raise _StopWalk

    def _issue(
        self, location: Location | None, message: str, kind: IssueKind, plugin: str | None = None
    ) -> None:
        self.issues.append(Issue("unpack", location, message, kind, plugin))


__all__ = ["CorruptInput", "Walker", "link_escapes", "sanitize"]
