"""Container formats. Order matters: the most specific format is sniffed first."""

from __future__ import annotations

from finalexam.unpack.base import Unpacker
from finalexam.unpack.compressed import CompressedUnpacker
from finalexam.unpack.tar import TarUnpacker
from finalexam.unpack.zip import ZipUnpacker

UNPACKERS: tuple[Unpacker, ...] = (
    ZipUnpacker(),
    TarUnpacker(),
    CompressedUnpacker(),
)
