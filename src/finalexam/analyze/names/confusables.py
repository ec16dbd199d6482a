"""Letters that look like Latin ones, from Unicode's confusables data (UTS #39).

The data is the ``confusable-homoglyphs`` package's copy of Unicode's ``confusables.txt``:
for every ASCII letter, the characters Unicode lists as confusable with it. A name is compared
in lower case, so a character counts as a look-alike of a letter when it, or its capital, is
confusable with that letter (Cyrillic small em, U+043C: its capital U+041C is confusable with
``M``). A glyph with an overlay or accent (``ł``, Unicode's ``l`` + combining solidus) is read
as its base letter. A few characters look like two letters, depending on case (Greek small nu,
U+03BD, is confusable with ``v``, its capital with ``N``): a name is folded every way they
allow.
"""

from __future__ import annotations

import itertools
import string
import unicodedata
from functools import cache

MAX_FOLDINGS = 16  # names with more ambiguous letters are folded the first ways only
_DIRECTION_MARKS = "\u200e\u200f"  # the data wraps right-to-left characters in these


def _bare(glyph: str) -> str:
    """A glyph without direction marks and combining marks (overlays, accents)."""
    return "".join(
        ch for ch in glyph if ch not in _DIRECTION_MARKS and not unicodedata.combining(ch)
    )


@cache
def latin_lookalikes() -> dict[str, tuple[str, ...]]:
    """Lower-case character -> the ASCII letters it may stand for (sorted)."""
    from confusable_homoglyphs.confusables import confusables_data  # 0.1 s: only when needed

    found: dict[str, set[str]] = {}
    for key, glyphs in confusables_data.items():
        letter = _bare(key)
        if len(letter) != 1 or letter not in string.ascii_letters:
            continue
        for glyph in glyphs:
            char = _bare(str(glyph.get("c", "")))
            if len(char) == 1 and not char.isascii():
                found.setdefault(char.lower(), set()).add(letter.lower())
    return {char: tuple(sorted(letters)) for char, letters in found.items()}


def latin_foldings(text: str) -> list[str]:
    """``text`` with every look-alike letter replaced by the ASCII letter it imitates (one
    string per reading of the ambiguous ones; ``[text]`` when nothing is folded)."""
    if text.isascii():
        return [text]
    table = latin_lookalikes()
    choices = [table.get(ch, (ch,)) for ch in text]
    readings = itertools.islice(itertools.product(*choices), MAX_FOLDINGS)
    return ["".join(reading) for reading in readings]
