"""Version fingerprints as data: one TOML rule per library, all compiled into one scanner.

A rule names a library and gives one or more byte patterns, each with a named ``version``
group. Patterns are scanned together in one pass (Hyperscan when installed, otherwise one
compiled ``re`` alternation); a hit is then confirmed by the rule's own regex, and a pattern
may require further literals elsewhere in the file (a bare ``1.2.3`` proves nothing on its
own; beside a library's unique error message it does).

Patterns avoid look-around and back-references so both engines accept them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finalexam.model import Blob, Confidence

hyperscan: Any
try:  # optional accelerator
    import hyperscan
except ImportError:  # pragma: no cover - depends on the environment
    hyperscan = None

RULES_ROOT = Path(__file__).resolve().parents[1] / "rules"
_WINDOW = 512  # longest text a pattern may span, from the start of its match
_VERSION_GROUP = "(?P<version>"
_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


class RuleError(ValueError):
    """A rule file is malformed: a bug in the shipped data, caught by the test suite."""


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[bytes]
    requires: tuple[bytes, ...] = ()
    confidence: Confidence = Confidence.MEDIUM

    @property
    def anchor(self) -> bytes:
        """The longest literal every match contains (a fast ``find`` gate for ``re``)."""
        return literal_anchor(self.regex.pattern)


def literal_anchor(pattern: bytes) -> bytes:
    """Longest run of literal bytes at the top level of a regex (b"" when there is none)."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        parsed: Any = _parser.parse(pattern)
    except Exception:  # an internal API: without it, no gate (correct, only slower)
        return b""
    literal = _parser.LITERAL
    best = run = b""
    for op, argument in parsed:
        if op is literal:
            run += bytes([argument])
            best = max(best, run, key=len)
        else:
            run = b""
    return best


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    purl: str  # template with {version}
    patterns: tuple[Pattern, ...]
    cpe: str | None = None
    ecosystem: str = "generic"
    version_split: tuple[int, ...] = ()  # digit groups of a packed version, e.g. 20914
    files: tuple[str, ...] = ()  # library file base names it ships as (liblzma for xz)
    match_examples: tuple[tuple[str, str], ...] = ()  # (text, expected version)
    benign_examples: tuple[str, ...] = ()
    source: str = ""

    def version(self, raw: str) -> str:
        if not self.version_split or not raw.isdigit() or len(raw) != sum(self.version_split):
            return raw
        parts, at = [], 0
        for width in self.version_split:
            parts.append(str(int(raw[at : at + width])))
            at += width
        return ".".join(parts)


@dataclass(frozen=True)
class Hit:
    rule: Rule
    version: str
    offset: int
    snippet: str
    confidence: Confidence
    gated: bool = False  # a bare version accepted only beside the pattern's required literals


def _text(value: Any, what: str, path: Path) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(f"{path.name}: {what} must be a non-empty string")
    return value


def load_rule(path: Path) -> Rule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    rule_id = _text(data.get("id"), "id", path)
    if rule_id != path.stem:
        raise RuleError(f"{path.name}: id {rule_id!r} must match the file name")
    patterns = []
    for entry in data.get("patterns", []):
        source = _text(entry.get("regex"), "patterns.regex", path)
        if source.count(_VERSION_GROUP) != 1:
            raise RuleError(f"{path.name}: each regex needs exactly one (?P<version>...) group")
        try:
            regex = re.compile(source.encode("latin-1"))
        except re.error as error:
            raise RuleError(f"{path.name}: bad regex {source!r}: {error}") from None
        requires = tuple(_text(r, "requires", path).encode() for r in entry.get("requires", []))
        confidence = Confidence(entry.get("confidence", "medium"))
        patterns.append(Pattern(regex, requires, confidence))
    if not patterns:
        raise RuleError(f"{path.name}: no [[patterns]]")
    examples = data.get("examples", {})
    matches = tuple(
        (_text(e.get("text"), "examples.match.text", path), str(e.get("version", "")))
        for e in examples.get("match", [])
    )
    benign = tuple(_text(e, "examples.benign", path) for e in examples.get("benign", []))
    if not matches or not benign:
        raise RuleError(f"{path.name}: needs [examples] match and benign")
    purl = _text(data.get("purl"), "purl", path)
    if "{version}" not in purl:
        raise RuleError(f"{path.name}: purl template needs {{version}}")
    return Rule(
        id=rule_id,
        name=_text(data.get("name"), "name", path),
        purl=purl,
        patterns=tuple(patterns),
        cpe=data.get("cpe") or None,
        ecosystem=data.get("ecosystem", "generic"),
        version_split=tuple(int(n) for n in data.get("version_split", [])),
        files=tuple(str(f) for f in data.get("files", [])),
        match_examples=matches,
        benign_examples=benign,
        source=str(path.name),
    )


def load_rules(kind: str, root: Path = RULES_ROOT) -> tuple[Rule, ...]:
    return tuple(load_rule(path) for path in sorted((root / kind).glob("*.toml")))


@dataclass
class Scanner:
    """All patterns of a rule set, compiled once, scanned in one pass over a file."""

    rules: Sequence[Rule]
    use_hyperscan: bool = True
    _flat: list[tuple[Rule, Pattern]] = field(init=False, default_factory=list)
    _database: Any = field(init=False, default=None)
    _anchors: list[bytes] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._flat = [(rule, pattern) for rule in self.rules for pattern in rule.patterns]
        self._anchors = [pattern.anchor for _, pattern in self._flat]
        if self.use_hyperscan and hyperscan is not None:
            self._database = hyperscan.Database()
            expressions = [p.regex.pattern.replace(b"(?P<version>", b"(") for _, p in self._flat]
            self._database.compile(
                expressions=expressions,
                ids=list(range(len(expressions))),
                elements=len(expressions),
                flags=[0] * len(expressions),  # start-of-match tracking blows up bounded repeats
            )

    @property
    def engine(self) -> str:
        return "hyperscan" if self._database is not None else "re"

    def _candidates(self, data: Blob) -> Iterator[tuple[int, int, int]]:
        """(pattern index, start, end): a match starts at ``start`` or spans ``end``.

        Hyperscan reports where matches end (start-of-match tracking makes bounded repeats
        too large to compile); ``re`` reports where they start.
        """
        if self._database is not None:
            ends: set[tuple[int, int]] = set()

            def on_match(index: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
                ends.add((index, end))

            self._database.scan(data, match_event_handler=on_match)
            for index, end in sorted(ends, key=lambda item: (item[1], item[0])):
                yield index, end, end
            return
        cache: dict[bytes, bool] = {}
        for index, (_, pattern) in enumerate(self._flat):
            gates = (*pattern.requires, self._anchors[index])
            if all(self._present(data, r, cache) for r in gates if r):
                for match in pattern.regex.finditer(data):
                    yield index, match.start(), match.start()

    def scan(self, data: Blob) -> list[Hit]:
        best: dict[tuple[str, str], Hit] = {}  # the strongest evidence for each version
        tried: set[tuple[int, int]] = set()
        present: dict[bytes, bool] = {}
        for index, start, end in self._candidates(data):
            rule, pattern = self._flat[index]
            if not all(self._present(data, r, present) for r in pattern.requires):
                continue
            if self._database is not None:
                match = self._spanning(pattern.regex, data, end)
            else:
                match = pattern.regex.match(data, start, min(len(data), start + _WINDOW))
            if match is None or (index, match.start()) in tried:
                continue
            tried.add((index, match.start()))
            version = rule.version(match.group("version").decode("latin-1"))
            current = best.get((rule.id, version))
            if current is not None and _RANK[current.confidence] >= _RANK[pattern.confidence]:
                continue
            snippet = match.group(0).decode("latin-1").replace("\x00", "\\0")
            best[(rule.id, version)] = Hit(
                rule,
                version,
                match.start(),
                snippet[:120],
                pattern.confidence,
                bool(pattern.requires),
            )
        hits = sorted(best.values(), key=lambda h: (h.rule.id, h.version, h.offset))
        return _drop_ambiguous(hits)

    @staticmethod
    def _spanning(regex: re.Pattern[bytes], data: Blob, end: int) -> re.Match[bytes] | None:
        """The full match whose text covers the byte before ``end``."""
        window = min(len(data), end + _WINDOW)
        for match in regex.finditer(data, max(0, end - _WINDOW), window):
            if match.start() < end <= match.end():
                return match
            if match.start() >= end:
                break
        return None

    @staticmethod
    def _present(data: Blob, literal: bytes, cache: dict[bytes, bool]) -> bool:
        if literal not in cache:
            cache[literal] = data.find(literal) >= 0
        return cache[literal]


def _drop_ambiguous(hits: list[Hit]) -> list[Hit]:
    """A weak pattern (low confidence, or a bare version behind literal gates) that finds two
    versions of one library in one file has found neither."""

    def weak(hit: Hit) -> bool:
        return hit.gated or hit.confidence == Confidence.LOW

    versions: dict[str, set[str]] = {}
    for hit in hits:
        if weak(hit):
            versions.setdefault(hit.rule.id, set()).add(hit.version)
    return [hit for hit in hits if not (weak(hit) and len(versions[hit.rule.id]) > 1)]
