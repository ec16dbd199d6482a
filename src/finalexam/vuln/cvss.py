"""CVSS base scores (v2, v3.0, v3.1, v4.0) computed from vector strings, and their ratings.

Scoring is the ``cvss`` library's (the FIRST specifications' formulas and CVSS v4's
macro-vector table); this module reads OSV's spellings (a v2 vector comes without a
``CVSS:2.0/`` prefix) and turns a score into a severity.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvss as cvss_library

from finalexam.model import Severity


class CvssError(ValueError):
    """A malformed or unsupported vector."""


@dataclass(frozen=True)
class CvssScore:
    version: str
    vector: str
    score: float

    @property
    def severity(self) -> Severity:
        return rating(self.score, self.version)


def rating(score: float, version: str = "3.1") -> Severity:
    """v3 and v4's qualitative scale; v2 (NVD's bands) has no critical."""
    if version.startswith("2"):
        if score >= 7.0:
            return Severity.HIGH
        return Severity.MEDIUM if score >= 4.0 else (Severity.LOW if score > 0 else Severity.INFO)
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def score_vector(vector: str) -> CvssScore:
    """Base score of a CVSS vector; raises CvssError for what cannot be scored."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            return CvssScore("4.0", text, float(cvss_library.CVSS4(text).base_score))
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            return CvssScore(text[5:8], text, float(cvss_library.CVSS3(text).base_score))
        bare = text.removeprefix("CVSS:2.0/")
        if "/Au:" in bare and not bare.startswith("CVSS:"):
            return CvssScore("2.0", text, float(cvss_library.CVSS2(bare).base_score))
    except cvss_library.CVSSError as error:
        raise CvssError(f"not a valid CVSS vector ({error}): {vector!r}") from None
    raise CvssError(f"not a CVSS v2, v3 or v4 vector: {vector!r}")
