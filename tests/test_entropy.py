"""One entropy measure for strings and bytes: secrets, obfuscation and packers agree."""

from __future__ import annotations

import math

from finalexam.entropy import shannon_entropy


def test_bits_per_symbol_of_strings_and_bytes() -> None:
    assert shannon_entropy("") == shannon_entropy(b"") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab") == shannon_entropy(b"ab") == 1.0
    assert shannon_entropy(bytes(range(256))) == 8.0
    expected = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert math.isclose(shannon_entropy("aab"), expected)
    # a character is one symbol, whatever its UTF-8 length
    assert shannon_entropy("\u00e9\u00e9") == 0.0 and shannon_entropy("\u00e9".encode()) == 1.0
