"""Container formats. Order matters: the most specific format is sniffed first."""

from __future__ import annotations

from finalexam.unpack.ar import ArUnpacker
from finalexam.unpack.base import Unpacker
from finalexam.unpack.compressed import CompressedUnpacker
from finalexam.unpack.cpio import CpioUnpacker
from finalexam.unpack.oci import OciImageUnpacker
from finalexam.unpack.rpm import RpmUnpacker
from finalexam.unpack.sevenzip import SevenZipUnpacker
from finalexam.unpack.tar import TarUnpacker
from finalexam.unpack.zip import ZipUnpacker

UNPACKERS: tuple[Unpacker, ...] = (
    OciImageUnpacker(),  # before tar: an image is a tar with a manifest
    ZipUnpacker(),
    ArUnpacker(),
    RpmUnpacker(),
    CpioUnpacker(),
    SevenZipUnpacker(),
    TarUnpacker(),
    CompressedUnpacker(),  # last: a compressed tar is claimed by the tar unpacker
)
