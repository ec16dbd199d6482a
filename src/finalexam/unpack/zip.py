"""Zip family: zip, whl, jar/war/ear, nupkg, apk, vsix, xpi, egg.

Read the way their consumers read them. The central directory (pip's ``zipfile``, unzip,
Java's ``ZipFile``) lists the members; each member's data is found through its local header
and decoded here, so that:

- data in front of the archive (a self-extracting stub, a script) does not hide it;
- a member whose CRC does not match, whose local name differs from the directory's, or whose
  data runs into the next entry is still examined (unzip and Java extract it), with the
  problem reported; one bad entry never ends the archive;
- entries that only a streaming reader sees (local headers the directory does not list, as
  Java's ``ZipInputStream`` and ``jar x`` read them) are examined too;
- a "symlink" entry is examined as the file pip and Java install from it.

Overlapping-entry bombs are stopped by the walker's container ratio (bytes produced against
the archive's size), never by skipping entries on a guess.
"""

from __future__ import annotations

import bz2
import io
import lzma
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO, Any, Protocol, cast

import zstandard

from finalexam.errors import CorruptInput
from finalexam.formats.streams import ReadStream
from finalexam.model import Blob, IssueKind
from finalexam.unpack.base import Content, Member, MemberKind, UnpackContext
from finalexam.unpack.compressed import ZlibDecoder
from finalexam.unpack.zipcrypto import MAX_ENCRYPTED, open_with_sample_password

LOCAL = b"PK\x03\x04"
CENTRAL = b"PK\x01\x02"
END = b"PK\x05\x06"
END64 = b"PK\x06\x06"
END64_LOCATOR = b"PK\x06\x07"
_LOCAL_SIZE = 30
_CENTRAL_SIZE = 46
_END_SIZE = 22
_MAX_COMMENT = 65535
_MAX_LINK = 4096  # PATH_MAX: longer targets cannot be links on any system that installs them
_CHUNK = 64 * 1024
_METHODS = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma", 93: "zstd", 95: "xz"}


@dataclass
class _End:
    position: int  # of the end record (or the zip64 end record)
    directory: int  # where the central directory actually starts
    shift: int  # bytes in front of the archive: added to every recorded offset
    comment: bytes = b""  # the archive comment


@dataclass
class _Entry:
    name: str
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    header: int  # offset of the local header (shifted)
    mode: int
    problems: list[tuple[str, IssueKind]]
    local: bool = False  # found by its local header only
    made_by: int = 0  # the host system (high byte of "version made by")
    date_time: tuple[int, ...] | None = None  # DOS date and time fields, as zipfile reads them
    extra: bytes = b""

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x41)  # traditional or strong encryption


class ZipUnpacker:
    name = "zip"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("zip archives: wheels, jars, nupkgs, apks, zips with data in front",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        # Empty zips start with the end record. A zip with data in front of it is found by
        # ``appended_zip``, once no other format claims the file.
        return head.startswith((LOCAL, END))

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        blob = content.blob()
        end = _find_end(blob)
        if end is None:
            raise CorruptInput("corrupt zip: no end of central directory record")
        covered = _Coverage()
        covered.add(end.directory, len(blob))
        for entry in _central_entries(blob, end):
            covered.add(entry.header, _data_end(blob, entry))
            yield _member(blob, entry)
        for entry in _hidden_local_entries(blob, covered.gaps()):
            yield _member(blob, entry)


def appended_zip(content: Content) -> bool:
    """A zip at the end of a file that does not start as one (self-extracting, prepended)."""
    size = content.size
    if size < _END_SIZE:
        return False
    blob = content.blob()
    tail = max(0, size - _MAX_COMMENT - _END_SIZE)
    if blob.rfind(END, tail) < 0:
        return False
    end = _find_end(blob)
    return end is not None and blob[end.directory : end.directory + 4] in (CENTRAL, END)


def archive_comment(content: Content) -> bytes:
    """The comment of the archive's end record (b"" when there is none or no end record)."""
    end = _find_end(content.blob())
    return end.comment if end is not None else b""


def _find_end(blob: Blob) -> _End | None:
    """The last end-of-central-directory record that describes a directory in the file."""
    size = len(blob)
    start = max(0, size - _MAX_COMMENT - _END_SIZE)
    position = blob.rfind(END, start)
    while position >= 0:
        found = _end_at(blob, position)
        if found is not None:
            return found
        position = blob.rfind(END, start, position)
    return None


def _end_at(blob: Blob, position: int) -> _End | None:
    if position + _END_SIZE > len(blob):
        return None
    directory_size, directory_offset, comment_length = struct.unpack_from(
        "<IIH", blob, position + 12
    )
    comment = bytes(blob[position + _END_SIZE : position + _END_SIZE + comment_length])
    record = position
    locator = position - 20
    if locator >= 0 and blob[locator : locator + 4] == END64_LOCATOR:
        record = locator - 56
        if record < 0 or blob[record : record + 4] != END64:
            return None
        directory_size, directory_offset = struct.unpack_from("<QQ", blob, record + 40)
    directory = record - directory_size
    if directory < 0:
        return None
    shift = directory - directory_offset
    if shift < 0:
        return None
    if directory_size and blob[directory : directory + 4] != CENTRAL:
        return None
    return _End(record, directory, shift, comment)


def _decode_name(raw: bytes, flags: int, extra: bytes) -> str:
    unicode_path = _extra_field(extra, 0x7075)  # Info-ZIP Unicode Path, as unzip reads it
    if (
        unicode_path is not None
        and len(unicode_path) > 5
        and unicode_path[0] == 1
        and struct.unpack_from("<I", unicode_path, 1)[0] == zlib.crc32(raw)
    ):
        return unicode_path[5:].decode("utf-8", "surrogateescape")
    if flags & 0x800:
        return raw.decode("utf-8", "surrogateescape")
    return raw.decode("cp437")  # what zipfile and unzip assume for legacy names


def _extra_field(extra: bytes, wanted: int) -> bytes | None:
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, position)
        if kind == wanted:
            return extra[position + 4 : position + 4 + length]
        position += 4 + length
    return None


def _central_entries(blob: Blob, end: _End) -> Iterator[_Entry]:
    position = end.directory
    while position + _CENTRAL_SIZE <= end.position and blob[position : position + 4] == CENTRAL:
        (made_by, flags, method, time, date, crc, compressed, size) = struct.unpack_from(
            "<H2xHHHHIII", blob, position + 4
        )
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", blob, position + 28)
        external, header = struct.unpack_from("<II", blob, position + 38)
        name_start = position + _CENTRAL_SIZE
        raw_name = bytes(blob[name_start : name_start + name_length])
        extra = bytes(blob[name_start + name_length : name_start + name_length + extra_length])
        position = name_start + name_length + extra_length + comment_length
        size, compressed, header = _zip64(extra, size, compressed, header)
        unix = made_by >> 8 == 3
        yield _Entry(
            name=_decode_name(raw_name, flags, extra),
            flags=flags,
            method=method,
            crc=crc,
            compressed=compressed,
            size=size,
            header=header + end.shift,
            mode=(external >> 16) if unix else 0,
            problems=[],
            made_by=made_by >> 8,
            date_time=(
                (date >> 9) + 1980,
                (date >> 5) & 0xF,
                date & 0x1F,
                time >> 11,
                (time >> 5) & 0x3F,
                (time & 0x1F) * 2,
            ),
            extra=extra,
        )


def _zip64(extra: bytes, size: int, compressed: int, header: int) -> tuple[int, int, int]:
    field = _extra_field(extra, 0x0001)
    if field is None:
        return size, compressed, header
    values = list(struct.unpack_from(f"<{len(field) // 8}Q", field))
    if size == 0xFFFFFFFF and values:
        size = values.pop(0)
    if compressed == 0xFFFFFFFF and values:
        compressed = values.pop(0)
    if header == 0xFFFFFFFF and values:
        header = values.pop(0)
    return size, compressed, header


def _local_data(blob: Blob, entry: _Entry) -> tuple[int, str | None]:
    """Where the entry's data starts, and what is wrong with its local header."""
    header = entry.header
    if blob[header : header + 4] != LOCAL:
        raise CorruptInput(f"no local header at offset {header}")
    name_length, extra_length = struct.unpack_from("<HH", blob, header + 26)
    start = header + _LOCAL_SIZE
    raw_name = bytes(blob[start : start + name_length])
    problem = None
    if not entry.local:
        local_name = raw_name.decode("utf-8" if entry.flags & 0x800 else "cp437", "replace")
        if local_name != entry.name and local_name.replace("\\", "/") != entry.name:
            problem = (
                f"local header names it {local_name[:200]!r}: streaming readers install it "
                "under that name"
            )
    return start + name_length + extra_length, problem


def _data_end(blob: Blob, entry: _Entry) -> int:
    """Where the entry ends: its local header, data and data descriptor, if any."""
    try:
        start, _ = _local_data(blob, entry)
    except CorruptInput:
        return entry.header + 4
    end = start + entry.compressed
    if entry.flags & 0x8:  # crc and sizes follow the data, with or without a signature
        signature = 4 if blob[end : end + 4] == b"PK\x07\x08" else 0
        zip64 = entry.compressed >= 0xFFFFFFFF or entry.size >= 0xFFFFFFFF
        end += signature + (20 if zip64 else 12)
    return min(end, len(blob))


class _Coverage:
    """Byte ranges the central directory accounts for (merged as they come, in order)."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []

    def add(self, start: int, stop: int) -> None:
        if self.ranges and self.ranges[-1][0] <= start <= self.ranges[-1][1]:
            self.ranges[-1] = (self.ranges[-1][0], max(stop, self.ranges[-1][1]))
        else:
            self.ranges.append((start, stop))

    def gaps(self) -> Iterator[tuple[int, int]]:
        position = 0
        for start, stop in sorted(self.ranges):
            if start > position:
                yield position, start
            position = max(position, stop)


def _member(blob: Blob, entry: _Entry) -> Member:
    problems = list(entry.problems)
    name = entry.name
    recorded: dict[str, Any] = {
        "mtime": entry.date_time,
        "owner": (entry.made_by,),
        "compression": (entry.method, entry.compressed),
        "extra": entry.extra,
    }
    if name.endswith("/") and entry.size == 0:
        return Member(name=name, kind=MemberKind.DIR, mode=entry.mode or None, **recorded)
    opened = _sample_password(blob, entry) if entry.encrypted else None
    if entry.encrypted and opened is None:
        problems.append(("encrypted member: content not examined", IssueKind.ENCRYPTED))
        return _unreadable(entry, problems)
    if entry.method not in _METHODS:
        problems.append(
            (
                f"compression method {entry.method} not supported: not examined",
                IssueKind.UNSUPPORTED,
            )
        )
        return _unreadable(entry, problems)
    if opened is not None:
        # from here on the member is its decrypted bytes (zipcrypto.py)
        plain, password = opened
        note = f"encrypted with the sample password {password.decode()!r}: examined"
        problems.append((note, IssueKind.NOTE))
        blob, entry, start = plain, replace(entry, compressed=len(plain)), 0
    else:
        try:
            start, problem = _local_data(blob, entry)
        except CorruptInput as error:
            problems.append((f"{error}: not examined", IssueKind.CORRUPT))
            return _unreadable(entry, problems)
        if problem:
            problems.append((problem, IssueKind.NOTE))
    available = len(blob) - start
    if entry.compressed > available:
        declared = f"{entry.compressed} compressed bytes declared, {max(available, 0)} in the file"
        problems.append((f"truncated: {declared}, examined up to there", IssueKind.CORRUPT))

    def opener() -> IO[bytes]:
        return cast(IO[bytes], _MemberData(blob, start, entry))

    link_target = None
    if entry.mode and stat.S_ISLNK(entry.mode):
        with opener() as stream:
            link_target = stream.read(_MAX_LINK + 1)[:_MAX_LINK].decode("utf-8", "replace")
    return Member(
        name=name,
        kind=MemberKind.FILE,
        size=entry.size,
        compressed_size=max(min(entry.compressed, available), 1),
        mode=entry.mode or None,
        link_target=link_target,
        opener=opener,
        **recorded,
        **_problem(problems),
    )


def _problem(problems: list[tuple[str, IssueKind]]) -> dict[str, Any]:
    """``problem`` and ``problem_kind`` of a member: the messages, the first gap's kind."""
    if not problems:
        return {}
    kinds = [kind for _, kind in problems]
    return {
        "problem": "; ".join(text for text, _ in problems),
        "problem_kind": next((k for k in kinds if k.gap), IssueKind.NOTE),
    }


def _sample_password(blob: Blob, entry: _Entry) -> tuple[bytes, bytes] | None:
    """A member under traditional encryption that one of the passwords agreed for samples
    opens: its decrypted data and the password. Strong encryption (AES, method 99), a member
    larger than the decryption bound or a cut one stays locked."""
    if entry.flags & 0x40 or entry.method == 99 or entry.compressed > MAX_ENCRYPTED:
        return None
    try:
        start, _ = _local_data(blob, entry)
    except CorruptInput:
        return None
    data = bytes(blob[start : start + entry.compressed])
    if len(data) < entry.compressed:
        return None
    if entry.flags & 0x8:  # sizes after the data: the header checks the time, not the CRC
        _, _, _, hour, minute, second = entry.date_time or (0, 0, 0, 0, 0, 0)
        check = (((hour << 11) | (minute << 5) | (second // 2)) >> 8) & 0xFF
    else:
        check = entry.crc >> 24
    return open_with_sample_password(data, check)


def _unreadable(entry: _Entry, problems: list[tuple[str, IssueKind]]) -> Member:
    return Member(
        name=entry.name,
        kind=MemberKind.OTHER,
        size=entry.size,
        encrypted=entry.encrypted,
        **_problem(problems),
    )


def _hidden_local_entries(blob: Blob, gaps: Iterator[tuple[int, int]]) -> Iterator[_Entry]:
    """Entries a streaming reader meets that the central directory does not list.

    A streaming reader goes from one local header to the next; where the directory leaves a
    gap that starts with a local header, it follows that chain through the gap.
    """
    for start, stop in gaps:
        position = start
        while position < stop and blob[position : position + 4] == LOCAL:
            entry = _local_entry(blob, position)
            if entry is None:
                break
            yield entry
            position = _data_end(blob, entry)


def _local_entry(blob: Blob, header: int) -> _Entry | None:
    if header + _LOCAL_SIZE > len(blob):
        return None
    flags, method, crc, compressed, size, name_length, extra_length = struct.unpack_from(
        "<2xHH4xIIIHH", blob, header + 4
    )
    start = header + _LOCAL_SIZE
    if name_length == 0 or start + name_length + extra_length > len(blob):
        return None
    raw_name = bytes(blob[start : start + name_length])
    extra = bytes(blob[start + name_length : start + name_length + extra_length])
    size, compressed, _ = _zip64(extra, size, compressed, 0)
    problems = [
        (
            "entry missing from the central directory (streaming readers install it): examined",
            IssueKind.NOTE,
        )
    ]
    if flags & 0x8 and compressed == 0:
        problems.append(
            (
                "its size is only in a data descriptor: examined up to the archive end",
                IssueKind.NOTE,
            )
        )
        compressed = len(blob) - start - name_length - extra_length
    return _Entry(
        name=_decode_name(raw_name, flags, extra),
        flags=flags,
        method=method,
        crc=crc,
        compressed=compressed,
        size=size,
        header=header,
        mode=0,
        problems=problems,
        local=True,
    )


class _Decoder(Protocol):
    eof: bool
    needs_input: bool

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _Stored:
    eof = True
    needs_input = False

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        return b""


class _Zstd:
    """zstd frames through zstandard's reader (bounded output per read)."""

    def __init__(self, data: Blob) -> None:
        source = io.BytesIO(bytes(data))
        self._reader: Any = zstandard.ZstdDecompressor().stream_reader(source)
        self.eof = False
        self.needs_input = False

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = cast(bytes, self._reader.read(max_length))
        self.eof = not out
        return out


def _decoder(method: int, blob: Blob, start: int, end: int) -> tuple[_Decoder, int]:
    """A decoder for the member's method, and where its compressed data really starts."""
    if method == 0:
        return _Stored(), start
    if method == 8:
        return cast(_Decoder, ZlibDecoder(-zlib.MAX_WBITS)), start
    if method == 12:
        return cast(_Decoder, bz2.BZ2Decompressor()), start
    if method == 95:
        return cast(_Decoder, lzma.LZMADecompressor(lzma.FORMAT_XZ)), start
    if method == 93:
        return _Zstd(blob[start:end]), end
    # lzma in zip: version (2 bytes), properties size (2 bytes), properties, raw LZMA1 data
    (properties_size,) = struct.unpack_from("<H", blob, start + 2)
    properties = bytes(blob[start + 4 : start + 4 + properties_size])
    lzma_filter = lzma._decode_filter_properties(lzma.FILTER_LZMA1, properties)  # type: ignore[attr-defined]
    decoder = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma_filter])
    return cast(_Decoder, decoder), start + 4 + properties_size


class _MemberData(ReadStream):
    """One member's decoded bytes, read in bounded steps; a bad CRC or corrupt data sets
    ``problem`` and keeps what was decoded."""

    def __init__(self, blob: Blob, start: int, entry: _Entry) -> None:
        super().__init__()
        self.blob = blob
        self.end = min(start + entry.compressed, len(blob))
        self.entry = entry
        self.crc = 0
        self.problem: str | None = None
        self._done = False
        try:
            self.decoder, self.position = _decoder(entry.method, blob, start, self.end)
        except (lzma.LZMAError, struct.error, zstandard.ZstdError, ValueError) as error:
            self.decoder, self.position = _Stored(), self.end
            self._fail(f"corrupt {_METHODS[entry.method]} data ({error})")

    def read(self, size: int | None = -1) -> bytes:
        if self._done:
            return b""
        size = _CHUNK * 16 if size is None or size < 0 else size
        try:
            out = self._read(size)
        except (OSError, EOFError, lzma.LZMAError, zlib.error, zstandard.ZstdError) as error:
            self._fail(f"corrupt {_METHODS[self.entry.method]} data ({error})")
            return b""
        if out:
            self.crc = zlib.crc32(out, self.crc)
        else:
            self._finish()
        return out

    def _read(self, size: int) -> bytes:
        if self.entry.method == 0:
            data = bytes(self.blob[self.position : min(self.position + size, self.end)])
            self.position += len(data)
            return data
        decoder = self.decoder
        while not decoder.eof:
            data = b""
            if decoder.needs_input:
                data = bytes(self.blob[self.position : min(self.position + _CHUNK, self.end)])
                self.position += len(data)
            out = decoder.decompress(data, size)
            if out:
                return out
            if not data and decoder.needs_input:  # input used up before the stream's end
                self.problem = "compressed data ends early: examined up to there"
                return b""
        return b""

    def _finish(self) -> None:
        self._done = True
        if self.problem is None and self.crc != self.entry.crc and not self.entry.local:
            self.problem_kind = IssueKind.NOTE
            self.problem = (
                f"CRC mismatch (stored {self.entry.crc:08x}, data {self.crc:08x}): "
                "examined as it is"
            )

    def _fail(self, message: str) -> None:
        self._done = True
        self.problem = f"{message}: the rest of the member is not examined"
