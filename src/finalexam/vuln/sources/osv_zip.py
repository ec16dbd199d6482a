"""An OSV export zip on disk (``all.zip`` of one ecosystem, or any zip of ``*.json`` records)."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from finalexam.errors import InputError
from finalexam.vuln.sources.base import Fetched, Member, Validators

_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def zip_members(path: Path, label: str) -> Iterator[Member]:
    """Every ``*.json`` member of the zip at ``path``; ``label`` names it in messages."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(f"not a readable OSV zip ({error})", path=label) from None
    with archive, open(path, "rb") as handle:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            try:
                yield _zip_member(archive, handle, info, label)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, struct.error) as error:
                raise InputError(f"corrupt member {info.filename} ({error})", path=label) from None


def _zip_member(
    archive: zipfile.ZipFile, handle: BinaryIO, info: zipfile.ZipInfo, label: str
) -> Member:
    name = f"{label}!/{info.filename}"
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return name, archive.read(info), None  # stored, other codecs, encrypted: the slow path
    handle.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
    if header[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    handle.seek(info.header_offset + _LOCAL_HEADER.size + header[9] + header[10])
    blob = handle.read(info.compress_size)
    raw = zlib.decompress(blob, -15)
    if zlib.crc32(raw) != info.CRC or len(raw) != info.file_size:
        raise zipfile.BadZipFile("CRC mismatch")
    return name, raw, blob


@dataclass(frozen=True)
class OsvZip:
    kind = "OSV export zip"
    location: str

    @staticmethod
    def accepts(location: str) -> bool:
        path = Path(location)
        return path.is_file() and zipfile.is_zipfile(path)

    def fetch(self, workdir: Path, previous: Validators) -> AbstractContextManager[Fetched | None]:
        return nullcontext(Fetched(zip_members(Path(self.location), self.location)))
