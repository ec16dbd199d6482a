"""CVSS v4.0 base score."""

from __future__ import annotations


def cvss4_base_score(vector: str) -> float:
    from finalexam.vuln.cvss import CvssError

    raise CvssError(f"CVSS v4 scoring not available: {vector!r}")
