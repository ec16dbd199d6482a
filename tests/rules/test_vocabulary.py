"""Vocabularies are data any language's reader can use: the four ways a name belongs, and
what a broken file says."""

from __future__ import annotations

from pathlib import Path

import pytest

from finalexam.analyze.behavior.python import vocabulary as python
from finalexam.analyze.behavior.vocabulary import (
    RULES_DIR,
    VocabularyError,
    read_vocabulary,
    vocabularies,
)


def test_a_name_belongs_by_any_part(tmp_path: Path) -> None:
    path = tmp_path / "javascript" / "senders.toml"
    path.parent.mkdir()
    path.write_text(
        'title = "t"\ndescription = "d"\nexact = ["fetch"]\nprefixes = ["axios."]\n'
        "suffixes = ['.sendBeacon']\npattern = '^XMLHttpRequest\\.(open|send)$'\n"
    )
    vocabulary = read_vocabulary(path)
    assert vocabulary.id == "javascript.senders"  # language and stem when the file has no id
    for name in ("fetch", "axios.post", "navigator.sendBeacon", "XMLHttpRequest.send"):
        assert name in vocabulary
    for name in ("fetcher", "my.axios.post", "sendBeacon", "XMLHttpRequest.abort"):
        assert name not in vocabulary


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title = "t"\n', "needs one of exact, prefixes, suffixes, pattern"),
        ("exact = [1]\n", "exact must be a list of names"),
        ("pattern = '(unclosed'\n", "pattern does not compile"),
        ("exact = [\n", "python/x.toml"),
    ],
)
def test_broken_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "python" / "x.toml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(VocabularyError, match=message):
        read_vocabulary(path)


def test_the_python_reader_uses_the_bundled_files() -> None:
    stems = {path.stem for path in (RULES_DIR / "python").glob("*.toml")}
    assert set(vocabularies("python")) == stems
    assert python.is_decoder("cipher.decrypt") and python.is_decoder("base64.b85decode")
    assert not python.is_decoder("json.loads")
    assert python.ENV_WHOLE == "os.environ"
    assert python.EVALUATORS | {"__import__", "getattr", "open"} == python.BUILTIN_CALLABLES
    # a long run that used to make the code-like pattern quadratic is read in linear time
    assert python.CODE_LIKE.search("\n" * 200_000 + "x") is None
    assert python.CODE_LIKE.search("x = 1;\n\n   import os")
