"""CVSS v4.0 scores: MacroVector lookup, then interpolation by severity distance.

The scoring follows the CVSS v4.0 specification (FIRST), section 8: the vector falls in a
MacroVector (EQ1..EQ6); its score is that MacroVector's score minus the mean, over the EQs
that have a lower MacroVector, of the available score drop times the vector's proportional
distance from the MacroVector's highest-severity vectors. Threat (E) and environmental
metrics are used when the vector carries them; absent, they take their worst case.

MacroVector scores, highest-severity vectors and depths are the constants published with
the specification's reference calculator (Copyright FIRST, Red Hat, and contributors,
BSD-2-Clause), re-encoded here as ordered tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

# MacroVector scores in EQ order (eq1, eq2, eq3, eq4, eq5, eq6); eq3=2 only exists with eq6=1.
_SCORES_BY_EQ123 = {
    "000": "10 9.9 9.8 9.5 9.5 9.2 10 9.6 9.3 8.7 9.1 8.1 9.3 9 8.9 8 8.1 6.8",
    "001": "9.8 9.5 9.5 9.2 9 8.4 9.3 9.2 8.9 8.1 8.1 6.5 8.8 8 7.8 7 6.9 4.8",
    "002": "9.2 8.2 7.2 7.9 6.9 5 6.9 5.5 2.7",
    "010": "9.9 9.7 9.5 9.2 9.2 8.5 9.5 9.1 9 8.3 8.4 7.1 9.2 8.1 8.2 7.1 7.2 5.3",
    "011": "9.5 9.3 9.2 8.5 8.5 7.3 9.2 8.2 8 7.2 7 5.9 8.4 7 7.1 5.2 5 3",
    "012": "8.6 7.5 5.2 7.1 5.2 2.9 6.3 2.9 1.7",
    "100": "9.8 9.5 9.4 8.7 9.1 8.1 9.4 8.9 8.6 7.4 7.7 6.4 8.7 7.5 7.4 6.3 6.3 4.9",
    "101": "9.4 8.9 8.8 7.7 7.6 6.7 8.6 7.6 7.4 5.8 5.9 5 7.2 5.7 5.7 5.2 5.2 2.5",
    "102": "8.3 7 5.4 6.5 5.8 2.6 5.3 2.1 1.3",
    "110": "9.5 9 8.8 7.6 7.6 7 9 7.7 7.5 6.2 6.1 5.3 7.7 6.6 6.8 5.9 5.2 3",
    "111": "8.9 7.8 7.6 6.7 6.2 5.8 7.4 5.9 5.7 5.7 4.7 2.3 6.1 5.2 5.7 2.9 2.4 1.6",
    "112": "7.1 5.9 3 5.8 2.6 1.5 2.3 1.3 0.6",
    "200": "9.3 8.7 8.6 7.2 7.5 5.8 8.6 7.4 7.4 6.1 5.6 3.4 7 5.4 5.2 4 4 2.2",
    "201": "8.5 7.5 7.4 5.5 6.2 5.1 7.2 5.7 5.5 4.1 4.6 1.9 5.3 3.6 3.4 1.9 1.9 0.8",
    "202": "6.4 5.1 2 4.7 2.1 1.1 2.4 0.9 0.4",
    "210": "8.8 7.5 7.3 5.3 6 5 7.3 5.5 5.9 4 4.1 2 5.4 4.3 4.5 2.2 2 1.1",
    "211": "7.5 5.5 5.8 4.5 4 2.1 6.1 5.1 4.8 1.8 2 0.9 4.6 1.8 1.7 0.7 0.8 0.2",
    "212": "5.3 2.4 1.4 2.4 1.2 0.5 1 0.3 0.1",
}


def _build_lookup() -> dict[str, float]:
    lookup: dict[str, float] = {}
    for prefix, row in _SCORES_BY_EQ123.items():
        eq6_values = "1" if prefix[2] == "2" else "01"
        keys = [
            prefix + eq4 + eq5 + eq6
            for eq4, eq5, eq6 in itertools.product("012", "012", eq6_values)
        ]
        scores = [float(value) for value in row.split()]
        assert len(keys) == len(scores), prefix
        lookup.update(zip(keys, scores, strict=True))
    return lookup


LOOKUP = _build_lookup()

# Highest-severity vectors of each MacroVector level, per EQ (EQ3 is keyed by EQ3 then EQ6).
_MAX_EQ1 = {0: ["AV:N/PR:N/UI:N"], 1: ["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
            2: ["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"]}  # fmt: skip
_MAX_EQ2 = {0: ["AC:L/AT:N"], 1: ["AC:H/AT:N", "AC:L/AT:P"]}
_MAX_EQ3_EQ6 = {
    (0, 0): ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
    (0, 1): ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
    (1, 0): ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
    (1, 1): [
        "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
        "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
        "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
        "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
        "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
    ],
    (2, 1): ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
}
_MAX_EQ4 = {0: ["SC:H/SI:S/SA:S"], 1: ["SC:H/SI:H/SA:H"], 2: ["SC:L/SI:L/SA:L"]}
# Depth of each MacroVector level in 0.1 steps (the largest severity distance inside it, +1).
_DEPTH_EQ1 = {0: 1, 1: 4, 2: 5}
_DEPTH_EQ2 = {0: 1, 1: 2}
_DEPTH_EQ3_EQ6 = {(0, 0): 7, (0, 1): 6, (1, 0): 8, (1, 1): 8, (2, 1): 10}
_DEPTH_EQ4 = {0: 6, 1: 5, 2: 4}

_LEVELS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3},
    "PR": {"N": 0.0, "L": 0.1, "H": 0.2},
    "UI": {"N": 0.0, "P": 0.1, "A": 0.2},
    "AC": {"L": 0.0, "H": 0.1},
    "AT": {"N": 0.0, "P": 0.1},
    "VC": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VI": {"H": 0.0, "L": 0.1, "N": 0.2},
    "VA": {"H": 0.0, "L": 0.1, "N": 0.2},
    "SC": {"H": 0.1, "L": 0.2, "N": 0.3},
    "SI": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "SA": {"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3},
    "CR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "IR": {"H": 0.0, "M": 0.1, "L": 0.2},
    "AR": {"H": 0.0, "M": 0.1, "L": 0.2},
}
_EQ1_METRICS = ("AV", "PR", "UI")
_EQ2_METRICS = ("AC", "AT")
_EQ3_EQ6_METRICS = ("VC", "VI", "VA", "CR", "IR", "AR")
_EQ4_METRICS = ("SC", "SI", "SA")
_BASE = ("AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA")
_ALLOWED: dict[str, set[str]] = {
    **{name: set(levels) for name, levels in _LEVELS.items()},
    "SI": {"H", "L", "N"},
    "SA": {"H", "L", "N"},
    "E": {"X", "A", "P", "U"},
    **{name: {"X", "H", "M", "L"} for name in ("CR", "IR", "AR")},
}
_ALLOWED.update({"M" + name: {"X", *_LEVELS[name]} for name in _BASE})


def _effective(metrics: Mapping[str, str], name: str) -> str:
    """A metric's value after threat/environmental overrides (X means "not defined")."""
    if name == "E":
        value = metrics.get("E", "X")
        return "A" if value == "X" else value
    if name in ("CR", "IR", "AR"):
        value = metrics.get(name, "X")
        return "H" if value == "X" else value
    modified = metrics.get("M" + name, "X")
    return modified if modified != "X" else metrics.get(name, "X")


def macro_vector(metrics: Mapping[str, str]) -> tuple[int, int, int, int, int, int]:
    def v(name: str) -> str:
        return _effective(metrics, name)

    if v("AV") == "N" and v("PR") == "N" and v("UI") == "N":
        eq1 = 0
    elif (v("AV") == "N" or v("PR") == "N" or v("UI") == "N") and v("AV") != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if v("AC") == "L" and v("AT") == "N" else 1
    if v("VC") == "H" and v("VI") == "H":
        eq3 = 0
    elif "H" in (v("VC"), v("VI"), v("VA")):
        eq3 = 1
    else:
        eq3 = 2
    if metrics.get("MSI") == "S" or metrics.get("MSA") == "S":
        eq4 = 0
    elif "H" in (v("SC"), v("SI"), v("SA")):
        eq4 = 1
    else:
        eq4 = 2
    eq5 = {"A": 0, "P": 1, "U": 2}[v("E")]
    high_pairs = (("CR", "VC"), ("IR", "VI"), ("AR", "VA"))
    eq6 = 0 if any(v(r) == "H" and v(i) == "H" for r, i in high_pairs) else 1
    return eq1, eq2, eq3, eq4, eq5, eq6


def _parse(vector: str) -> dict[str, str]:
    from finalexam.vuln.cvss import CvssError

    parts = vector.strip().split("/")
    if parts[0] != "CVSS:4.0":
        raise CvssError(f"not a CVSS v4.0 vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise CvssError(f"malformed CVSS metric {part!r}")
        metrics[name] = value
    missing = [name for name in _BASE if name not in metrics]
    if missing:
        raise CvssError(f"CVSS v4 vector lacks {', '.join(missing)}: {vector!r}")
    for name, value in metrics.items():
        allowed = _ALLOWED.get(name)
        if allowed is not None and value not in allowed:
            raise CvssError(f"unknown CVSS metric value {name}:{value}: {vector!r}")
    return metrics


def _key(eqs: tuple[int, ...]) -> str:
    return "".join(str(e) for e in eqs)


def cvss4_base_score(vector: str) -> float:
    metrics = _parse(vector)
    if all(_effective(metrics, name) == "N" for name in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return 0.0
    eqs = macro_vector(metrics)
    eq1, eq2, eq3, eq4, _eq5, eq6 = eqs
    value = LOOKUP[_key(eqs)]

    def lower(*changes: tuple[int, int]) -> float | None:
        shifted = list(eqs)
        for index, step in changes:
            shifted[index] += step
        return LOOKUP.get(_key(tuple(shifted)))

    lower_eq1 = lower((0, 1))
    lower_eq2 = lower((1, 1))
    if eq3 == 0 and eq6 == 0:
        candidates = [s for s in (lower((5, 1)), lower((2, 1))) if s is not None]
        lower_eq3_eq6 = max(candidates) if candidates else None
    elif eq3 == 1 and eq6 == 0:
        lower_eq3_eq6 = lower((5, 1))
    elif eq6 == 1 and eq3 in (0, 1):
        lower_eq3_eq6 = lower((2, 1))
    else:
        lower_eq3_eq6 = lower((2, 1), (5, 1))
    lower_eq4 = lower((3, 1))
    lower_eq5 = lower((4, 1))

    distances: dict[str, float] = {}
    for parts in itertools.product(
        _MAX_EQ1[eq1], _MAX_EQ2[eq2], _MAX_EQ3_EQ6[(eq3, eq6)], _MAX_EQ4[eq4]
    ):
        highest = dict(p.split(":") for p in "/".join(parts).split("/"))
        distances = {
            name: _LEVELS[name][_effective(metrics, name)] - _LEVELS[name][highest[name]]
            for name in _LEVELS
        }
        if all(d >= 0 for d in distances.values()):
            break

    def proportional(lower_score: float | None, names: tuple[str, ...], depth: int) -> float | None:
        if lower_score is None:
            return None
        distance = sum(distances[name] for name in names)
        return (value - lower_score) * (distance / (depth * 0.1))

    parts_available = [
        proportional(lower_eq1, _EQ1_METRICS, _DEPTH_EQ1[eq1]),
        proportional(lower_eq2, _EQ2_METRICS, _DEPTH_EQ2[eq2]),
        proportional(lower_eq3_eq6, _EQ3_EQ6_METRICS, _DEPTH_EQ3_EQ6[(eq3, eq6)]),
        proportional(lower_eq4, _EQ4_METRICS, _DEPTH_EQ4[eq4]),
        0.0 if lower_eq5 is not None else None,  # EQ5 has no inner distance
    ]
    present = [p for p in parts_available if p is not None]
    if present:
        value -= sum(present) / len(present)
    value = min(max(value, 0.0), 10.0)
    # Half-up to one decimal; the epsilon keeps float noise (5.6499999) from rounding down,
    # as the specification's reference calculator does.
    return float(Decimal(value + 1e-6).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
