"""CVSS base scores computed from vector strings (v3.0 and v3.1), and their ratings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from finalexam.model import Severity

_V3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V3_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


class CvssError(ValueError):
    """A malformed or unsupported vector."""


@dataclass(frozen=True)
class CvssScore:
    version: str
    vector: str
    score: float

    @property
    def severity(self) -> Severity:
        return rating(self.score)


def rating(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def _roundup_31(value: float) -> float:
    # CVSS v3.1 Appendix A: avoids floating point artefacts of a plain ceil.
    integer = round(value * 100_000)
    if integer % 10_000 == 0:
        return integer / 100_000.0
    return (math.floor(integer / 10_000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10.0


def _metrics(vector: str) -> tuple[str, dict[str, str]]:
    parts = vector.strip().split("/")
    head = parts[0]
    if not head.startswith("CVSS:"):
        raise CvssError(f"not a CVSS vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise CvssError(f"malformed CVSS metric {part!r}")
        metrics[name] = value
    return head[5:], metrics


def cvss3_base_score(vector: str) -> float:
    version, metrics = _metrics(vector)
    if version not in ("3.0", "3.1"):
        raise CvssError(f"not a CVSS v3 vector: {vector!r}")
    missing = [m for m in _V3_BASE if m not in metrics]
    if missing:
        raise CvssError(f"CVSS vector lacks {', '.join(missing)}: {vector!r}")
    scope = metrics["S"]
    try:
        if scope not in _V3_PR:
            raise KeyError(scope)
        weights = {m: _V3_WEIGHTS[m][metrics[m]] for m in _V3_WEIGHTS}
        privileges = _V3_PR[scope][metrics["PR"]]
    except KeyError as error:
        raise CvssError(f"unknown CVSS metric value {error}: {vector!r}") from None
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    changed = scope == "C"
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * weights["AV"] * weights["AC"] * privileges * weights["UI"]
    if impact <= 0:
        return 0.0
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return roundup(min(total, 10.0))


def score_vector(vector: str) -> CvssScore:
    """Base score of a CVSS vector; raises CvssError for what cannot be scored."""
    version, _ = _metrics(vector)
    if version in ("3.0", "3.1"):
        return CvssScore(f"3.{version[-1]}", vector, cvss3_base_score(vector))
    if version == "4.0":
        from finalexam.vuln.cvss4 import cvss4_base_score

        return CvssScore("4.0", vector, cvss4_base_score(vector))
    raise CvssError(f"unsupported CVSS version {version!r}")
