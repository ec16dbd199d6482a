"""Searching only around Hyperscan's match ends finds exactly what a whole-chunk search finds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finalexam.analyze.secrets import engine as secrets_engine
from finalexam.analyze.secrets.engine import (
    HYPERSCAN_AVAILABLE,
    Engine,
    _window,
    _windowed,
)
from finalexam.analyze.secrets.rules import RULES_DIR, load_rules
from finalexam.analyze.secrets.scan import scan_bytes

# Look-arounds, word boundaries, anchors, lazy and greedy repeats: everything a window edge
# could cut short if the search were not bounded far enough out.
TRICKY = [
    rb"tok[a-z]{0,4}=(?P<secret>[a-z0-9]{3,6})(?![a-z0-9])",
    rb"\bkey(?P<secret>\d{2,5}?)\b",
    rb"(?m)^pw:(?P<secret>\w{2,8})$",
    rb"(?<=[=:])(?P<secret>[ab]{2,4})(?=;|\Z)",
    rb"(?i)(?:x|xy)(?P<secret>[^;]{1,5});",
    rb"a(?!b(?=cc))(?P<secret>c{1,3})",
]
ALPHABET = st.sampled_from(
    [b"tok", b"key", b"pw:", b"=", b":", b";", b"\n", b"a", b"b", b"c", b"x", b"Y", b"1", b"7"]
)


def true_ends(regex: re.Pattern[bytes], data: bytes) -> set[int]:
    """Where a match from each start ends: what the windows must cover (Hyperscan reports a
    superset of these)."""
    matches = (regex.match(data, start) for start in range(len(data) + 1))
    return {match.end() for match in matches if match is not None}


@given(
    index=st.integers(0, len(TRICKY) - 1),
    pieces=st.lists(ALPHABET, max_size=30),
    extra=st.sets(st.integers(0, 120), max_size=10),
)
def test_windowed_search_equals_finditer(index: int, pieces: list[bytes], extra: set[int]) -> None:
    regex = re.compile(TRICKY[index])
    data = b"".join(pieces)
    window = _window(regex.pattern.decode())
    assert window is not None
    # Any superset of the true ends (Hyperscan's prefilter reports extra ones) gives the same.
    ends = sorted(true_ends(regex, data) | {e for e in extra if e <= len(data)})
    expected = [m.span() for m in regex.finditer(data)]
    assert [m.span() for m in _windowed(regex, data, ends, *window)] == expected


def test_unbounded_or_empty_patterns_get_no_window() -> None:
    assert _window(r"a+") is None
    assert _window(r"a(?=.*b)") is None
    assert _window(r"a?") is None
    assert _window(r"ab(?=c{2})") == (2, 4)


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_every_rule_example_is_found_the_same_with_and_without_windows() -> None:
    rules = load_rules(RULES_DIR)
    blob = "\n".join(e for r in rules for e in (*r.examples_match, *r.examples_benign))
    # Repeated with filler between, so windows are many and far apart.
    data = ("\n" + "x = 'plain value'\n" * 50).join([blob] * 3).encode("utf-8", "replace")
    fast = Engine(rules, True)
    slow = Engine(rules, False)
    spans = [(c.rule.id, c.start, c.end) for c in fast.scan(data)]
    assert spans == [(c.rule.id, c.start, c.end) for c in slow.scan(data)]
    assert len(spans) > 300


@pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")
def test_a_flood_of_match_ends_falls_back_to_whole_chunk_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(load_rules(RULES_DIR), True)
    data = b"".join(b'token = "Zq%dWx8vLp3Rt"\n' % n for n in range(400))
    assert engine._locator is not None
    assert engine._locator.ends(data, 100) is None  # more than 100 reports: flooded
    monkeypatch.setattr(secrets_engine, "MAX_ENDS_PER_CHUNK", 100)
    flooded = [(c.rule.id, c.start) for c in engine.scan(data)]
    monkeypatch.undo()
    assert flooded == [(c.rule.id, c.start) for c in engine.scan(data)]
    assert len(flooded) == secrets_engine.MAX_HITS_PER_RULE


def test_rules_excluded_by_path_are_not_searched() -> None:
    rule = next(r for r in load_rules(RULES_DIR) if r.id == "pgpass-password")
    data = b"db.internal:5432:app:app:Zq4Wx8vLp3RtYb7\n"
    engine = Engine([rule], HYPERSCAN_AVAILABLE)
    assert [c.rule.id for c in engine.scan(data)] == [rule.id]
    assert list(engine.scan(data, allowed=lambda r: False)) == []
    assert [h.rule.id for h in scan_bytes(data, "deploy/.pgpass", binary=False, engine=engine)]
    assert scan_bytes(data, "src/app.py", binary=False, engine=engine) == []
