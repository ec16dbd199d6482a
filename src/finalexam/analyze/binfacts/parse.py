"""Dispatch by magic bytes to the format modules; LIEF stays quiet (no stderr logging)."""

from __future__ import annotations

import warnings

import lief

from finalexam.analyze.binfacts import elf, macho, pe
from finalexam.analyze.binfacts.common import BinaryFacts, NotABinary

lief.logging.disable()

_MACHO_MAGIC = (
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)


def binary_format(head: bytes) -> str | None:
    if head.startswith(b"\x7fELF"):
        return "elf"
    if head.startswith(b"MZ"):
        return "pe"
    if head[:4] in _MACHO_MAGIC:
        return "macho"
    return None


def examine(data: bytes) -> BinaryFacts:
    """Facts about one binary. Raises NotABinary or BrokenBinary (never a LIEF error)."""
    kind = binary_format(data[:4])
    examiner = {"elf": elf.examine, "pe": pe.examine, "macho": macho.examine}.get(kind or "")
    if examiner is None:
        raise NotABinary("not an ELF, PE or Mach-O file")
    with warnings.catch_warnings():
        # Hostile headers carry values outside LIEF's enums; they are reported by number.
        warnings.simplefilter("ignore", RuntimeWarning)
        return examiner(data)
