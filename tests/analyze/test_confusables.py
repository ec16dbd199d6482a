"""Look-alike letters come from Unicode's confusables data: every script and style Unicode
lists, capitals read in lower case, overlays read as their base letter, ambiguous letters
folded every way."""

from __future__ import annotations

import pytest

from finalexam.analyze.names.confusables import MAX_FOLDINGS, latin_foldings, latin_lookalikes
from finalexam.analyze.names.similarity import check_name


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("r\u0435quests", "requests"),  # Cyrillic small ie
        ("nu\u043cpy", "numpy"),  # Cyrillic small em: its capital is confusable with M
        ("\uff4eumpy", "numpy"),  # fullwidth n
        ("\U0001d427umpy", "numpy"),  # mathematical bold n
        ("f\u0142ask", "flask"),  # l with stroke: Unicode's l with an overlay
        ("\u0261it", "git"),  # Latin script g
    ],
)
def test_look_alikes_fold_to_the_letters_they_imitate(text: str, folded: str) -> None:
    assert folded in latin_foldings(text)


def test_ascii_is_left_alone_and_other_letters_stay() -> None:
    assert latin_foldings("requests") == ["requests"]
    assert latin_foldings("\u0436ack") == ["\u0436ack"]  # Cyrillic zhe imitates no letter
    assert "\u0436" not in latin_lookalikes()


def test_ambiguous_letters_are_folded_every_way_within_a_bound() -> None:
    assert sorted(latin_foldings("f\u04cfask")) == ["fiask", "flask"]  # palochka: i or l
    assert len(latin_foldings("\u03b9" * 10)) == MAX_FOLDINGS


def test_a_homoglyph_squat_names_its_target() -> None:
    squat = check_name("nu\u043cpy", "PyPI")
    assert squat is not None and (squat.target, squat.technique) == ("numpy", "homoglyph")
    squat = check_name("f\u04cfask", "PyPI")
    assert squat is not None and (squat.target, squat.technique) == ("flask", "homoglyph")
