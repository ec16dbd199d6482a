"""Hostile binaries: truncated or random headers never raise out of a binary cataloger."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from finalexam.catalog import dotnet_pe, golang, jsbundle, native, rust
from finalexam.catalog.golang import MAGIC
from finalexam.formats.binformat import elf_dynamic, parse
from finalexam.model import FileEntry, FileType, Location

MAGICS = {
    FileType.ELF: [b"\x7fELF\x02\x01", b"\x7fELF\x01\x02"],
    FileType.PE: [b"MZ"],
    FileType.MACHO: [b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe\x00\x00\x00\x02"],
    FileType.WASM: [b"\x00asm\x01\x00\x00\x00"],
}
MAKERS = [golang.make, rust.make, native.make, jsbundle.make, dotnet_pe.make]


def _entry(data: bytes, file_type: FileType, name: str = "bin") -> FileEntry:
    return FileEntry(
        Location(("artifact", name)), len(data), "0" * 64, "0" * 40, file_type, _loader=lambda: data
    )


def _exercise(data: bytes, file_type: FileType) -> None:
    binary = parse(data)
    if binary is not None:
        elf_dynamic(data, binary)
        for section in binary.sections:
            assert section.size >= 0 and section.offset + section.size <= len(data)
    for make in MAKERS:
        cataloger = make()
        entry = _entry(data, file_type)
        if cataloger.accepts(entry):
            list(cataloger.catalog(entry))
        list(cataloger.finish())


@settings(max_examples=60, deadline=None)
@given(
    file_type=st.sampled_from(sorted(MAGICS)),
    choice=st.integers(0, 2),
    body=st.binary(max_size=600),
    with_go_magic=st.booleans(),
)
def test_random_headers_never_raise(
    file_type: FileType, choice: int, body: bytes, with_go_magic: bool
) -> None:
    magics = MAGICS[file_type]
    data = magics[choice % len(magics)] + body
    if with_go_magic:
        data += b"\x00" * (-len(data) % 16) + MAGIC + bytes([8, 2]) + body[:40]
    _exercise(data, file_type)


def test_section_table_pointing_past_the_end() -> None:
    header = bytearray(b"\x7fELF\x02\x01\x01" + b"\x00" * 57)
    struct.pack_into("<QHHH", header, 0x28, 10**12, 64, 3, 1)  # e_shoff far away
    struct.pack_into("<HHH", header, 0x3A, 64, 65535, 2)
    _exercise(bytes(header), FileType.ELF)
    pe = bytearray(b"MZ" + b"\x00" * 62)
    struct.pack_into("<I", pe, 0x3C, 10**9)
    _exercise(bytes(pe), FileType.PE)
