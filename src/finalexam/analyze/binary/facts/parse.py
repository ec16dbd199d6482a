"""Dispatch by magic bytes to the format modules; LIEF stays quiet (no stderr logging).

LIEF (and the format modules built on it) is imported on the first binary: importing it
costs most of a second, which an artifact without binaries, or an exam without the
``binary`` analyzer, need not pay.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache

from finalexam.analyze.binary.facts.common import BinaryFacts, NotABinary

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
    examiner = _examiners().get(kind or "")
    if examiner is None:
        raise NotABinary("not an ELF, PE or Mach-O file")
    with warnings.catch_warnings():
        # Hostile headers carry values outside LIEF's enums; they are reported by number.
        warnings.simplefilter("ignore", RuntimeWarning)
        return examiner(data)


@cache
def _examiners() -> dict[str, Callable[[bytes], BinaryFacts]]:
    import lief

    from finalexam.analyze.binary.facts import elf, macho, pe

    lief.logging.disable()
    return {"elf": elf.examine, "pe": pe.examine, "macho": macho.examine}
