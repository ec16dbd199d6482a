"""Compiled Hyperscan databases cached between runs: reused when the inputs match, and never
trusted blindly (a corrupt or unwritable cache falls back to compiling)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from finalexam.analyze.secrets.engine import HYPERSCAN_AVAILABLE, Engine
from finalexam.analyze.secrets.rules import RULES_DIR, load_rules
from finalexam.matching import hscache
from finalexam.matching.prefilter import Prefilter

pytestmark = pytest.mark.skipif(not HYPERSCAN_AVAILABLE, reason="hyperscan not installed")

DOCUMENT = b'config = {"token": "Zq4Wx8vLp3RtYb7Kd2"}\nAKIAZ7Q4WX8VLP3RTYB7\n'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "finalexam"


def spans(engine: Engine) -> list[tuple[str, int, int]]:
    return [(c.rule.id, c.start, c.end) for c in engine.scan(DOCUMENT)]


def test_secret_database_is_stored_then_reused(cache_home: Path) -> None:
    rules = load_rules(RULES_DIR)
    compiled = Engine(rules, True)
    (stored,) = cache_home.glob("secrets-*.hsdb")
    before = stored.stat().st_mtime_ns
    reused = Engine(rules, True)
    assert stored.stat().st_mtime_ns == before  # loaded, not compiled and written again
    assert spans(reused) == spans(compiled) and spans(compiled)


def test_corrupt_cache_falls_back_to_compiling(cache_home: Path) -> None:
    rules = load_rules(RULES_DIR)
    expected = spans(Engine(rules, True))
    (stored,) = cache_home.glob("secrets-*.hsdb")
    stored.write_bytes(b"not a database")
    assert spans(Engine(rules, True)) == expected


def test_other_patterns_or_flags_miss() -> None:
    key = hscache.cache_path("x", [b"abc"], 0, 1)
    assert key is not None
    assert key != hscache.cache_path("x", [b"abd"], 0, 1)
    assert key != hscache.cache_path("x", [b"abc"], 2, 1)


def test_unwritable_cache_is_only_slower(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    import re

    prefilter = Prefilter([re.compile(r"exec\s*\("), re.compile(r"base64")])
    assert prefilter.candidates("x = exec (1)") == {0}


def test_stale_databases_of_changed_rules_are_removed(cache_home: Path) -> None:
    cache_home.mkdir(parents=True)
    old = [cache_home / f"secrets-{n:024x}.hsdb" for n in range(hscache.KEEP_PER_NAME + 2)]
    for age, path in enumerate(old, 1):
        path.write_bytes(b"stale")
        os.utime(path, ns=(0, 10**18 - age * 10**12))  # older than anything written now
    other = cache_home / "prefilter-000000000000000000000000.hsdb"
    other.write_bytes(b"another kind")
    Engine(load_rules(RULES_DIR), True)
    kept = sorted(cache_home.glob("secrets-*.hsdb"))
    assert len(kept) == hscache.KEEP_PER_NAME
    assert old[0] in kept and old[-1] not in kept and old[-2] not in kept  # the oldest go
    assert other.exists()
