"""The secret engine: every rule in one multi-pattern database, run over documents in chunks.

Hyperscan (when installed) tells which rules can match a chunk, compiled in prefilter mode so
it never misses what Python's ``re`` would find; the pure-``re`` path gets the same rule set
from the rules' keywords. Either way the rule's own ``re`` pattern then extracts the secret,
so both paths give identical findings. Chunks overlap by more than the longest secret, and
begin a little before the part they own so word boundaries see the preceding byte.

Hyperscan also says where each rule's (widened) pattern ends. Every real match ends at one of
those offsets, so a rule whose matches have a bounded width only needs ``re`` around them
(see ``_windowed``) instead of over the whole chunk: the same matches, found without walking
megabytes of JSON once per generic rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from re import _parser  # type: ignore[attr-defined]  # the width of a pattern
from typing import Any

from finalexam.analyze.secrets.rules import RULES_DIR, SecretRule, load_rules
from finalexam.matching import hscache
from finalexam.model import Blob

__all__ = [
    "RULES_DIR",
    "Candidate",
    "Engine",
    "default_engine",
    "rule_patterns",
]

CHUNK_SIZE = 1024 * 1024
OVERLAP = 16 * 1024  # longer than any secret a rule can match (PEM blocks are bounded)
LOOKBEHIND = 64
MAX_HITS_PER_RULE = 200  # per document: a file full of one pattern says so 200 times
# Match ends Hyperscan may report for one chunk before the engine stops listening and runs
# every candidate rule over the whole chunk instead (a file built to flood the callback).
MAX_ENDS_PER_CHUNK = 50_000

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
    # the pattern's other named groups (key, op, call, user, scheme) for filtered rules
    parts: tuple[tuple[str, bytes], ...] = ()


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
    """One Hyperscan block-mode database of every rule pattern.

    ``single=True`` answers 'which rules hit' (one report per rule); otherwise every end
    offset of every rule is reported (``ends``), which also tells which rules hit.
    """

    def __init__(self, rules: Sequence[SecretRule], *, single: bool = True) -> None:
        assert _hyperscan is not None
        hs: Any = _hyperscan
        self.flags = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_ALLOWEMPTY
        if single:
            self.flags |= hs.HS_FLAG_SINGLEMATCH
        patterns = [loosen(rule.hyperscan_pattern) for rule in rules]
        # rules Hyperscan cannot take are always checked by re
        self.database, self.always = hscache.build("secrets", patterns, self.flags)
        self.scratch = hs.Scratch(self.database)

    def hits(self, chunk: bytes) -> set[int]:
        found: set[int] = set(self.always)

        def on_match(rule_index: int, start: int, end: int, flags: int, context: object) -> None:
            found.add(rule_index)

        self.database.scan(chunk, match_event_handler=on_match, scratch=self.scratch)
        return found

    def ends(self, chunk: bytes, limit: int) -> dict[int, list[int]] | None:
        """End offsets of each hitting rule, or None past ``limit`` reports (flooded)."""
        found: dict[int, list[int]] = {}
        count = 0

        def on_match(rule_index: int, start: int, end: int, flags: int, context: object) -> bool:
            nonlocal count
            count += 1
            found.setdefault(rule_index, []).append(end)
            return count > limit  # True stops the scan

        try:
            self.database.scan(chunk, match_event_handler=on_match, scratch=self.scratch)
        except Exception:  # a stopped scan raises in some bindings
            return None
        return None if count > limit else found


def _lookahead_width(items: Any) -> int | None:
    """Bytes any lookahead in a parsed pattern may read past where it stands (None: no bound)."""
    total = 0
    for op, value in items:
        name = str(op)
        nested: list[Any] = []
        if name in ("ASSERT", "ASSERT_NOT"):
            direction, sub = value
            if direction == 1:
                width = sub.getwidth()[1]
                if width >= _parser.MAXREPEAT:
                    return None
                total += width
            nested = [sub]
        elif name == "SUBPATTERN":
            nested = [value[-1]]
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            nested = [value[2]]
        elif name == "BRANCH":
            nested = list(value[1])
        elif name == "ATOMIC_GROUP":
            nested = [value]
        elif name == "GROUPREF_EXISTS":
            nested = [v for v in value[1:] if v is not None]
        for sub in nested:
            width = _lookahead_width(sub)
            if width is None:
                return None
            total += width
    return total


@cache
def _window(pattern: str) -> tuple[int, int] | None:
    """(longest match, bytes read past it) of a pattern, or None when either is unbounded
    or the pattern can match the empty string."""
    try:
        parsed = _parser.parse(pattern)
        low, high = parsed.getwidth()
    except Exception:
        return None
    ahead = _lookahead_width(parsed)
    if low == 0 or high >= _parser.MAXREPEAT or high > 64 * 1024 or ahead is None:
        return None
    return high, ahead + 2  # \b, $ and \Z look at most two bytes further


def _windowed(
    regex: re.Pattern[bytes], chunk: bytes, ends: list[int], width: int, ahead: int
) -> Iterator[re.Match[bytes]]:
    """The matches ``regex.finditer(chunk)`` yields, looking only where they can be.

    Every match ends at one of ``ends`` and is at most ``width`` long, so it starts in some
    ``[end - width, end]``. Positions outside those windows cannot start a match. Inside one,
    ``search`` is bounded by ``endpos`` far enough out that no attempt starting in the window
    can read up to it, so each attempt sees exactly what it would see in the whole chunk
    (``pos`` keeps look-behinds and ``\\b`` seeing the bytes before it). Matches never
    overlap, as with ``finditer``.
    """
    size = len(chunk)
    windows: list[list[int]] = []
    for end in sorted(set(ends)):
        start = max(0, end - width)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    resume = 0  # where finditer would search next: the end of the last match
    for start, end in windows:
        position = max(start, resume)
        stop = min(size, end + width + ahead)
        while position <= end:
            match = regex.search(chunk, position, stop)
            if match is None or match.start() > end:
                break
            yield match
            resume = position = match.end()


class Engine:
    """Compiled once per process; scans documents (bytes or mmap) for candidates."""

    def __init__(self, rules: Sequence[SecretRule], use_hyperscan: bool | None = None) -> None:
        self.rules = tuple(rules)
        want = HYPERSCAN_AVAILABLE if use_hyperscan is None else use_hyperscan
        if want and not HYPERSCAN_AVAILABLE:
            raise RuntimeError("hyperscan is not installed")
        self._locator = _HyperscanPrefilter(self.rules, single=False) if want else None
        self._prefilter: _HyperscanPrefilter | None = None  # built on the first flooded chunk
        self.name = "hyperscan" if self._locator else "re"

    def _hits(self, chunk: bytes) -> tuple[list[int], dict[int, list[int]] | None]:
        """Rules Hyperscan says may match ``chunk``, and where their matches end if known."""
        assert self._locator is not None
        ends = self._locator.ends(chunk, MAX_ENDS_PER_CHUNK)
        if ends is not None:
            return sorted({*ends, *self._locator.always}), ends
        if self._prefilter is None:
            self._prefilter = _HyperscanPrefilter(self.rules)
        return sorted(self._prefilter.hits(chunk)), None

    def scan(
        self,
        document: Blob,
        chunk_size: int = CHUNK_SIZE,
        overlap: int = OVERLAP,
        allowed: Callable[[SecretRule], bool] | None = None,
    ) -> Iterator[Candidate]:
        """Every candidate in ``document``, in order of position, each reported once.

        ``allowed`` skips rules that could report nothing here (path filters): their
        candidates would all be dropped, so they are not searched for.
        """
        size = len(document)
        counts: dict[str, int] = {}
        verdicts: dict[int, bool] = {}
        position = 0
        while position < size:
            low = max(0, position - LOOKBEHIND)
            owned_end = min(size, position + chunk_size)
            chunk = bytes(document[low : min(size, owned_end + overlap)])
            lowered = chunk.lower()
            ends: dict[int, list[int]] | None = None
            if self._locator is None:
                candidates: Iterable[int] = range(len(self.rules))
            else:
                candidates, ends = self._hits(chunk)
            found: list[Candidate] = []
            for index in candidates:
                rule = self.rules[index]
                if not any(k in lowered for k in rule.keywords):
                    continue
                if allowed is not None:
                    if index not in verdicts:
                        verdicts[index] = allowed(rule)
                    if not verdicts[index]:
                        continue
                window = _window(rule.pattern)
                rule_ends = ends.get(index) if ends is not None else None
                matches: Iterable[re.Match[bytes]]
                if window is not None and rule_ends is not None:
                    matches = _windowed(rule.regex, chunk, rule_ends, *window)
                else:
                    matches = rule.regex.finditer(chunk)
                for match in matches:
                    absolute = low + match.start()
                    if not position <= absolute < owned_end:
                        continue
                    if counts.get(rule.id, 0) >= MAX_HITS_PER_RULE:
                        break
                    counts[rule.id] = counts.get(rule.id, 0) + 1
                    start, end = match.span("secret")
                    parts = (
                        tuple((name, match.group(name) or b"") for name in rule.part_names)
                        if rule.filter
                        else ()
                    )
                    found.append(
                        Candidate(
                            rule, absolute, low + start, low + end, match.group("secret"), parts
                        )
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


def rule_patterns(rule_id: str) -> tuple[re.Pattern[bytes] | re.Pattern[str], ...]:
    """Every regular expression rule ``rule_id`` runs (for the linear-time lint)."""
    rule = rule_by_id(rule_id)
    return (rule.regex, *rule.allowlist)


def compile_check(pattern: str) -> re.Pattern[bytes]:
    """Compile a rule pattern the way the engine does (for rule tooling)."""
    return re.compile(pattern.encode("utf-8"))
