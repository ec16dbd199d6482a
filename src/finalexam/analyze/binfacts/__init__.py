"""Facts about compiled binaries (ELF, PE, Mach-O), one module per format or concern.

``examine`` parses a binary with LIEF and returns plain facts; the ``binary`` analyzer turns
them into the report's ``binaries`` section and into findings.
"""

from __future__ import annotations

from finalexam.analyze.binfacts.common import BinaryFacts, NotABinary, Section
from finalexam.analyze.binfacts.parse import examine

__all__ = ["BinaryFacts", "NotABinary", "Section", "examine"]
