"""CVSS vectors as OSV records spell them, scored, and rated."""

from __future__ import annotations

import pytest

from finalexam.model import Severity
from finalexam.vuln.cvss import CvssError, rating, score_vector


@pytest.mark.parametrize(
    ("vector", "version", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "3.1", 6.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "3.1", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "3.1", 7.5),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", "3.0", 5.9),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", "3.1", 0.0),
        ("CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:L/I:N/A:N", "3.1", 3.5),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", "4.0", 6.9),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", "4.0", 10.0),
        ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 1.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", "4.0", 8.1),
        # OSV's CVSS_V2 scores are bare v2 vectors.
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5),
        ("AV:N/AC:L/Au:S/C:N/I:N/A:P", "2.0", 4.0),
        ("CVSS:2.0/AV:N/AC:M/Au:N/C:N/I:P/A:N", "2.0", 4.3),
    ],
)
def test_known_scores(vector: str, version: str, score: float) -> None:
    scored = score_vector(vector)
    assert (scored.version, scored.score) == (version, score)


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N",
        "AV:N/AC:L/Au:N/C:P/I:P",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:Q/SC:N/SI:N/SA:N",
        "7.5",
        "",
    ],
)
def test_malformed_vectors_raise(vector: str) -> None:
    with pytest.raises(CvssError):
        score_vector(vector)


def test_ratings() -> None:
    assert [rating(s) for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        Severity.INFO,
        Severity.LOW,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.HIGH,
        Severity.CRITICAL,
        Severity.CRITICAL,
    ]
    # CVSS v2 (NVD's bands) tops out at high.
    assert [rating(s, "2.0") for s in (0.0, 3.9, 4.0, 7.0, 10.0)] == [
        Severity.INFO,
        Severity.LOW,
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.HIGH,
    ]
