"""What compiled code gained between releases, on the tampering pairs the tests build: every
tampered C library and signed PE is high risk, the honest next builds stay low at most."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from finalexam import diff
from finalexam.config import Config
from finalexam.diffing.api import examine
from finalexam.diffing.engine import diff_reports
from finalexam.diffing.render import DIFF_RENDERERS, DiffRenderOptions
from finalexam.model import Issue, IssueKind, Location, Severity
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


def test_a_starved_exam_of_a_tampered_pair_never_reads_risk_none(
    c_built: dict[str, TamperPair],
) -> None:
    """When the binary analyzer ran out of time on the new build, the gain is not seen: the
    diff must say it is partial (INCOMPLETE first, in every format) and name what was not
    examined, never "risk none"."""
    pair = c_built["c-ifunc-hook"]
    old, old_store = examine(pair.old, Config())
    new, new_store = examine(pair.new, Config())
    library = next(Location.parse(str(b["location"])) for b in new.binaries)
    starved = replace(
        new,
        binaries=[],
        findings=[f for f in new.findings if f.location != library],
        issues=[
            *new.issues,
            Issue("analyze", library, "binary did not examine this file: over its 10 s time "
                  "budget", IssueKind.TIME_BUDGET, "binary"),
        ],
        complete=False,
    )  # fmt: skip
    result = diff_reports(old, starved, old_content=old_store, new_content=new_store)
    assert result.complete is False and not result.flagged
    assert result.headline.startswith("INCOMPLETE")
    assert any("time-budget" in n and "libtinyz.so" in n for n in result.notes)
    for name in ("table", "markdown", "html"):
        text = DIFF_RENDERERS[name](result, DiffRenderOptions()).decode()
        assert "INCOMPLETE" in text and "RISK NONE" not in text and "Risk: none" not in text
    whole = diff_reports(old, new, old_content=old_store, new_content=new_store)
    assert whole.complete and whole.headline.startswith("RISK HIGH")
