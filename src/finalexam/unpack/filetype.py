"""File type by magic bytes (and a cheap look at the text), never by extension alone."""

from __future__ import annotations

from finalexam.model import FileType

_SCRIPT_SUFFIXES = (
    ".py",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".sh",
    ".bash",
    ".ps1",
    ".psm1",
    ".bat",
    ".cmd",
    ".rb",
    ".pl",
    ".php",
    ".lua",
    ".vbs",
)
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"RIFF")
_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"(\xb5/\xfd",
    b"7z\xbc\xaf\x27\x1c",
    b"!<arch>\n",
    b"\xed\xab\xee\xdb",
)


def detect(head: bytes, name: str, size: int) -> FileType:
    if size == 0:
        return FileType.EMPTY
    if head.startswith(b"\x7fELF"):
        return FileType.ELF
    if head.startswith(b"MZ"):
        return FileType.PE
    if head[:4] in (
        b"\xfe\xed\xfa\xce",
        b"\xfe\xed\xfa\xcf",
        b"\xce\xfa\xed\xfe",
        b"\xcf\xfa\xed\xfe",
    ):
        return FileType.MACHO
    if head[:4] == b"\xca\xfe\xba\xbe":
        # Java class files and Mach-O fat binaries share this magic; a fat binary has a
        # small architecture count where a class file has its minor/major version.
        return FileType.MACHO if int.from_bytes(head[4:8], "big") < 40 else FileType.JAVA_CLASS
    if head.startswith(b"dex\n"):
        return FileType.DEX
    if head.startswith(b"\x00asm"):
        return FileType.WASM
    if len(head) >= 4 and head[2:4] == b"\r\n" and name.endswith(".pyc"):
        return FileType.PYC
    if head.startswith(_ARCHIVE_MAGIC) or (len(head) > 262 and head[257:262] == b"ustar"):
        return FileType.ARCHIVE
    if head.startswith(_IMAGE_MAGIC):
        return FileType.IMAGE
    sample = head[:2048]
    if b"\x00" in sample and not _looks_utf16(sample):
        return FileType.DATA
    stripped = sample.lstrip()
    if head.startswith(b"#!") or name.endswith(_SCRIPT_SUFFIXES):
        return FileType.SCRIPT
    if stripped[:1] in (b"{", b"[") and name.endswith((".json", ".map", ".lock")):
        return FileType.JSON
    if stripped.startswith(b"<?xml") or name.endswith((".xml", ".pom")):
        return FileType.XML
    return FileType.TEXT if _mostly_printable(sample) else FileType.DATA


def _looks_utf16(sample: bytes) -> bool:
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    odd_zeros = sample[1::2].count(0)
    return len(sample) >= 16 and odd_zeros > 0.9 * (len(sample) // 2)


def _mostly_printable(sample: bytes) -> bool:
    if not sample:
        return True
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        if error.start > len(sample) - 4:
            return True  # a multi-byte character cut by the sample boundary
    printable = sum(1 for b in sample if 32 <= b < 127 or b in (9, 10, 13))
    return printable / len(sample) > 0.9
