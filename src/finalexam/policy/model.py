"""Policy data: rules that block or warn, a license policy, waivers; all frozen and ordered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase

from finalexam.model import (
    ARCHIVE_SEPARATOR,
    Confidence,
    FileContext,
    Finding,
    FindingKind,
    Location,
    Severity,
    Waiver,
)
from finalexam.ruleids import VULNERABILITY, rule_info

BLOCK = "block"
WARN = "warn"
ACTIONS = (BLOCK, WARN)

CONFIDENCE_RANK = {Confidence.LOW: 0, Confidence.MEDIUM: 1, Confidence.HIGH: 2}


@dataclass(frozen=True)
class Origin:
    """Where a rule or waiver was written: a file and line, or a built-in profile."""

    source: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class FindingFacts:
    """What a rule may look at besides the finding itself."""

    ecosystem: str | None = None  # of the finding's component, when known
    new: bool = True  # not among the baseline's fingerprints (True without a baseline)


def location_matches(pattern: str, location: Location | None) -> bool:
    """Glob against the full location and against it without the artifact name.

    ``app-1.0.whl!/app/config.py`` matches ``*.whl!/app/*`` and ``app/config.py``: a waiver or
    rule keeps working when the artifact's file name changes between releases.
    """
    if location is None:
        return False
    full = str(location)
    inner = ARCHIVE_SEPARATOR.join(location.chain[1:])
    return fnmatchcase(full, pattern) or bool(inner and fnmatchcase(inner, pattern))


def rule_id_matches(pattern: str, finding: Finding) -> bool:
    """Glob on the rule id or any alias: ``CVE-2023-32681`` also names its GHSA record."""
    return fnmatchcase(finding.rule_id, pattern) or any(
        fnmatchcase(alias, pattern) for alias in finding.aliases
    )


def purl_base(purl: str) -> str:
    """The purl without version, qualifiers and subpath."""
    base = purl.split("#", 1)[0].split("?", 1)[0]
    name_part = base.rsplit("/", 1)
    if len(name_part) == 2 and "@" in name_part[1]:
        return name_part[0] + "/" + name_part[1].split("@", 1)[0]
    return base


def purl_matches(pattern: str, purl: str | None) -> bool:
    """Exact purl, or every version when the pattern has none; globs allowed."""
    if purl is None:
        return False
    if fnmatchcase(purl, pattern):
        return True
    has_version = "@" in pattern.rsplit("/", 1)[-1]
    return not has_version and fnmatchcase(purl_base(purl), pattern)


@dataclass(frozen=True)
class Rule:
    """Block or warn on the findings that match every criterion given (empty = any)."""

    id: str
    action: str
    description: str = ""
    kinds: tuple[FindingKind, ...] = ()
    severity: Severity | None = None  # at least
    confidence: Confidence | None = None  # at least
    rule_ids: tuple[str, ...] = ()  # globs
    families: tuple[str, ...] = ()  # rule families (finalexam.ruleids)
    tags: tuple[str, ...] = ()  # any of these rule tags
    ecosystems: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # globs
    contexts: tuple[FileContext, ...] = ()  # where the finding sits (finalexam.context)
    fixable: bool | None = None  # a fixed version exists
    new: bool = False  # only findings new since the baseline
    origin: Origin = field(default_factory=lambda: Origin("builtin"))

    def matches(self, finding: Finding, facts: FindingFacts) -> bool:
        if self.kinds and finding.kind not in self.kinds:
            return False
        if self.severity is not None and finding.severity.rank < self.severity.rank:
            return False
        if (
            self.confidence is not None
            and CONFIDENCE_RANK[finding.confidence] < CONFIDENCE_RANK[self.confidence]
        ):
            return False
        if self.rule_ids and not any(rule_id_matches(p, finding) for p in self.rule_ids):
            return False
        if (self.families or self.tags) and not self._rule_selected(finding):
            return False
        if self.ecosystems and (
            facts.ecosystem is None
            or not {facts.ecosystem.lower(), facts.ecosystem.split(":")[0].lower()}
            & {e.lower() for e in self.ecosystems}
        ):
            return False  # "Debian" names every release ("Debian:12") as well
        if self.paths and not any(location_matches(p, finding.location) for p in self.paths):
            return False
        if self.contexts and (finding.context or FileContext.SHIPPED) not in self.contexts:
            return False
        if self.fixable is not None and bool(finding.fixed) != self.fixable:
            return False
        return not (self.new and not facts.new)

    def _rule_selected(self, finding: Finding) -> bool:
        info = rule_info(finding.rule_id)
        family = VULNERABILITY if finding.kind is FindingKind.VULNERABILITY else info.family
        if self.families and family not in self.families:
            return False
        return not self.tags or bool(info.tags.intersection(self.tags))

    def describe(self) -> str:
        if self.description:
            return self.description
        parts = []
        if self.kinds:
            parts.append("kind " + "/".join(k.value for k in self.kinds))
        if self.severity:
            parts.append(f"severity >= {self.severity.value}")
        if self.confidence:
            parts.append(f"confidence >= {self.confidence.value}")
        if self.rule_ids:
            parts.append("rule " + "|".join(self.rule_ids))
        if self.families:
            parts.append("family " + "|".join(self.families))
        if self.tags:
            parts.append("tag " + "|".join(self.tags))
        if self.ecosystems:
            parts.append("ecosystem " + "|".join(self.ecosystems))
        if self.paths:
            parts.append("path " + "|".join(self.paths))
        if self.contexts:
            parts.append("in " + "|".join(c.value for c in self.contexts))
        if self.fixable is not None:
            parts.append("with a fix" if self.fixable else "without a fix")
        if self.new:
            parts.append("new since baseline")
        return f"{self.action} " + (", ".join(parts) if parts else "every finding")


@dataclass(frozen=True)
class LicensePolicy:
    """Allowed and denied licenses (SPDX ids); a component passes when one choice does."""

    action: str = BLOCK
    allow: tuple[str, ...] = ()  # SPDX keys, normalized
    deny: tuple[str, ...] = ()
    unknown: str | None = None  # None (ignore), warn or block: components with no license
    origin: Origin = field(default_factory=lambda: Origin("builtin"))

    @property
    def active(self) -> bool:
        return bool(self.allow or self.deny or self.unknown)


@dataclass(frozen=True)
class WaiverSpec:
    """A waiver as written, with where it came from (for expired/unused reports)."""

    waiver: Waiver
    origin: Origin
    expires: date | None = None

    def matches(self, finding: Finding, fingerprint: str | None = None) -> bool:
        waiver = self.waiver
        if (
            waiver.fingerprint is not None
            and (fingerprint if fingerprint is not None else finding.fingerprint)
            != waiver.fingerprint
        ):
            return False
        if waiver.rule_id is not None and not rule_id_matches(waiver.rule_id, finding):
            return False
        if waiver.purl is not None and not purl_matches(waiver.purl, finding.component):
            return False
        return waiver.path is None or location_matches(waiver.path, finding.location)

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        waiver = self.waiver
        keys = ("fingerprint", "rule_id", "purl", "path")
        what = ", ".join(f"{k}={getattr(waiver, k)}" for k in keys if getattr(waiver, k))
        return f"{what} ({self.origin})"


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...] = ()
    license: LicensePolicy = field(default_factory=LicensePolicy)
    waivers: tuple[WaiverSpec, ...] = ()
    sources: tuple[str, ...] = ()  # files it was read from, in order


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a policy or waiver file."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}"
