"""The severity of a vulnerability, from every rating its advisories carry.

Ratings come from the records that matched the package and from every other record of the
same vulnerability in the database (its aliases, and the records that name it): CVSS v2,
v3 and v4 vectors, scored here, and the sources' own ratings (GitHub's
``database_specific.severity``, Debian's urgency, Ubuntu's priority, Red Hat's errata
severity). The highest wins: a rating is evidence of at least that much harm. Two ratings
say a vulnerability does not harm this package as built and lower it instead: Debian's
``unimportant`` and Ubuntu's ``negligible``. An advisory with no rating anywhere is
``unknown``, never silently medium.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from finalexam.model import Severity
from finalexam.vuln.cvss import CvssError, CvssScore, score_vector

# database_specific.severity: GitHub (CRITICAL, HIGH, MODERATE, LOW) and Red Hat's words.
_WORDS = {
    "critical": Severity.CRITICAL,
    "important": Severity.HIGH,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
_UBUNTU = {**_WORDS, "negligible": Severity.INFO}
_DEBIAN = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}
_NOT_FOR_THIS_PACKAGE = {"unimportant", "negligible"}
# Red Hat and its rebuilds title errata "Important: openssl security update".
_ERRATA = re.compile(r"^(Critical|Important|Moderate|Low):", re.IGNORECASE)
_ERRATA_IDS = ("RHSA-", "RLSA-", "ALSA-", "RXSA-")
_INFORMATIONAL = {"unsound": Severity.LOW, "unmaintained": Severity.INFO, "notice": Severity.INFO}
_CVE = re.compile(r"CVE-\d{4}-\d+$")


@dataclass(frozen=True)
class Rating:
    severity: Severity
    source: str  # "GHSA-x84v-xcm2-53pg: GitHub HIGH", "DEBIAN-CVE-2010-4756: Debian urgency low"


@dataclass(frozen=True)
class Rated:
    severity: Severity
    source: str
    cvss: tuple[CvssScore, ...]
    ratings: tuple[Rating, ...] = ()


@dataclass(frozen=True)
class Matched:
    """A record that matched the package, with the affected entry that matched."""

    record: Mapping[str, Any]
    entry: Mapping[str, Any]
    informational: str | None = None

    @property
    def record_id(self) -> str:
        return str(self.record.get("id", ""))


def _severity_entries(record: Mapping[str, Any], entry: Mapping[str, Any] | None) -> list[Any]:
    found = list(record.get("severity") or [])
    if entry is not None:
        found += list(entry.get("severity") or [])
    return [s for s in found if isinstance(s, dict) and isinstance(s.get("score"), str)]


def cvss_scores(
    record: Mapping[str, Any], entry: Mapping[str, Any] | None = None
) -> list[CvssScore]:
    scores: list[CvssScore] = []
    for item in _severity_entries(record, entry):
        if str(item.get("type", "")).startswith("CVSS_V"):
            try:
                scores.append(score_vector(item["score"]))
            except CvssError:
                continue  # a malformed vector is no rating
    return scores


def _word(record: Mapping[str, Any], key: str) -> str | None:
    values = record.get(key)
    return values.get("severity") if isinstance(values, dict) else None


def own_ratings(record: Mapping[str, Any], entry: Mapping[str, Any] | None) -> list[Rating]:
    """The source's own ratings in a record (and in the entry about this package)."""
    record_id = str(record.get("id", ""))
    found: list[Rating] = []
    label = _word(record, "database_specific")
    if isinstance(label, str) and label.strip().lower() in _WORDS:
        who = "GitHub" if record_id.startswith("GHSA-") else "database"
        found.append(Rating(_WORDS[label.strip().lower()], f"{record_id}: {who} {label.strip()}"))
    for item in _severity_entries(record, entry):
        if item.get("type") == "Ubuntu" and item["score"].strip().lower() in _UBUNTU:
            priority = item["score"].strip().lower()
            found.append(Rating(_UBUNTU[priority], f"{record_id}: Ubuntu priority {priority}"))
    specific = entry.get("ecosystem_specific") if entry is not None else None
    urgency = specific.get("urgency") if isinstance(specific, dict) else None
    if isinstance(urgency, str):
        word = urgency.strip().rstrip("*").lower()  # older entries mark "low*", "medium**"
        if word in _DEBIAN or word == "unimportant":
            severity = _DEBIAN.get(word, Severity.INFO)
            found.append(Rating(severity, f"{record_id}: Debian urgency {word}"))
    title = _ERRATA.match(str(record.get("summary") or ""))
    if title is not None and record_id.startswith(_ERRATA_IDS):
        word = title.group(1).lower()
        found.append(Rating(_WORDS[word], f"{record_id}: Red Hat {title.group(1).capitalize()}"))
    return found


def _cves(record: Mapping[str, Any]) -> set[str]:
    names = [record.get("id"), *(record.get("aliases") or []), *(record.get("upstream") or [])]
    found = (_CVE.search(name) for name in names if isinstance(name, str))
    return {match.group(0) for match in found if match is not None}


def one_vulnerability(record: Mapping[str, Any]) -> bool:
    """Whether a record speaks of at most one CVE (DEBIAN-CVE-2023-0286 names CVE-2023-0286
    twice); a notice that bundles several does not rate any one of them."""
    return len(_cves(record)) <= 1


def rate(matched: Sequence[Matched], related: Iterable[Mapping[str, Any]] = ()) -> Rated:
    """The severity of one vulnerability: ``matched`` records (with their entries) and the
    ``related`` records of the same vulnerability that did not match the package."""
    scores: list[CvssScore] = []
    ratings: list[Rating] = []
    for item in matched:
        scores += cvss_scores(item.record, item.entry)
        ratings += own_ratings(item.record, item.entry)
    for record in related:
        if one_vulnerability(record):
            scores += cvss_scores(record)
            # Only a rating of the vulnerability itself travels: a distribution's urgency
            # or priority is about its own package.
            ratings += [r for r in own_ratings(record, None) if "GitHub" in r.source]
    cvss = tuple(sorted(set(scores), key=lambda s: (-s.score, s.vector)))
    lowered = [
        r for r in ratings if any(r.source.endswith(f" {word}") for word in _NOT_FOR_THIS_PACKAGE)
    ]
    if lowered:
        return Rated(Severity.LOW, lowered[0].source, cvss, tuple(ratings))
    candidates = [Rating(s.severity, f"CVSS {s.version} {s.score}") for s in cvss[:1]] + ratings
    if candidates:
        best = max(candidates, key=lambda r: r.severity.rank)
        return Rated(best.severity, best.source, cvss, tuple(ratings))
    for item in matched:
        if item.informational in _INFORMATIONAL:
            kind = item.informational
            return Rated(_INFORMATIONAL[kind], kind, cvss, tuple(ratings))
    ids = ", ".join(sorted({m.record_id for m in matched}))
    return Rated(
        Severity.UNKNOWN, f"unknown: no CVSS vector or rating in {ids} or its aliases", cvss
    )
