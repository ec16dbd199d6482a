"""What compiled code gained between releases, on the tampering pairs the tests build: every
tampered C library and signed PE is high risk, the honest next builds stay low at most."""

from __future__ import annotations

from pathlib import Path

import pytest

from finalexam import diff
from finalexam.model import Severity
from tamper_pairs import TamperPair, Unavailable, c_pairs, pe_pairs


def _pairs(builder: object, path: Path) -> dict[str, TamperPair]:
    try:
        return {p.name: p for p in builder(path)}  # type: ignore[operator]
    except Unavailable as missing:
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def c_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TamperPair]:
    return _pairs(c_pairs, tmp_path_factory.mktemp("c-pairs"))


def _kinds(pair: TamperPair) -> dict[str, Severity]:
    result = diff(pair.old, pair.new)
    worst: dict[str, Severity] = {}
    for change in result.changes:
        if change.severity.rank > worst.get(change.kind, Severity.INFO).rank:
            worst[change.kind] = change.severity
    return worst


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("c-preload-persistence", "capability-added"),
        ("c-memfd-dropper", "capability-added"),
        ("c-ctor-socket", "capability-added"),
    ],
)
def test_tampered_library_gains_are_high(
    c_built: dict[str, TamperPair], name: str, expected: str
) -> None:
    kinds = _kinds(c_built[name])
    assert kinds[expected] is Severity.HIGH
    assert kinds["load-time-code-added"] is Severity.MEDIUM  # the injected constructor


def test_an_ifunc_resolver_gained_is_reported(c_built: dict[str, TamperPair]) -> None:
    changes = diff(c_built["c-ifunc-hook"].old, c_built["c-ifunc-hook"].new).changes
    gained = [c for c in changes if c.kind == "load-time-code-added"]
    assert {c.evidence["field"] for c in gained} == {"ifunc"}


def test_the_honest_next_build_gains_nothing(c_built: dict[str, TamperPair]) -> None:
    kinds = _kinds(c_built["c-version-bump"])
    assert "capability-added" not in kinds and "load-time-code-added" not in kinds


def test_data_appended_after_a_signed_pe_is_high(tmp_path: Path) -> None:
    built = _pairs(pe_pairs, tmp_path)
    kinds = _kinds(built["pe-overlay-appended"])
    assert kinds["overlay-added"] is Severity.HIGH
    assert "overlay-added" not in _kinds(built["pe-version-bump"])
