"""Core types shared by every stage: frozen, JSON-friendly, deterministic."""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

ARCHIVE_SEPARATOR = "!/"

# File bytes: small members are held as bytes, big ones as a read-only mmap of a scratch file.
Blob = bytes | mmap.mmap


class Severity(StrEnum):
    """How bad a finding is. ``unknown``: a vulnerability whose advisories carry no rating at
    all; it is shown as such and ranks with ``high`` (a threshold of high catches it), since
    an unrated advisory is no evidence of a mild one."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    UNKNOWN = "unknown"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def rated(cls) -> tuple[Severity, ...]:
        """The severities people write in rules and policies: all but ``unknown``."""
        return tuple(s for s in cls if s is not cls.UNKNOWN)

    @classmethod
    def columns(cls, present: Iterable[Severity] = ()) -> list[Severity]:
        """Worst first, for tables and charts; ``unknown`` only when a finding has it."""
        seen = set(present)
        return [s for s in reversed(cls) if s is not cls.UNKNOWN or s in seen]

    @classmethod
    def parse(cls, text: str) -> Severity:
        value = text.strip().lower()
        for severity in cls.rated():
            if severity.value == value:
                return severity
        names = ", ".join(s.value for s in cls.rated())
        raise ValueError(f"unknown severity {text!r} (expected one of: {names})")


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.UNKNOWN: 3,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class FindingKind(StrEnum):
    VULNERABILITY = "vulnerability"
    SECRET = "secret"
    BEHAVIOR = "behavior"
    BINARY = "binary"
    MALICIOUS = "malicious"
    INTEGRITY = "integrity"
    POLICY = "policy"


class FileContext(StrEnum):
    """Where a finding sits in the release (decided by ``finalexam.context``): what shipped
    code imports or runs, or material around it that no user of the package executes."""

    SHIPPED = "shipped"  # code and configuration the package installs, imports or runs
    VENDORED = "vendored"  # shipped, but built by another project (OS files of an image, .libs)
    TEST = "test"  # test suites and their fixtures
    DOCS = "docs"  # documentation, READMEs, manual pages
    EXAMPLE = "example"  # examples, samples, demos
    TOOLING = "tooling"  # helper scripts of the source tree: scripts/, tools/, ci/, benchmarks/
    WELL_KNOWN = "well-known"  # published example or self-test material (RFC vectors, doc keys)
    LAUNCHER = "launcher"  # a script launcher a build tool generates (pip, setuptools, distlib)
    # A language package's advisory on a component an OS package installed: the distribution
    # builds and patches it, and its advisories for the owning package decide.
    DISTRO = "distro"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def short_hash(*parts: str, length: int = 16) -> str:
    """Content-derived identifier: stable across runs and machines."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    return digest.hexdigest()[:length]


@dataclass(frozen=True, order=True)
class Location:
    """A file inside nested archives: the chain of archive members, outermost first.

    ``chain[0]`` is the artifact's own name; each later element is a member path inside the
    previous one. Never contains a scratch directory.
    """

    chain: tuple[str, ...]

    def __str__(self) -> str:
        return ARCHIVE_SEPARATOR.join(self.chain)

    @property
    def path(self) -> str:
        """Path of the innermost member (the artifact name for the artifact itself)."""
        return self.chain[-1]

    @property
    def name(self) -> str:
        return self.chain[-1].rsplit("/", 1)[-1]

    @property
    def depth(self) -> int:
        return len(self.chain) - 1

    def child(self, member: str) -> Location:
        return Location((*self.chain, member))

    @property
    def parent(self) -> Location | None:
        return Location(self.chain[:-1]) if len(self.chain) > 1 else None

    @classmethod
    def parse(cls, text: str) -> Location:
        return cls(tuple(text.split(ARCHIVE_SEPARATOR)))


class FileType(StrEnum):
    ELF = "elf"
    PE = "pe"
    MACHO = "macho"
    JAVA_CLASS = "java-class"
    PYC = "pyc"
    DEX = "dex"
    WASM = "wasm"
    ARCHIVE = "archive"
    SCRIPT = "script"
    TEXT = "text"
    JSON = "json"
    XML = "xml"
    IMAGE = "image"
    DATA = "data"
    EMPTY = "empty"
    SYMLINK = "symlink"
    OTHER = "other"


@dataclass(frozen=True)
class Artifact:
    name: str
    path: str
    sha256: str
    size: int
    kind: str
    version: str | None = None


@dataclass(frozen=True)
class FileEntry:
    """One regular file found in the artifact, with its bytes read exactly once."""

    location: Location
    size: int
    sha256: str
    sha1: str
    file_type: FileType
    media_type: str | None = None
    mode: int | None = None
    layer: str | None = None  # container image layer of origin
    link_target: str | None = None
    _loader: Callable[[], Blob] | None = field(default=None, repr=False, compare=False)

    @property
    def depth(self) -> int:
        return self.location.depth

    @property
    def path(self) -> str:
        return self.location.path

    @property
    def name(self) -> str:
        return self.location.name

    @property
    def data(self) -> Blob:
        if self._loader is None:
            return b""
        return self._loader()

    def text(self, limit: int | None = None) -> str:
        raw = self.data[:limit] if limit is not None else self.data
        return bytes(raw).decode("utf-8", "replace")


class Relationship(StrEnum):
    CONTAINS = "contains"
    DEPENDS_ON = "depends-on"


@dataclass(frozen=True)
class Dependency:
    """A declared dependency edge from a component to another (by name or purl)."""

    target: str  # purl of the target if known, else ecosystem name
    kind: Relationship = Relationship.DEPENDS_ON
    requirement: str | None = None


@dataclass(frozen=True)
class Component:
    name: str
    version: str | None
    ecosystem: str  # OSV ecosystem string where one exists (PyPI, npm, Maven, Go, ...)
    purl: str | None = None
    cpe: str | None = None
    licenses: tuple[str, ...] = ()
    hashes: tuple[tuple[str, str], ...] = ()  # (algorithm, hex)
    locations: tuple[Location, ...] = ()
    found_by: tuple[str, ...] = ()
    confidence: Confidence = Confidence.HIGH
    evidence: tuple[str, ...] = ()
    supplier: str | None = None
    description: str | None = None
    dependencies: tuple[Dependency, ...] = ()
    declared: bool = False  # listed by a lock file or manifest, not found installed

    @property
    def id(self) -> str:
        key = self.purl or f"{self.ecosystem}/{self.name}@{self.version or ''}"
        return short_hash("component", key)


@dataclass(frozen=True)
class Evidence:
    """What matched and why. Secret values never appear here, only redacted forms."""

    snippet: str | None = None
    line: int | None = None
    offset: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    rule_id: str
    severity: Severity
    title: str
    message: str
    location: Location | None
    found_by: str
    confidence: Confidence = Confidence.MEDIUM
    component: str | None = None  # purl
    evidence: Evidence = field(default_factory=Evidence)
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    fingerprint_key: str = ""  # extra identity (e.g. secret hash) for a stable fingerprint
    # None until the exam decides it from the location; an analyzer sets it when the content
    # itself says so (a documented example key, a build tool's launcher). Not in the
    # fingerprint: context decides whether a finding blocks, not which finding it is.
    context: FileContext | None = None

    @property
    def fingerprint(self) -> str:
        return short_hash(
            self.kind.value,
            self.rule_id,
            str(self.location) if self.location else "",
            self.component or "",
            self.fingerprint_key,
        )


class IssueKind(StrEnum):
    """Why part of the artifact went unexamined. A stable vocabulary: reports, configs
    (``allow_incomplete``) and CI scripts name these values.

    Every kind but ``note`` is a gap: content that was not opened as far as its format allows,
    or a plug-in that did not finish on it. A gap the user did not accept makes the exam
    incomplete (exit 3). A ``note`` is informative only: it records something odd that was
    still examined (a cleaned-up member name, a duplicate name, a link left unfollowed).
    """

    LIMIT = "limit"  # a configured limit stopped reading (size, ratio, depth, count, bytes)
    CORRUPT = "corrupt"  # content that cannot be parsed: truncated, bad checksum, bad header
    UNSUPPORTED = "unsupported"  # a format, codec or member type the exam cannot open
    ENCRYPTED = "encrypted"  # encrypted content: its bytes could not be read
    UNREADABLE = "unreadable"  # the operating system refused the read (permissions, I/O)
    PLUGIN_FAILED = "plugin-failed"  # a cataloger or analyzer raised on a file or after the walk
    TIME_BUDGET = "time-budget"  # a plug-in ran out of its time on a file or after the walk
    DATABASE = "database"  # no usable vulnerability database: components not matched
    RESOURCE = "resource"  # the machine ran short: scratch space full, out of memory
    NOTE = "note"  # informative only: nothing was left unexamined

    @property
    def gap(self) -> bool:
        """Whether an Issue of this kind left something unexamined."""
        return self is not IssueKind.NOTE

    @classmethod
    def parse(cls, text: str) -> IssueKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown issue kind {text!r} (expected one of: {names})") from None


@dataclass(frozen=True)
class Issue:
    """A non-fatal problem: the exam went on without this part.

    ``kind`` says why (see IssueKind); ``message`` says what happened and what was not
    examined (the member, the rest of an archive, one plug-in on one file).
    """

    stage: str
    location: Location | None
    message: str
    kind: IssueKind
    plugin: str | None = None


@dataclass(frozen=True)
class Indicator:
    """A network endpoint or address found in the artifact."""

    kind: str  # url, domain, ip, email
    value: str
    category: str
    locations: tuple[Location, ...] = ()


@dataclass(frozen=True)
class Waiver:
    reason: str
    fingerprint: str | None = None
    rule_id: str | None = None
    purl: str | None = None
    path: str | None = None
    expires: str | None = None  # ISO date
    approved_by: str | None = None


@dataclass(frozen=True)
class Suppressed:
    finding: Finding
    waiver: Waiver


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class PolicyCheck:
    """One policy rule as evaluated: what it does and how many findings it caught."""

    rule: str
    action: str  # block, warn
    description: str
    matched: int = 0  # findings the rule caught (not waived)
    waived: int = 0  # findings the rule would have caught, waived

    @property
    def passed(self) -> bool:
        return self.action != "block" or self.matched == 0


@dataclass(frozen=True)
class Verdict:
    passed: bool
    policy: str
    violations: tuple[Violation, ...] = ()
    warnings: tuple[str, ...] = ()
    checks: tuple[PolicyCheck, ...] = ()  # every rule of the policy, in policy order


@dataclass(frozen=True)
class PluginStatus:
    name: str
    kind: str  # unpacker, cataloger, analyzer, reporter (plugin: disabled by name)
    status: str  # ok, skipped, failed
    detail: str | None = None
    version: str | None = None  # the plug-in's declared version, when it ran


@dataclass(frozen=True)
class FileRecord:
    """Inventory line kept in the report (no bytes)."""

    location: Location
    size: int
    sha256: str
    sha1: str
    file_type: FileType
    layer: str | None = None
    link_target: str | None = None


@dataclass(frozen=True)
class Report:
    artifact: Artifact
    tool_version: str
    files: tuple[FileRecord, ...] = ()
    components: tuple[Component, ...] = ()
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    issues: tuple[Issue, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    binaries: tuple[Mapping[str, Any], ...] = ()
    plugins: tuple[PluginStatus, ...] = ()
    verdict: Verdict = field(default_factory=lambda: Verdict(passed=True, policy="default"))
    timings: Mapping[str, float] = field(default_factory=dict)
    complete: bool = True  # no gap left unaccepted (see IssueKind and allowed_incomplete)
    extra: Mapping[str, Any] = field(default_factory=dict)  # sections owned by plug-ins
    allowed_incomplete: tuple[IssueKind, ...] = ()  # gap kinds the user accepted

    @property
    def status(self) -> ExamStatus:
        """The verdict shown to people: failed wins, then incomplete, else passed."""
        if not self.verdict.passed:
            return ExamStatus.FAILED
        if not self.complete:
            return ExamStatus.INCOMPLETE
        return ExamStatus.PASSED

    @property
    def gaps(self) -> tuple[Issue, ...]:
        """Issues that left something unexamined and that the user did not accept."""
        return tuple(i for i in self.issues if counts_as_gap(i, self.allowed_incomplete))


class ExamStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


def counts_as_gap(issue: Issue, allowed: tuple[IssueKind, ...]) -> bool:
    """The one completeness rule: an Issue makes the exam incomplete when it left something
    unexamined and the user did not accept its kind (``allow_incomplete``)."""
    return issue.kind.gap and issue.kind not in allowed
