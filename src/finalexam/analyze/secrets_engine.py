"""The secret engine: every rule in one multi-pattern database, run over documents in chunks.

Hyperscan (when installed) tells which rules can match a chunk, compiled in prefilter mode so
it never misses what Python's ``re`` would find; the pure-``re`` path gets the same rule set
from the rules' keywords. Either way the rule's own ``re`` pattern then extracts the secret,
so both paths give identical findings. Chunks overlap by more than the longest secret, and
begin a little before the part they own so word boundaries see the preceding byte.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from finalexam.analyze.secrets_rules import RULES_DIR, SecretRule, load_rules
from finalexam.model import Blob

__all__ = ["RULES_DIR", "Candidate", "Engine", "default_engine", "example_matches"]

CHUNK_SIZE = 1024 * 1024
OVERLAP = 16 * 1024  # longer than any secret a rule can match (PEM blocks are bounded)
LOOKBEHIND = 64
MAX_HITS_PER_RULE = 200  # per document: a file full of one pattern says so 200 times

_hyperscan: Any
try:  # optional accelerator
    import hyperscan as _hyperscan

    HYPERSCAN_AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the environment
    _hyperscan = None
    HYPERSCAN_AVAILABLE = False


@dataclass(frozen=True)
class Candidate:
    """A pattern match before validation; positions are absolute in the scanned document."""

    rule: SecretRule
    match_start: int
    start: int
    end: int
    secret: bytes


def loosen(pattern: bytes) -> bytes:
    """A superset of ``pattern`` that Hyperscan compiles fast: long bounded repeats opened up.

    Prefilter mode already promises no missed match; widening repeats keeps that promise
    (every string the original matches, the loosened one matches) and cuts compile time
    from minutes to seconds.
    """
    pattern = _BOUNDED.sub(lambda m: b"{%d,}" % min(int(m.group(1)), _REPEAT_CAP), pattern)
    return _EXACT.sub(
        lambda m: m.group() if int(m.group(1)) <= _REPEAT_CAP else b"{%d,}" % _REPEAT_CAP, pattern
    )


_BOUNDED = re.compile(rb"(?<!\\)\{(\d+),(\d*)\}\??")
_EXACT = re.compile(rb"(?<!\\)\{(\d+)\}")
_REPEAT_CAP = 16


class _HyperscanPrefilter:
    """One Hyperscan block-mode database of every rule pattern; answers 'which rules hit'."""

    def __init__(self, rules: Sequence[SecretRule]) -> None:
        assert _hyperscan is not None
        hs: Any = _hyperscan
        self.flags = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
        patterns = [loosen(rule.hyperscan_pattern) for rule in rules]
        self.always: list[int] = []  # rules Hyperscan cannot take: always checked by re
        usable = list(range(len(rules)))
        self.database = _load_cached(patterns)
        if self.database is None:
            try:
                self.database = self._compile(patterns, usable)
            except Exception:
                usable = [i for i in usable if self._compiles(patterns[i])]
                self.always = sorted(set(range(len(rules))) - set(usable))
                self.database = self._compile(patterns, usable)
            else:
                _store_cached(patterns, self.database)
        self.scratch = hs.Scratch(self.database)

    def _compile(self, patterns: list[bytes], ids: list[int]) -> Any:
        hs: Any = _hyperscan
        database = hs.Database(mode=hs.HS_MODE_BLOCK)
        database.compile(
            expressions=[patterns[i] for i in ids],
            ids=ids,
            elements=len(ids),
            flags=[self.flags] * len(ids),
        )
        return database

    def _compiles(self, pattern: bytes) -> bool:
        try:
            self._compile([pattern], [0])
        except Exception:
            return False
        return True

    def hits(self, chunk: bytes) -> set[int]:
        found: set[int] = set(self.always)

        def on_match(rule_index: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(rule_index)

        self.database.scan(chunk, match_event_handler=on_match, scratch=self.scratch)
        return found


def _cache_path(patterns: list[bytes]) -> Path | None:
    try:
        import platformdirs

        digest = hashlib.sha256(b"\x00".join(patterns))
        digest.update(str(getattr(_hyperscan, "__version__", "")).encode())
        return (
            Path(platformdirs.user_cache_dir("finalexam"))
            / f"secrets-{digest.hexdigest()[:24]}.hsdb"
        )
    except Exception:
        return None


def _load_cached(patterns: list[bytes]) -> Any:
    """A database compiled by an earlier run with the same patterns (compiling takes seconds)."""
    path = _cache_path(patterns)
    if path is None or not path.is_file():
        return None
    try:
        return cast(Any, _hyperscan).loadb(
            path.read_bytes(), mode=cast(Any, _hyperscan).HS_MODE_BLOCK
        )
    except Exception:
        return None


def _store_cached(patterns: list[bytes], database: Any) -> None:
    path = _cache_path(patterns)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(cast(Any, _hyperscan).dumpb(database))
        scratch.replace(path)
    except Exception:
        return  # a cache is a convenience: a read-only home is fine


class Engine:
    """Compiled once per process; scans documents (bytes or mmap) for candidates."""

    def __init__(self, rules: Sequence[SecretRule], use_hyperscan: bool | None = None) -> None:
        self.rules = tuple(rules)
        want = HYPERSCAN_AVAILABLE if use_hyperscan is None else use_hyperscan
        if want and not HYPERSCAN_AVAILABLE:
            raise RuntimeError("hyperscan is not installed")
        self._prefilter = _HyperscanPrefilter(self.rules) if want else None
        self.name = "hyperscan" if self._prefilter else "re"

    def _rules_for(self, chunk: bytes) -> list[int]:
        """Rules worth running on ``chunk``: a keyword is present (and Hyperscan agrees)."""
        lowered = chunk.lower()
        if self._prefilter is None:
            candidates: Iterable[int] = range(len(self.rules))
        else:
            candidates = sorted(self._prefilter.hits(chunk))
        return [i for i in candidates if any(k in lowered for k in self.rules[i].keywords)]

    def scan(
        self,
        document: Blob,
        chunk_size: int = CHUNK_SIZE,
        overlap: int = OVERLAP,
    ) -> Iterator[Candidate]:
        """Every candidate in ``document``, in order of position, each reported once."""
        size = len(document)
        counts: dict[str, int] = {}
        position = 0
        while position < size:
            low = max(0, position - LOOKBEHIND)
            owned_end = min(size, position + chunk_size)
            chunk = bytes(document[low : min(size, owned_end + overlap)])
            found: list[Candidate] = []
            for index in self._rules_for(chunk):
                rule = self.rules[index]
                for match in rule.regex.finditer(chunk):
                    absolute = low + match.start()
                    if not position <= absolute < owned_end:
                        continue
                    if counts.get(rule.id, 0) >= MAX_HITS_PER_RULE:
                        break
                    counts[rule.id] = counts.get(rule.id, 0) + 1
                    start, end = match.span("secret")
                    found.append(
                        Candidate(rule, absolute, low + start, low + end, match.group("secret"))
                    )
            found.sort(key=lambda c: (c.start, c.rule.id))
            yield from found
            position = owned_end


@cache
def default_engine(use_hyperscan: bool | None = None) -> Engine:
    return Engine(load_rules(RULES_DIR), use_hyperscan)


def rule_by_id(rule_id: str) -> SecretRule:
    for rule in load_rules(RULES_DIR):
        if rule.id == rule_id:
            return rule
    raise KeyError(f"no secret rule {rule_id!r}")


def example_path(rule: SecretRule) -> str:
    """A path that satisfies the rule's path filters, for scanning its examples."""
    if rule.example_path:
        return rule.example_path
    if rule.include:
        return "app/" + rule.include[0].replace("*", "app")
    return "app/settings.txt"


def example_matches(rule_id: str, example: str) -> bool:
    """Does ``example``, scanned as a file, yield a finding of rule ``rule_id``?"""
    from finalexam.analyze.secrets_scan import scan_bytes  # the scan layer builds on this one

    rule = rule_by_id(rule_id)
    data = example.encode(rule.example_encoding)
    hits = scan_bytes(data, example_path(rule), binary=False)
    return any(hit.rule.id == rule_id for hit in hits)


def compile_check(pattern: str) -> re.Pattern[bytes]:
    """Compile a rule pattern the way the engine does (for rule tooling)."""
    return re.compile(pattern.encode("utf-8"))
