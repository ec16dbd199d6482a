"""The dictionary generator (bench/secrets/words.py) reads SCOWL's lists from a real .deb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distbuild import DPKG_DEB, build_deb
from finalexam.analyze.secrets.features import common_words, dictionary

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "secrets" / "words.py"


@pytest.mark.skipif(DPKG_DEB is None, reason="dpkg-deb is not installed")
def test_the_generator_keeps_plain_words_of_the_chosen_lists_by_size(tmp_path: Path) -> None:
    lists = "usr/share/dict/scowl/"
    deb = build_deb(
        tmp_path,
        "scowl",
        "2020.12.07-2",
        architecture="all",
        files={
            lists + "english-words.10": "the\napple\napple's\ncafé\nox\n",
            lists + "american-words.20": "color\napple\n",
            lists + "english-words.35": "collision\ncancellation\n",
            lists + "english-words.60": "zymurgy\n",
            lists + "english-upper.10": "Paris\n",
            lists + "english-abbreviations.10": "etc\n",
            "usr/share/doc/scowl/copyright": "SCOWL: Copyright 2000-2011 by Kevin Atkinson\n",
        },
    )
    out = tmp_path / "words.txt"
    subprocess.run(
        [sys.executable, GENERATOR, "--deb", deb, "--size", "50", "--out", out, "--write"],
        check=True,
        capture_output=True,
    )
    text = out.read_text()
    assert "# SCOWL: Copyright 2000-2011 by Kevin Atkinson\n" in text  # the notice travels
    sections: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("## size "):
            current = sections.setdefault(line.removeprefix("## size "), [])
        elif not line.startswith("#"):
            current.append(line)
    # possessives, accents, two letters, names, abbreviations and sizes over 50 are left out;
    # a word is listed once, under the first size that has it
    assert sections == {
        "10": ["apple", "the"],
        "20": ["color"],
        "35": ["cancellation", "collision"],
    }


def test_the_committed_dictionary_holds_the_common_words_and_more() -> None:
    assert common_words() < dictionary()
    assert len(common_words()) > 10_000 and len(dictionary()) > 50_000
    assert "hunter" in dictionary() and "hunter" not in common_words()  # size 35
