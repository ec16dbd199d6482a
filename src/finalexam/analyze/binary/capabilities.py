"""Capabilities as data: one TOML rule per capability maps imports, symbols, libraries and
strings to what a binary is able to do, with the names that matched as evidence.

Rule file (``rules/capabilities/<id>.toml``)::

    id = "process-injection"           # == file stem
    title = "Process injection"
    severity = "medium"                # info: a fact only; low and above: also a finding
    description = "..."
    formats = ["pe"]                   # optional: elf, pe, macho
    combine = "any"                    # optional: families combine with any (default) or all
    [imports]                          # families: imports, symbols, libraries, strings
    all = ["VirtualAllocEx|NtAllocateVirtualMemory", "WriteProcessMemory"]
    any = ["CreateRemoteThread", "QueueUserAPC"]
    min = 1                            # optional: how many ``any`` entries must be present
    [examples]
    match = ["imports: VirtualAllocEx, WriteProcessMemory, CreateRemoteThread"]
    benign = ["imports: VirtualAlloc, WriteFile, CreateThread"]

A family matches when every ``all`` entry is present (``a|b`` = either) and at least ``min``
``any`` entries are. Names may use ``*`` wildcards. ``imports`` are imported functions (A/W
suffixes dropped), ``symbols`` any symbol (imported, exported or in the static symbol table),
``libraries`` linked libraries (case-insensitive), ``strings`` byte strings in the file (ASCII,
and UTF-16LE in PE files; case-insensitive). An example is ``family: item, item; family: item``
(plus ``format: elf`` to pick the format).
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.binary.facts.common import BinaryFacts, strip_wide_suffix
from finalexam.model import Severity

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "capabilities"
FAMILIES = ("imports", "symbols", "libraries", "strings")
_STRING_SCAN_LIMIT = 64 * 1024 * 1024


class RuleError(ValueError):
    """A capability rule file is malformed."""


@dataclass(frozen=True)
class Family:
    all: tuple[tuple[str, ...], ...] = ()
    any: tuple[str, ...] = ()
    min: int = 1


@dataclass(frozen=True)
class CapabilityRule:
    id: str
    title: str
    severity: Severity
    description: str
    families: tuple[tuple[str, Family], ...]
    formats: tuple[str, ...] = ()
    combine: str = "any"
    match_examples: tuple[str, ...] = ()
    benign_examples: tuple[str, ...] = ()
    path: str = ""

    def family(self, name: str) -> Family | None:
        return dict(self.families).get(name)


@dataclass
class Observed:
    """What a binary offers to the rules."""

    format: str
    imports: set[str] = field(default_factory=set)
    symbols: set[str] = field(default_factory=set)
    libraries: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)  # the rule strings present (lower-cased)


def load_rule(path: Path) -> CapabilityRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    missing = [key for key in ("id", "title", "severity", "description") if key not in data]
    if missing:
        raise RuleError(f"{path.name}: missing {', '.join(missing)}")
    if data["id"] != path.stem:
        raise RuleError(f"{path.name}: id {data['id']!r} differs from the file name")
    families: dict[str, Family] = {}
    for name in FAMILIES:
        table = data.get(name)
        if table is None:
            continue
        if not isinstance(table, dict) or set(table) - {"all", "any", "min"}:
            raise RuleError(f"{path.name}: [{name}] takes only all, any and min")
        families[name] = Family(
            all=tuple(tuple(entry.split("|")) for entry in table.get("all", [])),
            any=tuple(table.get("any", [])),
            min=int(table.get("min", 1)),
        )
    if not families:
        raise RuleError(f"{path.name}: no family ({', '.join(FAMILIES)})")
    unknown = set(data) - {
        "id",
        "title",
        "severity",
        "description",
        "formats",
        "combine",
        "examples",
        "references",
        *FAMILIES,
    }
    if unknown:
        raise RuleError(f"{path.name}: unknown keys {sorted(unknown)}")
    combine = data.get("combine", "any")
    if combine not in ("any", "all"):
        raise RuleError(f"{path.name}: combine must be 'any' or 'all'")
    examples = data.get("examples", {})
    return CapabilityRule(
        id=data["id"],
        title=data["title"],
        severity=Severity.parse(data["severity"]),
        description=data["description"],
        families=tuple(families.items()),
        formats=tuple(data.get("formats", ())),
        combine=combine,
        match_examples=tuple(examples.get("match", ())),
        benign_examples=tuple(examples.get("benign", ())),
        path=str(path),
    )


@cache
def load_rules(directory: Path = RULES_DIR) -> tuple[CapabilityRule, ...]:
    return tuple(load_rule(path) for path in sorted(directory.glob("*.toml")))


@cache
def rule_strings(rules: tuple[CapabilityRule, ...]) -> tuple[str, ...]:
    found = {
        text.lower()
        for rule in rules
        for name, family in rule.families
        if name == "strings"
        for text in _names(family)
    }
    return tuple(sorted(found))


def _names(family: Family) -> Iterable[str]:
    for group in family.all:
        yield from group
    yield from family.any


def observe(facts: BinaryFacts, data: bytes, rules: tuple[CapabilityRule, ...]) -> Observed:
    imports = {strip_wide_suffix(name) for name in facts.imports} | facts.imports
    observed = Observed(
        format=facts.format,
        imports=imports,
        symbols=imports | facts.symbols | facts.exports,
        libraries={lib.lower() for lib in facts.libraries},
    )
    wanted = rule_strings(rules)
    if wanted:
        observed.strings = _string_scanner(wanted)(data[:_STRING_SCAN_LIMIT], facts.format == "pe")
    return observed


Scanner = Callable[[bytes, bool], set[str]]


@cache
def _string_scanner(wanted: tuple[str, ...]) -> Scanner:
    """One pass over the bytes for every rule string (Hyperscan), else one search per string."""
    needles = [(text, text.encode("utf-8")) for text in wanted]
    needles += [(text, text.encode("utf-16-le")) for text in wanted]
    try:
        import hyperscan
    except ImportError:
        return _search_each(needles)
    database = hyperscan.Database()
    database.compile(
        expressions=["".join(f"\\x{b:02x}" for b in needle).encode() for _, needle in needles],
        ids=list(range(len(needles))),
        elements=len(needles),
        flags=[hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(needles),
    )
    ascii_count = len(wanted)

    def scan(data: bytes, wide: bool) -> set[str]:
        hits: set[str] = set()

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            if index < ascii_count or wide:
                hits.add(needles[index][0])

        database.scan(bytes(data), match_event_handler=on_match)
        return hits

    return scan


def _search_each(needles: list[tuple[str, bytes]]) -> Scanner:
    half = len(needles) // 2

    def scan(data: bytes, wide: bool) -> set[str]:
        haystack = bytes(data).lower()
        return {
            text
            for index, (text, needle) in enumerate(needles)
            if (index < half or wide) and needle in haystack
        }

    return scan


def _present(pattern: str, values: set[str], family: str) -> list[str]:
    if family == "strings":
        return [pattern] if pattern.lower() in values else []
    if family == "libraries":
        pattern = pattern.lower()
    if "*" in pattern or "?" in pattern:
        return sorted(v for v in values if fnmatch.fnmatchcase(v, pattern))
    return [pattern] if pattern in values else []


def _family_evidence(name: str, family: Family, values: set[str]) -> list[str] | None:
    evidence: list[str] = []
    for group in family.all:
        hits = [hit for alternative in group for hit in _present(alternative, values, name)]
        if not hits:
            return None
        evidence.extend(hits)
    if family.any:
        hits = [hit for pattern in family.any for hit in _present(pattern, values, name)]
        if len(set(hits)) < family.min:
            return None
        evidence.extend(hits)
    return sorted(set(evidence))


def evaluate(rule: CapabilityRule, observed: Observed) -> dict[str, list[str]] | None:
    """The evidence per family when the rule matches, else None."""
    if rule.formats and observed.format not in rule.formats:
        return None
    evidence: dict[str, list[str]] = {}
    for name, family in rule.families:
        values: set[str] = getattr(observed, name)
        hits = _family_evidence(name, family, values)
        if hits is None:
            if rule.combine == "all":
                return None
            continue
        evidence[name] = hits
    return evidence or None


def match_all(
    facts: BinaryFacts, data: bytes, rules: tuple[CapabilityRule, ...] | None = None
) -> list[tuple[CapabilityRule, dict[str, list[str]]]]:
    rules = load_rules() if rules is None else rules
    observed = observe(facts, data, rules)
    matched = []
    for rule in rules:
        evidence = evaluate(rule, observed)
        if evidence is not None:
            matched.append((rule, evidence))
    return matched


def parse_example(example: str, default_format: str) -> Observed:
    observed = Observed(format=default_format)
    for part in example.split(";"):
        if not part.strip():
            continue
        family, _, items = part.partition(":")
        family = family.strip().lower()
        values = {item.strip() for item in items.split(",") if item.strip()}
        if family == "format":
            observed.format = next(iter(values))
        elif family == "strings":
            observed.strings |= {v.lower() for v in values}
        elif family == "libraries":
            observed.libraries |= {v.lower() for v in values}
        elif family == "imports":
            stripped = {strip_wide_suffix(v) for v in values}
            observed.imports |= values | stripped
            observed.symbols |= values | stripped
        elif family == "symbols":
            observed.symbols |= values
        else:
            raise RuleError(f"unknown family {family!r} in example {example!r}")
    return observed


def example_matches(rule_id: str, example: str) -> bool:
    """Whether the rule ``rule_id`` matches a binary described by ``example``."""
    rules = {rule.id: rule for rule in load_rules()}
    rule = rules[rule_id]
    observed = parse_example(example, rule.formats[0] if rule.formats else "pe")
    # An example lists only the strings it holds, so rule strings are matched against them.
    observed.strings = {
        s for s in rule_strings((rule,)) if any(s in held for held in observed.strings)
    }
    return evaluate(rule, observed) is not None


def rule_dict(rule: CapabilityRule) -> dict[str, Any]:
    return {"id": rule.id, "title": rule.title, "severity": rule.severity.value}
