"""Shannon entropy: the one measure of how random a string or a run of bytes looks, used by
the secret validators and filters, the obfuscation heuristics and the packer checks."""

from __future__ import annotations

import math
from collections import Counter


def shannon_entropy(symbols: str | bytes) -> float:
    """Bits per symbol (character of a string, byte of bytes); 0.0 when empty."""
    if not symbols:
        return 0.0
    total = len(symbols)
    return -sum(n / total * math.log2(n / total) for n in Counter(symbols).values())
