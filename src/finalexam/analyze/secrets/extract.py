"""Strings out of binaries and text out of any encoding, without executing or unmarshalling.

A derived document is the extracted strings joined by newlines, with a map back to the byte
offset of each string in the original file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

from finalexam.model import Blob

hyperscan: ModuleType | None
try:
    import hyperscan
except ImportError:  # pragma: no cover - the pure-re path gives the same runs, slower
    hyperscan = None

MIN_RUN = 8
_UTF16LE_RUN = re.compile(rb"(?:[\x20-\x7e\t\n\r]\x00){%d,}" % MIN_RUN)
_PRINTABLE = re.compile(rb"[\x20-\x7e\t\n\r]+")
# marshal string type codes, with or without FLAG_REF (0x80): short ascii (1-byte length)...
_PYC_SHORT = re.compile(rb"(?=[zZ\xfa\xda]([\x08-\xff]))")
# ...and ascii/unicode/interned/bytes (4-byte little-endian length, kept under 64 KiB).
_PYC_LONG = re.compile(rb"(?=[sutaA\xf3\xf5\xf4\xe1\xc1]([\x08-\xff][\x00-\xff])\x00\x00)")


@dataclass
class Derived:
    """Extracted strings as one document, mapping document positions to file offsets."""

    data: bytearray = field(default_factory=bytearray)
    starts: list[int] = field(default_factory=list)  # document position of each segment
    offsets: list[int] = field(default_factory=list)  # file offset of each segment
    widths: list[int] = field(default_factory=list)  # bytes per character in the file
    sources: list[str] = field(default_factory=list)

    def add(self, offset: int, text: bytes, width: int, source: str) -> None:
        self.starts.append(len(self.data))
        self.offsets.append(offset)
        self.widths.append(width)
        self.sources.append(source)
        self.data += text
        self.data += b"\n"

    def locate(self, position: int) -> tuple[int, str]:
        """File offset and source kind of document ``position``."""
        index = bisect.bisect_right(self.starts, position) - 1
        delta = position - self.starts[index]
        return self.offsets[index] + delta * self.widths[index], self.sources[index]


def utf16le_runs(data: Blob) -> Iterator[tuple[int, bytes]]:
    for start, end in _utf16_windows(data):
        for match in _UTF16LE_RUN.finditer(data, start, end):
            yield match.start(), match.group()[::2]


_PAIRS = 2 * MIN_RUN  # bytes in the shortest run


@cache
def _utf16_database() -> Any:
    assert hyperscan is not None
    database = hyperscan.Database()
    pattern = rb"(?:[\x20-\x7e\t\n\r]\x00){%d}" % MIN_RUN
    database.compile(expressions=[pattern], ids=[0], elements=1, flags=[0])
    return database


def _utf16_windows(data: Blob) -> list[tuple[int, int]]:
    """Spans that hold every UTF-16LE run: Hyperscan reports where each shortest run ends
    (fast over megabytes of binary), so ``re`` only walks those spans; without Hyperscan,
    the whole file. Runs found are the same either way."""
    if hyperscan is None or len(data) < _PAIRS:
        return [(0, len(data))]
    windows: list[tuple[int, int]] = []

    def on_match(_id: int, _start: int, end: int, _flags: int, _context: object) -> None:
        start = end - _PAIRS
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))

    _utf16_database().scan(data, match_event_handler=on_match)
    return windows


def pyc_constants(data: bytes) -> Iterator[tuple[int, bytes]]:
    """String constants of a .pyc by their marshal type codes: bytes are read, never loaded."""
    seen: set[int] = set()
    for match in _PYC_SHORT.finditer(data, 16):
        start = match.start() + 2
        text = data[start : start + match.group(1)[0]]
        if _PRINTABLE.fullmatch(text) and start not in seen:
            seen.add(start)
            yield start, text
    for match in _PYC_LONG.finditer(data, 16):
        start = match.start() + 5
        text = data[start : start + int.from_bytes(match.group(1), "little")]
        if start in seen or len(text) < MIN_RUN:
            continue
        try:
            decoded = text.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if decoded.isprintable() or _PRINTABLE.fullmatch(text):
            seen.add(start)
            yield start, text


_CP_SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2}
_CP_SIZES |= {17: 4, 18: 4, 19: 2, 20: 2}


def class_constants(data: bytes) -> Iterator[tuple[int, bytes]]:
    """CONSTANT_Utf8 entries of a Java class file's constant pool."""
    if len(data) < 10 or data[:4] != b"\xca\xfe\xba\xbe":
        return
    count = int.from_bytes(data[8:10], "big")
    position = 10
    index = 1
    while index < count and position < len(data):
        tag = data[position]
        if tag == 1:
            length = int.from_bytes(data[position + 1 : position + 3], "big")
            start = position + 3
            yield start, data[start : start + length]
            position = start + length
        elif tag in _CP_SIZES:
            position += 1 + _CP_SIZES[tag]
            if tag in (5, 6):
                index += 1  # longs and doubles take two slots
        else:
            return  # malformed pool: stop, what was read stays
        index += 1


_MIN_CONSTANT = 8


def derived_document(data: Blob, kind: str) -> Derived:
    """UTF-16LE runs of any binary, plus .pyc and .class string constants."""
    derived = Derived()
    if kind == "pyc":
        for offset, text in pyc_constants(bytes(data)):
            derived.add(offset, text, 1, "pyc-constant")
    elif kind == "java-class":
        # Class files keep strings in modified UTF-8, never UTF-16; names and short
        # constants (most of a constant pool) cannot hold a secret any rule could name.
        for offset, text in class_constants(bytes(data)):
            if len(text) >= _MIN_CONSTANT:
                derived.add(offset, text, 1, "class-constant")
    else:
        for offset, text in utf16le_runs(data):
            derived.add(offset, text, 2, "binary-utf16le")
    return derived


def decode_text(data: Blob) -> tuple[Blob, str]:
    """Text as UTF-8 bytes for scanning, and the encoding it was read in."""
    head = bytes(data[:4096])
    encoding = None
    if head.startswith(b"\xff\xfe"):
        encoding = "utf-16-le"
        skip = 2
    elif head.startswith(b"\xfe\xff"):
        encoding = "utf-16-be"
        skip = 2
    elif len(head) >= 16:
        skip = 0
        half = len(head) // 2
        if head[1::2].count(0) > 0.9 * half and head[0::2].count(0) < 0.1 * half:
            encoding = "utf-16-le"
        elif head[0::2].count(0) > 0.9 * half and head[1::2].count(0) < 0.1 * half:
            encoding = "utf-16-be"
    if encoding is None:
        return data, "utf-8"
    raw = bytes(data[skip:])
    text = raw[: len(raw) - len(raw) % 2].decode(encoding, "replace")
    return text.encode("utf-8", "replace"), encoding.replace("-le", "le").replace("-be", "be")
