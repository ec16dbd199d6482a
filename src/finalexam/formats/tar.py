"""Tar streams, read the way the tools that install them do, with every header size bounded.

The readers that consume tarballs (GNU tar, bsdtar, npm's node-tar, Python's tarfile for
sdists) disagree at the edges: tarfile stops at the first zero or damaged block, node-tar and
GNU tar go on past a lone zero block, libarchive and node-tar skip damaged blocks and resync on
the next valid header. This reader sees the union: it reads to the end of the stream, skips
zero blocks, resyncs after damaged blocks (reporting them) and examines members found after
the end-of-archive marker too.

Header data (GNU long names, PAX records, sparse maps) is read into memory only up to
``MAX_METADATA`` bytes, node-tar's bound; larger ones are skipped and reported. A member whose
declared size runs past the end of the stream yields what is there, marked truncated.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar, cast

from finalexam.formats.streams import ReadStream
from finalexam.model import IssueKind

Problem = tuple[str, IssueKind]

BLOCK = 512
MAX_METADATA = 1024 * 1024
_ZERO = bytes(BLOCK)
_MAX_SPARSE = 65536  # sparse map entries
_USTAR = b"ustar\x0000"
_PAX_RECORD = re.compile(rb"(\d{1,10}) ")
N = TypeVar("N", int, float)

FILE_TYPES = frozenset(b"07\x00M")  # regular, contiguous, old regular, GNU multi-volume part
_META_TYPES = frozenset(b"xXgLK")


@dataclass
class TarEntry:
    name: str
    typeflag: int
    size: int  # the logical size (a sparse file's real size)
    stored: int  # bytes of data in the archive
    mode: int = 0
    linkname: str = ""
    mtime: float = 0  # seconds since the epoch (a PAX record's may have a fraction)
    owner: tuple[int, int, str, str] = (0, 0, "", "")  # uid, gid, user and group names
    offset: int = 0  # where the data starts in the stream
    sparse: list[tuple[int, int]] | None = None  # (offset, length) of the data segments
    sparse_major: str | None = None  # PAX sparse format 1.x keeps its map in the data
    problems: list[Problem] = field(default_factory=list)
    notice: bool = False  # not a member: a problem of the archive (``problems``)

    @property
    def is_file(self) -> bool:
        return self.typeflag in FILE_TYPES or not _known(self.typeflag)


def _carries_data(typeflag: int) -> bool:
    return typeflag in FILE_TYPES or typeflag in b"1SD" or not _known(typeflag)


def _known(typeflag: int) -> bool:
    return typeflag in b"0123456\x007xXgLKSVDMN"


def _number(field: bytes) -> int | None:
    """An octal or base-256 header number; None when it is neither."""
    if field[:1] == b"\x80":
        return int.from_bytes(field[1:], "big")
    if field[:1] == b"\xff":
        return None  # negative base-256
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    if text.strip(b"01234567"):
        return None
    return int(text, 8)


def is_tar_header(block: bytes) -> bool:
    """A 512-byte header block with a valid checksum (any of ustar, GNU or v7)."""
    if len(block) < BLOCK or block[:BLOCK] == _ZERO:
        return False
    stored = _number(block[148:156])
    if stored is None:
        return False
    unsigned = sum(block[:148]) + 256 + sum(block[156:BLOCK])
    if stored == unsigned:
        return True
    signed = unsigned - 2 * sum(1 for b in block[:148] if b > 127)
    signed -= 2 * sum(1 for b in block[156:BLOCK] if b > 127)
    return stored == signed


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> tuple[list[tuple[str, str]], str | None]:
    """``length key=value\\n`` records in order; a malformed record ends the list."""
    records: list[tuple[str, str]] = []
    position = 0
    while position < len(data):
        if data[position:] == bytes(len(data) - position):
            break  # zero padding
        match = _PAX_RECORD.match(data, position)
        length = int(match.group(1)) if match else 0
        end = position + length
        if match is None or length <= len(match.group(0)) or end > len(data):
            return records, "malformed PAX record: the rest of the header is ignored"
        record = data[match.end() : end]
        key, sep, value = record.rstrip(b"\n").partition(b"=")
        if not sep or not record.endswith(b"\n"):
            return records, "malformed PAX record: the rest of the header is ignored"
        records.append((key.decode("utf-8", "replace"), value.decode("utf-8", "surrogateescape")))
        position = end
    return records, None


def _pax_number(pax: dict[str, str], key: str, kind: Callable[[str], N], default: N) -> N:
    """A numeric PAX record over the header's field; 0 when unreadable, as tarfile reads it."""
    if key not in pax:
        return default
    try:
        return kind(pax[key])
    except ValueError:
        return kind("0")


def _sparse_pairs(numbers: list[int]) -> list[tuple[int, int]]:
    return list(zip(numbers[0::2], numbers[1::2], strict=False))


class TarReader:
    """Entries of a tar stream, in order; ``data(entry)`` reads the current entry's bytes."""

    def __init__(self, stream: IO[bytes], *, seekable: bool = False) -> None:
        self.stream = stream
        self.seekable = seekable
        self.position = 0
        self.ended = False  # the stream ran out (or failed)
        self._data_left = 0  # unread bytes of the current entry's data (plus padding)
        self._globals: dict[str, str] = {}

    # -- raw reading ---------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        chunks: list[bytes] = []
        wanted = size
        while wanted > 0:
            chunk = self.stream.read(min(wanted, 1 << 20))
            if not chunk:
                self.ended = True
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        data = b"".join(chunks)
        self.position += len(data)
        return data

    def _skip(self, size: int) -> None:
        if size <= 0:
            return
        if self.seekable:
            end = self.stream.seek(0, io.SEEK_END)
            target = self.position + size
            self.position = min(target, end)
            self.stream.seek(self.position)
            self.ended = target > end
            return
        while size > 0 and not self.ended:
            size -= len(self._read(min(size, 1 << 20)))

    def _finish_data(self) -> None:
        self._skip(self._data_left)
        self._data_left = 0

    # -- entries -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[TarEntry]:
        local: dict[str, str] = {}
        pax_sparse: list[int] = []
        long_name: str | None = None
        long_link: str | None = None
        pending: list[Problem] = []
        junk_start: int | None = None
        end_marker = False
        zeros = 0
        while True:
            self._finish_data()
            start = self.position
            block = self._read(BLOCK)
            if len(block) < BLOCK:
                if block.strip(b"\0") and not end_marker:
                    junk_start = start if junk_start is None else junk_start
                break
            if block == _ZERO:
                zeros += 1
                end_marker = end_marker or zeros >= 2
                continue
            zeros = 0
            if not is_tar_header(block):
                if junk_start is None and not end_marker:
                    junk_start = start
                continue
            if junk_start is not None:
                yield self._notice(
                    f"{start - junk_start} bytes of damaged data at offset {junk_start} "
                    "(no member header): skipped"
                )
                junk_start = None
            entry = self._entry(block, start)
            typeflag = entry.typeflag
            if typeflag in _META_TYPES or typeflag == ord("V"):
                data = self._metadata(entry)
                if data is None:
                    pending.append(
                        (
                            f"{chr(typeflag)!r} header of {entry.stored} bytes "
                            f"(over {MAX_METADATA}): ignored, the next member may be misnamed",
                            IssueKind.LIMIT,
                        )
                    )
                    continue
                if typeflag in b"xX":
                    records, problem = _pax_records(data)
                    if problem:
                        pending.append((problem, IssueKind.CORRUPT))
                    for key, value in records:
                        if key in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
                            pax_sparse.append(int(value) if value.isdigit() else -1)
                        local[key] = value
                elif typeflag == ord("g"):
                    records, problem = _pax_records(data)
                    if problem:
                        pending.append((problem, IssueKind.CORRUPT))
                    self._globals.update(records)
                elif typeflag == ord("L"):
                    long_name = _text(data)
                elif typeflag == ord("K"):
                    long_link = _text(data)
                continue
            self._apply(entry, {**self._globals, **local}, long_name, long_link, pax_sparse)
            entry.problems[:0] = pending
            local, pax_sparse, pending = {}, [], []
            long_name = long_link = None
            if typeflag == ord("S"):
                self._old_gnu_sparse(entry, block)
            elif entry.sparse_major == "1":
                self._sparse_map_in_data(entry)
            if entry.sparse is not None and (problem := _check_sparse(entry)):
                entry.problems.append((problem, IssueKind.NOTE))
                entry.sparse = None
                entry.size = entry.stored
            entry.offset = self.position
            # Links, directories and devices carry no data: a reader that takes their size
            # field at its word and one that does not (tarfile, libarchive) part ways here, so
            # the blocks that follow are read as headers, which finds what either one sees.
            self._data_left = _padded(entry.stored) if _carries_data(typeflag) else 0
            yield entry
        self._finish_data()
        if junk_start is not None:
            yield self._notice(
                f"{self.position - junk_start} bytes of damaged data at offset {junk_start} "
                "(no member header) up to the end: skipped"
            )
        for message, kind in pending:
            yield self._notice(message, kind)

    def _notice(self, message: str, kind: IssueKind = IssueKind.CORRUPT) -> TarEntry:
        return TarEntry("", 0, 0, 0, problems=[(message, kind)], notice=True)

    def _entry(self, block: bytes, start: int) -> TarEntry:
        name = block[:100].split(b"\0", 1)[0]
        if block[257:265] == _USTAR and block[345] != 0:
            name = block[345:500].split(b"\0", 1)[0] + b"/" + name
        size = _number(block[124:136])
        problems: list[Problem] = []
        if size is None:
            problems.append(("unreadable size field: member data not examined", IssueKind.CORRUPT))
            size = 0
        typeflag = block[156]
        if typeflag in (0, ord("0")) and name.endswith(b"/") and size == 0:
            typeflag = ord("5")  # old archives mark directories by the trailing slash only
        return TarEntry(
            name=name.decode("utf-8", "surrogateescape"),
            typeflag=typeflag,
            size=size,
            stored=size,
            mode=_number(block[100:108]) or 0,
            linkname=_text(block[157:257]),
            mtime=_number(block[136:148]) or 0,
            owner=(
                _number(block[108:116]) or 0,
                _number(block[116:124]) or 0,
                _text(block[265:297]),
                _text(block[297:329]),
            ),
            problems=problems,
        )

    def _metadata(self, entry: TarEntry) -> bytes | None:
        """The data of a metadata header, or None (skipped) when it is too large."""
        if entry.stored > MAX_METADATA:
            self._skip(_padded(entry.stored))
            return None
        data = self._read(entry.stored)
        self._skip(_padded(entry.stored) - entry.stored)
        return data

    def _apply(
        self,
        entry: TarEntry,
        pax: dict[str, str],
        long_name: str | None,
        long_link: str | None,
        pax_sparse: list[int],
    ) -> None:
        entry.name = pax.get("path") or long_name or entry.name
        entry.linkname = pax.get("linkpath") or long_link or entry.linkname
        entry.mtime = _pax_number(pax, "mtime", float, entry.mtime)
        uid, gid, user, group = entry.owner
        entry.owner = (
            _pax_number(pax, "uid", int, uid),
            _pax_number(pax, "gid", int, gid),
            pax.get("uname", user),
            pax.get("gname", group),
        )
        if "size" in pax:
            if pax["size"].isdigit():
                entry.size = entry.stored = int(pax["size"])
            else:
                entry.problems.append(
                    (f"unreadable PAX size {pax['size'][:40]!r}: ignored", IssueKind.NOTE)
                )
        entry.sparse = None
        if "GNU.sparse.major" in pax or "GNU.sparse.map" in pax or pax_sparse:
            entry.name = pax.get("GNU.sparse.name") or entry.name
            real = pax.get("GNU.sparse.realsize") or pax.get("GNU.sparse.size") or ""
            entry.size = int(real) if real.isdigit() else entry.stored
            if "GNU.sparse.map" in pax:
                parts = pax["GNU.sparse.map"].split(",")
                numbers = [int(p) if p.isdigit() else -1 for p in parts[: 2 * _MAX_SPARSE]]
                entry.sparse = _sparse_pairs(numbers)
            elif pax_sparse:
                entry.sparse = _sparse_pairs(pax_sparse[: 2 * _MAX_SPARSE])
            entry.sparse_major = pax.get("GNU.sparse.major")

    def _old_gnu_sparse(self, entry: TarEntry, block: bytes) -> None:
        numbers: list[int] = []
        area, extended = block[386:482], block[482]
        while True:
            for index in range(0, len(area), 24):
                offset = _number(area[index : index + 12])
                length = _number(area[index + 12 : index + 24])
                if offset is None or length is None or (offset == 0 and length == 0):
                    continue
                numbers += [offset, length]
            if not extended or len(numbers) > 2 * _MAX_SPARSE:
                break
            extension = self._read(BLOCK)
            if len(extension) < BLOCK:
                break
            area, extended = extension[:504], extension[504]
        real = _number(block[483:495])
        entry.sparse = _sparse_pairs(numbers)
        entry.size = real if real else entry.stored

    def _sparse_map_in_data(self, entry: TarEntry) -> None:
        """PAX sparse format 1.0: the map is decimal lines at the start of the data."""
        text = b""
        numbers: list[int] = []
        count: int | None = None
        used = 0
        while count is None or len(numbers) < 2 * count:
            if used >= min(entry.stored, MAX_METADATA):
                entry.problems.append(
                    ("sparse map unreadable: member data examined as stored", IssueKind.NOTE)
                )
                entry.sparse = None
                return
            block = self._read(BLOCK)
            used += len(block)
            text += block
            *lines, text = text.split(b"\n")
            for line in lines:
                value = int(line) if line.isdigit() else -1
                if count is None:
                    count = min(value, _MAX_SPARSE)
                else:
                    numbers.append(value)
            if len(block) < BLOCK:
                break
        entry.sparse = _sparse_pairs(numbers[: 2 * (count or 0)])
        entry.stored = max(entry.stored - used, 0)

    # -- data ----------------------------------------------------------------------------

    def data(self, entry: TarEntry) -> _EntryData:
        """The current entry's stored bytes (valid until the next entry is asked for)."""
        return _EntryData(self, entry)

    def contents(self, entry: TarEntry) -> IO[bytes]:
        """The entry's logical content: a sparse file's holes read as zeros."""
        stored = self.data(entry)
        content = stored if entry.sparse is None else _SparseContent(stored, entry)
        return cast(IO[bytes], content)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _check_sparse(entry: TarEntry) -> str | None:
    assert entry.sparse is not None
    end = 0
    total = 0
    for offset, length in entry.sparse:
        if offset < end or length < 0 or offset < 0:
            return "inconsistent sparse map: member data examined as stored"
        end = offset + length
        total += length
    if total != entry.stored or end > entry.size:
        return "sparse map disagrees with the stored data: member data examined as stored"
    return None


class _EntryData(ReadStream):
    """Reads exactly the stored bytes of one entry; a short stream marks it truncated."""

    def __init__(self, reader: TarReader, entry: TarEntry) -> None:
        super().__init__()
        self.reader = reader
        self.entry = entry
        self.left = entry.stored
        self.problem: str | None = None

    def read(self, size: int | None = -1) -> bytes:
        if self.left <= 0:
            return b""
        wanted = self.left if size is None or size < 0 else min(size, self.left)
        data = self.reader.stream.read(min(wanted, 1 << 20))
        self.reader.position += len(data)
        self.reader._data_left -= len(data)
        self.left -= len(data)
        if not data:
            self.left = 0
            self.reader.ended = True
            self.reader._data_left = 0
            inner = getattr(self.reader.stream, "problem", None)
            if inner:
                self.reader.stream.problem = None  # type: ignore[attr-defined]  # reported here
            self.problem = inner or (
                f"truncated member: {self.entry.stored} bytes declared, the archive ends "
                "before they are all read"
            )
        return data


class _SparseContent(ReadStream):
    """A sparse member's logical content: data segments at their offsets, zeros between."""

    def __init__(self, stored: _EntryData, entry: TarEntry) -> None:
        super().__init__()
        self.stored = stored
        assert entry.sparse is not None
        self.segments = list(entry.sparse)
        self.size = entry.size
        self.position = 0

    def read(self, size: int | None = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else min(size, 1 << 20)
        if self.position >= self.size or size == 0:
            return b""
        while self.segments and self.segments[0][1] == 0:
            self.segments.pop(0)
        if not self.segments or self.position < self.segments[0][0]:
            hole_end = self.segments[0][0] if self.segments else self.size
            count = min(size, hole_end - self.position)
            self.position += count
            return bytes(count)
        offset, length = self.segments[0]
        data = self.stored.read(min(size, length))
        if not data:
            self.problem = self.stored.problem
            self.position = self.size
            return b""
        self.position += len(data)
        self.segments[0] = (offset + len(data), length - len(data))
        return data
