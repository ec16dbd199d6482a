"""Capabilities and behaviours as data: one TOML rule per capability maps what a binary
imports, exports, links, contains and is (its traits) to what it is able to do, with the
names, strings and offsets that matched as evidence.

Rule file (``rules/capabilities/<id>.toml``)::

    id = "process-injection"           # == file stem
    title = "Process injection"
    severity = "medium"                # info: a fact only; low and above: also a finding;
                                       # high and critical: a suspicious behaviour
    description = "..."
    formats = ["pe"]                   # optional: elf, pe, macho
    combine = "any"                    # optional: families combine with any (default) or all
    normal_for = ["debugger"]          # optional: binary kinds for which this is ordinary
    [imports]                          # families: see FAMILIES
    all = ["VirtualAllocEx|NtAllocateVirtualMemory", "WriteProcessMemory"]
    any = ["CreateRemoteThread", "QueueUserAPC"]
    min = 1                            # optional: how many ``any`` entries must be present
    [examples]
    match = ["imports: VirtualAllocEx, WriteProcessMemory, CreateRemoteThread"]
    benign = ["imports: VirtualAlloc, WriteFile, CreateThread"]

A family matches when every ``all`` entry is present (``a|b`` = either) and at least ``min``
``any`` entries are. Names may use ``*`` wildcards. ``imports`` are imported functions (A/W
suffixes dropped; in a statically linked ELF, its own function symbols and the system calls
its code makes; and the functions it resolves at run time from string constants or name
hashes, ``facts.resolve`` and ``facts.apihash``, as libraries it loads by name count among
its ``libraries``), ``syscalls`` only those system calls (``facts.code``), ``resolved`` only
the functions resolved at run time, ``symbols`` any
symbol (imported, exported or in the static symbol table), ``exports`` exported symbols,
``libraries`` linked libraries (case-insensitive), ``strings`` byte strings in the file (ASCII,
and UTF-16LE in PE files; case-insensitive), ``decoded`` the same strings inside hex- or
Base64-encoded runs of the file, ``patterns`` regular expressions over the file's bytes
(case-insensitive; ``ignore`` lists matched texts that do not count), ``traits`` facts about
the file's shape (``finalexam.analyze.binary.traits``), and ``capabilities`` the ids of other
rules that matched (their ``normal_for`` respected), so that a behaviour can combine
capabilities. An example is ``family: item, item; family: item`` (plus ``format: elf`` and
``name: sshd`` to pick the format and the binary's file name, hence its kind).
"""

from __future__ import annotations

import bisect
import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.binary import decoding, traits
from finalexam.analyze.binary.facts.common import (
    BinaryFacts,
    ConstantCall,
    FetchRun,
    ResolvedName,
    SyscallSite,
    strip_wide_suffix,
)
from finalexam.model import Severity

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "capabilities"
FAMILIES = (
    "imports",
    "syscalls",
    "resolved",
    "symbols",
    "exports",
    "libraries",
    "strings",
    "decoded",
    "patterns",
    "traits",
    "capabilities",
)
_TEXT_FAMILIES = ("strings", "decoded")
_STRING_SCAN_LIMIT = 64 * 1024 * 1024
_PATTERN_HITS = 8  # evidence kept per pattern


class RuleError(ValueError):
    """A capability rule file is malformed."""


@dataclass(frozen=True)
class Family:
    all: tuple[tuple[str, ...], ...] = ()
    any: tuple[str, ...] = ()
    min: int = 1
    ignore: tuple[str, ...] = ()  # patterns: matched texts that do not count (lower-cased)


@dataclass(frozen=True)
class CapabilityRule:
    id: str
    title: str
    severity: Severity
    description: str
    families: tuple[tuple[str, Family], ...]
    formats: tuple[str, ...] = ()
    combine: str = "any"
    normal_for: tuple[str, ...] = ()
    match_examples: tuple[str, ...] = ()
    benign_examples: tuple[str, ...] = ()
    path: str = ""

    def family(self, name: str) -> Family | None:
        return dict(self.families).get(name)

    @property
    def combines(self) -> bool:
        """Whether the rule reads other rules' results (evaluated after them)."""
        return self.family("capabilities") is not None


@dataclass
class Observed:
    """What a binary offers to the rules."""

    format: str
    imports: set[str] = field(default_factory=set)
    syscalls: set[str] = field(default_factory=set)  # system calls the code makes itself
    resolved: set[str] = field(default_factory=set)  # functions resolved at run time
    resolved_libraries: set[str] = field(default_factory=set)  # libraries loaded by name
    symbols: set[str] = field(default_factory=set)
    exports: set[str] = field(default_factory=set)
    libraries: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)  # the rule strings present (lower-cased)
    decoded: set[str] = field(default_factory=set)  # rule strings inside encoded runs
    patterns: dict[str, list[str]] = field(default_factory=dict)  # pattern -> texts matched
    traits: set[str] = field(default_factory=set)
    capabilities: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)  # what the binary is (sshd, debugger, ...)
    offsets: dict[str, int] = field(default_factory=dict)  # string or text -> first offset
    sites: dict[str, SyscallSite] = field(default_factory=dict)  # system call -> first site
    resolutions: dict[str, ResolvedName] = field(default_factory=dict)  # name -> first call
    # a trait read from the code -> its first call (raw-socket: the socket() that opens one;
    # download-then-run: the run call of the function that fetches first)
    trait_calls: dict[str, ConstantCall | FetchRun] = field(default_factory=dict)
    xor_runs: list[decoding.Run] = field(default_factory=list)  # text XORed with one byte
    _ordered: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _called: set[str] | None = field(default=None, repr=False)

    def names(self, family: str) -> set[str]:
        """The names a rule of ``family`` tests: a system call the code makes itself, or a
        function it resolves at run time, counts as an import of the function of that name
        (a static binary that enters the kernel for ``ptrace`` is able to trace as much as
        one importing ``ptrace``); a library loaded by name counts as linked."""
        if family == "libraries":
            return self.libraries | self.resolved_libraries
        if family != "imports":
            values: set[str] = getattr(self, family)
            return values
        if self._called is None:
            self._called = self.imports | self.syscalls | self.resolved
        return self._called

    def starting_with(self, family: str, prefix: str) -> list[str]:
        """The names of ``family`` that start with ``prefix``, in order: a binary search in
        the names sorted once (a large C++ library has hundreds of thousands of symbols)."""
        ordered = self._ordered.get(family)
        if ordered is None:
            ordered = self._ordered[family] = sorted(self.names(family))
        start = bisect.bisect_left(ordered, prefix)
        end = start
        while end < len(ordered) and ordered[end].startswith(prefix):
            end += 1
        return ordered[start:end]


@dataclass(frozen=True)
class Match:
    rule: CapabilityRule
    evidence: dict[str, list[str]]
    offsets: dict[str, int]
    expected_for: str | None = None  # the binary kind for which the capability is ordinary
    # system call or resolved name -> the code that makes or resolves it
    disassembly: dict[str, str] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return Severity.INFO if self.expected_for else self.rule.severity


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
        allowed = {"all", "any", "min"} | ({"ignore"} if name == "patterns" else set())
        if not isinstance(table, dict) or set(table) - allowed:
            raise RuleError(f"{path.name}: [{name}] takes only {', '.join(sorted(allowed))}")
        families[name] = Family(
            all=tuple(tuple(entry.split("|")) for entry in table.get("all", [])),
            any=tuple(table.get("any", [])),
            min=int(table.get("min", 1)),
            ignore=tuple(text.lower() for text in table.get("ignore", [])),
        )
        if name == "patterns":
            for pattern in _names(families[name]):
                try:
                    _compile(pattern)
                except re.error as error:
                    raise RuleError(f"{path.name}: pattern {pattern!r}: {error}") from None
        if name == "traits":
            unknown_traits = set(_names(families[name])) - set(traits.TRAITS)
            if unknown_traits:
                raise RuleError(f"{path.name}: unknown traits {sorted(unknown_traits)}")
    if not families:
        raise RuleError(f"{path.name}: no family ({', '.join(FAMILIES)})")
    unknown = set(data) - {
        "id",
        "title",
        "severity",
        "description",
        "formats",
        "combine",
        "normal_for",
        "examples",
        "references",
        *FAMILIES,
    }
    if unknown:
        raise RuleError(f"{path.name}: unknown keys {sorted(unknown)}")
    combine = data.get("combine", "any")
    if combine not in ("any", "all"):
        raise RuleError(f"{path.name}: combine must be 'any' or 'all'")
    normal_for = tuple(data.get("normal_for", ()))
    unknown_kinds = set(normal_for) - set(traits.KINDS)
    if unknown_kinds:
        raise RuleError(f"{path.name}: unknown kinds in normal_for {sorted(unknown_kinds)}")
    examples = data.get("examples", {})
    return CapabilityRule(
        id=data["id"],
        title=data["title"],
        severity=Severity.parse(data["severity"]),
        description=data["description"],
        families=tuple(families.items()),
        formats=tuple(data.get("formats", ())),
        combine=combine,
        normal_for=normal_for,
        match_examples=tuple(examples.get("match", ())),
        benign_examples=tuple(examples.get("benign", ())),
        path=str(path),
    )


@cache
def load_rules(directory: Path = RULES_DIR) -> tuple[CapabilityRule, ...]:
    rules = tuple(load_rule(path) for path in sorted(directory.glob("*.toml")))
    # rules that read other rules' results come last, so their inputs are known
    return tuple(sorted(rules, key=lambda rule: rule.combines))


@cache
def rule_strings(rules: tuple[CapabilityRule, ...]) -> tuple[str, ...]:
    found = {
        text.lower()
        for rule in rules
        for name, family in rule.families
        if name in _TEXT_FAMILIES
        for text in _names(family)
    }
    return tuple(sorted(found))


@cache
def _rule_patterns(rules: tuple[CapabilityRule, ...]) -> tuple[str, ...]:
    found = {
        pattern
        for rule in rules
        for name, family in rule.families
        if name == "patterns"
        for pattern in _names(family)
    }
    return tuple(sorted(found))


def rule_patterns(rule_id: str) -> Sequence[re.Pattern[bytes]]:
    """The regular expressions of one rule (for the linear-time lint)."""
    rules = {rule.id: rule for rule in load_rules()}
    family = rules[rule_id].family("patterns")
    return [_compile(pattern) for pattern in _names(family)] if family else []


@cache
def _compile(pattern: str) -> re.Pattern[bytes]:
    return re.compile(pattern.encode("utf-8"), re.IGNORECASE)


def _names(family: Family) -> Iterable[str]:
    for group in family.all:
        yield from group
    yield from family.any


def observe(
    facts: BinaryFacts,
    data: bytes,
    rules: tuple[CapabilityRule, ...],
    name: str = "",
    packed: bool = False,
) -> Observed:
    imports = {strip_wide_suffix(item) for item in facts.imports} | facts.imports
    if traits.statically_linked(facts):
        # a static binary carries the library functions it calls: they are its imports
        imports |= facts.symbols
    # a name the binary exports itself is its own wrapper's call to the next definition
    # (dlsym(RTLD_NEXT, "execve") in an interposing library): it claims nothing new
    functions = {
        n for n, found in facts.resolved.items() if not found.library and n not in facts.exports
    }
    observed = Observed(
        format=facts.format,
        imports=imports,
        syscalls=set(facts.syscalls),
        resolved=functions | {strip_wide_suffix(name) for name in functions},
        resolved_libraries={n.lower() for n, found in facts.resolved.items() if found.library},
        sites=dict(facts.syscalls),
        resolutions={
            alias: found
            for name, found in facts.resolved.items()
            for alias in (name, strip_wide_suffix(name))
        },
        symbols=imports | facts.symbols | facts.exports,
        exports=set(facts.exports),
        libraries={lib.lower() for lib in facts.libraries},
        traits=traits.traits(facts, data, packed),
        kinds=traits.kinds(name),
    )
    raw_sockets = traits.raw_socket_calls(facts)
    if raw_sockets:
        observed.trait_calls["raw-socket"] = raw_sockets[0]
    observed.trait_calls.update(traits.fetch_run_calls(facts))
    head = data[:_STRING_SCAN_LIMIT]
    wanted = rule_strings(rules)
    if wanted:
        scan = _string_scanner(wanted)
        found = scan(head, facts.format == "pe")
        observed.strings = set(found)
        observed.offsets.update(found)
        spans = data_spans(facts, len(head))
        observed.xor_runs = decoding.xor_runs(head, spans)
        for run in decoding.decoded_runs(head, spans) + observed.xor_runs:
            for text in scan(run.data, False):
                observed.decoded.add(text)
                observed.offsets.setdefault(f"{text} ({run.encoding})", run.offset)
    patterns = _rule_patterns(rules)
    prefilter = _pattern_prefilter(patterns) if patterns else None
    candidates = prefilter(head) if prefilter else set(patterns)
    for pattern in patterns:
        if pattern not in candidates:
            continue
        texts: list[str] = []
        for hit in _compile(pattern).finditer(head):
            text = hit.group(0).decode("latin-1")
            if text not in texts:
                texts.append(text)
                observed.offsets.setdefault(text, hit.start())
            if len(texts) >= _PATTERN_HITS:
                break
        if texts:
            observed.patterns[pattern] = texts
    return observed


_NO_CONTENT = frozenset({".bss", ".tbss", "__bss", "__common", ".sbss"})


def data_spans(facts: BinaryFacts, size: int) -> list[tuple[int, int]]:
    """Where the binary keeps data (its sections other than code), as (offset, size); the
    whole file when it has no sections (hand-made or packed) or several slices (fat Mach-O)."""
    spans = [
        (section.offset, section.size)
        for section in facts.sections
        if not section.executable
        and section.name not in _NO_CONTENT
        and 0 < section.offset < size
        and section.size > 0
    ]
    # a fat Mach-O's sections are those of its first slice, at offsets inside that slice
    fat = facts.format == "macho" and len(facts.arches) > 1
    return spans if facts.sections and not fat else [(0, size)]


Scanner = Callable[[bytes, bool], dict[str, int]]


@cache
def _string_scanner(wanted: tuple[str, ...]) -> Scanner:
    """One pass over the bytes for every rule string (Hyperscan), else one search per string.
    The scanner answers each string found with the offset of its first occurrence."""
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

    def scan(data: bytes, wide: bool) -> dict[str, int]:
        hits: dict[str, int] = {}

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            if index < ascii_count or wide:
                text, needle = needles[index]
                at = end - len(needle)
                if at < hits.get(text, at + 1):
                    hits[text] = at

        database.scan(bytes(data), match_event_handler=on_match)
        return hits

    return scan


@cache
def _pattern_prefilter(patterns: tuple[str, ...]) -> Callable[[bytes], set[str]] | None:
    """One Hyperscan pass (prefilter mode: it may report a pattern that does not match, never
    miss one that does) names the patterns worth running: Python's ``re`` costs about 0.4 CPU
    seconds per case-insensitive pattern over 50 MB, Hyperscan a few milliseconds for all."""
    try:
        import hyperscan
    except ImportError:
        return None
    database = hyperscan.Database()
    flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_PREFILTER
    try:
        database.compile(
            expressions=[pattern.encode("utf-8") for pattern in patterns],
            ids=list(range(len(patterns))),
            elements=len(patterns),
            flags=[flags] * len(patterns),
        )
    except hyperscan.error:
        return None  # a pattern Hyperscan cannot approximate: run them all

    def present(data: bytes) -> set[str]:
        hits: set[str] = set()

        def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
            hits.add(patterns[index])

        database.scan(bytes(data), match_event_handler=on_match)
        return hits

    return present


def _search_each(needles: list[tuple[str, bytes]]) -> Scanner:
    half = len(needles) // 2

    def scan(data: bytes, wide: bool) -> dict[str, int]:
        haystack = bytes(data).lower()
        hits: dict[str, int] = {}
        for index, (text, needle) in enumerate(needles):
            if index >= half and not wide:
                continue
            at = haystack.find(needle)
            if at >= 0 and at < hits.get(text, at + 1):
                hits[text] = at
        return hits

    return scan


def _present(pattern: str, observed: Observed, family: str) -> list[str]:
    """The observed items that ``pattern`` names in ``family``."""
    if family in _TEXT_FAMILIES:
        values: set[str] = getattr(observed, family)
        return [pattern] if pattern.lower() in values else []
    if family == "patterns":
        return observed.patterns.get(pattern, [])
    if family == "libraries":
        pattern = pattern.lower()
    prefix, star, rest = pattern.partition("*")
    if star and not rest and family in _NAME_TABLES and not _GLOB_SIGNS.search(prefix):
        return observed.starting_with(family, prefix)  # ``Crypt*``: most globs are prefixes
    if star or "?" in pattern:
        return sorted(filter(_glob(pattern).match, observed.names(family)))
    return [pattern] if pattern in observed.names(family) else []


_GLOB_SIGNS = re.compile(r"[?\[]")
# The binary's own name tables, fixed once observed (capabilities grow while rules are
# evaluated: they are never indexed).
_NAME_TABLES = frozenset({"imports", "symbols", "exports", "libraries"})


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once: a large library has tens of thousands of symbols to test."""
    return re.compile(fnmatch.translate(pattern))


def _family_evidence(name: str, family: Family, observed: Observed) -> list[str] | None:
    def hits_of(pattern: str) -> list[str]:
        return [
            hit for hit in _present(pattern, observed, name) if hit.lower() not in family.ignore
        ]

    evidence: list[str] = []
    for group in family.all:
        hits = [hit for alternative in group for hit in hits_of(alternative)]
        if not hits:
            return None
        evidence.extend(hits)
    if family.any:
        found = [pattern for pattern in family.any if hits_of(pattern)]
        if len(found) < family.min:
            return None
        evidence.extend(hit for pattern in found for hit in hits_of(pattern))
    return sorted(set(evidence))


def evaluate(rule: CapabilityRule, observed: Observed) -> dict[str, list[str]] | None:
    """The evidence per family when the rule matches, else None."""
    if rule.formats and observed.format not in rule.formats:
        return None
    evidence: dict[str, list[str]] = {}
    for name, family in rule.families:
        hits = _family_evidence(name, family, observed)
        if hits is None:
            if rule.combine == "all":
                return None
            continue
        if name == "imports":  # what only the code's own system calls gave is said so
            made = [hit for hit in hits if hit in observed.syscalls and hit not in observed.imports]
            hits = [hit for hit in hits if hit not in made]
            if made:
                evidence["syscalls"] = sorted({*evidence.get("syscalls", []), *made})
        if name in ("imports", "libraries"):  # and what only run-time resolution gave
            known = observed.imports if name == "imports" else observed.libraries
            late = [hit for hit in hits if hit not in known]
            hits = [hit for hit in hits if hit in known]
            if late:
                evidence["resolved"] = sorted({*evidence.get("resolved", []), *late})
        if name in ("imports", "libraries") and not hits:
            continue
        evidence[name] = sorted({*evidence.get(name, []), *hits})
    return evidence or None


def assess(observed: Observed, rules: tuple[CapabilityRule, ...]) -> list[Match]:
    """Every rule that matches, in rule order; a capability that is ordinary for the binary's
    kind is kept (as info, with the kind) but does not count towards combining rules."""
    matches: list[Match] = []
    for rule in rules:
        evidence = evaluate(rule, observed)
        if evidence is None:
            continue
        expected = next((kind for kind in rule.normal_for if kind in observed.kinds), None)
        offsets = _offsets(evidence, observed)
        code = {
            name: observed.sites[name].disassembly
            for name in evidence.get("syscalls", ())
            if name in observed.sites
        }
        code |= {
            name: observed.resolutions[name].disassembly
            for name in evidence.get("resolved", ())
            if name in observed.resolutions
        }
        code |= {
            name: observed.trait_calls[name].disassembly
            for name in evidence.get("traits", ())
            if name in observed.trait_calls
        }
        matches.append(Match(rule, evidence, offsets, expected, code))
        if expected is None:
            observed.capabilities.add(rule.id)
    return matches


def _offsets(evidence: dict[str, list[str]], observed: Observed) -> dict[str, int]:
    """Where each matched string, pattern text or decoded run starts in the file."""
    offsets: dict[str, int] = {}
    for family in ("strings", "patterns"):
        for text in evidence.get(family, ()):
            key = text.lower() if family == "strings" else text
            if key in observed.offsets:
                offsets[text] = observed.offsets[key]
    for name in evidence.get("syscalls", ()):
        if name in observed.sites:
            offsets[f"{name} (syscall)"] = observed.sites[name].offset
    for name in evidence.get("resolved", ()):
        if name in observed.resolutions:
            found = observed.resolutions[name]
            offsets[f"{name} (via {found.via})"] = found.offset
    for name in evidence.get("traits", ()):
        if name in observed.trait_calls:
            call = observed.trait_calls[name]
            offsets[f"{name} ({call.function})"] = call.offset
    for text in evidence.get("decoded", ()):
        for key, at in observed.offsets.items():
            if key.startswith(f"{text.lower()} (") and key.endswith("-decoded)"):
                offsets[f"{text} ({key.rsplit('(', 1)[1]}"] = at
    return offsets


def match_all(
    facts: BinaryFacts,
    data: bytes,
    rules: tuple[CapabilityRule, ...] | None = None,
    name: str = "",
    packed: bool = False,
) -> list[Match]:
    rules = load_rules() if rules is None else rules
    return assess(observe(facts, data, rules, name, packed), rules)


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
        elif family == "name":
            observed.kinds |= {kind for value in values for kind in traits.kinds(value)}
        elif family in _TEXT_FAMILIES:
            getattr(observed, family).update(v.lower() for v in values)
        elif family == "patterns":
            observed.offsets.update(dict.fromkeys(values, 0))  # texts the patterns run over
        elif family == "libraries":
            observed.libraries |= {v.lower() for v in values}
        elif family == "imports":
            stripped = {strip_wide_suffix(v) for v in values}
            observed.imports |= values | stripped
            observed.symbols |= values | stripped
        elif family == "syscalls":
            observed.syscalls |= values
        elif family == "resolved":
            observed.resolved |= values | {strip_wide_suffix(v) for v in values}
        elif family in ("symbols", "exports", "traits", "capabilities"):
            getattr(observed, family).update(values)
            if family == "exports":
                observed.symbols |= values
        else:
            raise RuleError(f"unknown family {family!r} in example {example!r}")
    return observed


def example_matches(rule_id: str, example: str) -> bool:
    """Whether the rule ``rule_id`` raises a finding for a binary described by ``example``
    (a capability ordinary for the example's ``kind`` does not)."""
    rules = {rule.id: rule for rule in load_rules()}
    rule = rules[rule_id]
    observed = parse_example(example, rule.formats[0] if rule.formats else "pe")
    # An example lists only the strings it holds, so rule strings are matched against them.
    for family in _TEXT_FAMILIES:
        held = getattr(observed, family)
        setattr(observed, family, {s for s in rule_strings((rule,)) if any(s in h for h in held)})
    texts = list(observed.offsets)
    observed.offsets = {}
    for pattern in _rule_patterns((rule,)):
        found = [
            m.group(0).decode("latin-1")
            for t in texts
            for m in [_compile(pattern).search(t.encode())]
            if m
        ]
        if found:
            observed.patterns[pattern] = found
    matched = assess(observed, (rule,))
    return bool(matched) and matched[0].expected_for is None


def rule_dict(rule: CapabilityRule) -> dict[str, Any]:
    return {"id": rule.id, "title": rule.title, "severity": rule.severity.value}
