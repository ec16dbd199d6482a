from __future__ import annotations

import itertools

import pytest

from finalexam.model import Severity
from finalexam.vuln.cvss import CvssError, cvss3_base_score, rating, score_vector
from finalexam.vuln.cvss4 import LOOKUP, cvss4_base_score


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:H/PR:L/UI:N/S:C/C:L/I:N/A:N", 3.5),
    ],
)
def test_cvss3_known_scores(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", 6.9),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
        ("CVSS:4.0/AV:P/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N", 1.0),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U", 8.1),
    ],
)
def test_cvss4_known_scores(vector: str, score: float) -> None:
    assert cvss4_base_score(vector) == score


def test_cvss4_lookup_has_every_macrovector() -> None:
    assert len(LOOKUP) == 270
    assert LOOKUP["000000"] == 10.0 and LOOKUP["212221"] == 0.1


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:2.0/AV:N",
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:Q/SC:N/SI:N/SA:N",
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


def test_against_reference_implementation_when_installed() -> None:
    cvss = pytest.importorskip("cvss")
    for version in ("3.0", "3.1"):
        for combo in itertools.product("NALP", "LH", "NLH", "NR", "UC", "HLN", "HLN", "HLN"):
            names = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
            vector = f"CVSS:{version}/" + "/".join(
                f"{n}:{v}" for n, v in zip(names, combo, strict=True)
            )
            assert cvss3_base_score(vector) == float(cvss.CVSS3(vector).base_score), vector
    names4 = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
    values4 = ("NALP", "LH", "NP", "NLH", "NPA", "HLN", "HLN", "HLN", "HLN", "HLN", "HLN")
    for index, combo in enumerate(itertools.product(*values4)):
        if index % 37:  # a spread-out sample of the 69,984 base vectors keeps this fast
            continue
        vector = "CVSS:4.0/" + "/".join(f"{n}:{v}" for n, v in zip(names4, combo, strict=True))
        assert cvss4_base_score(vector) == float(cvss.CVSS4(vector).base_score), vector
