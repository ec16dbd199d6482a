"""Invariants of the verdict over random findings and waivers (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from finalexam.model import Severity, Waiver
from finalexam.policy.builtin import profile
from finalexam.policy.engine import evaluate
from finalexam.policy.model import Origin, WaiverSpec
from sample_findings import COMPONENTS, FINDINGS

TODAY = date(2026, 6, 1)
findings_st = st.lists(st.sampled_from(FINDINGS), unique_by=lambda f: f.fingerprint).flatmap(
    lambda chosen: st.permutations(chosen)
)
waiver_st = st.builds(
    lambda rule, path, expires: WaiverSpec(
        Waiver(
            reason="r", rule_id=rule, path=path, expires=expires.isoformat() if expires else None
        ),
        Origin("w.toml", 1),
        expires,
    ),
    st.sampled_from([None, "*", "secrets.*", "binary.*", "GHSA-*", "MAL-*"]),
    st.sampled_from([None, "app/*", "*.jar!/*", "setup.py"]),
    st.sampled_from([None, date(2026, 1, 1), date(2027, 1, 1)]),
).filter(lambda spec: spec.waiver.rule_id is not None or spec.waiver.path is not None)


@settings(max_examples=60, deadline=None)
@given(
    findings_st,
    st.lists(waiver_st, max_size=4),
    st.sampled_from(["release", "intake", "ci"]),
)
def test_verdict_invariants(findings: list, waivers: list, name: str) -> None:  # type: ignore[type-arg]
    base = profile(name)
    assert base is not None
    policy = replace(base, waivers=tuple(waivers))
    decision = evaluate(findings, COMPONENTS, policy, TODAY)
    kept, suppressed, verdict = decision.findings, decision.suppressed, decision.verdict
    # nothing is lost: every finding is kept or suppressed, once
    assert sorted(f.fingerprint for f in [*kept, *(s.finding for s in suppressed)]) == sorted(
        f.fingerprint for f in findings
    )
    # a suppressed finding was matched by an unexpired waiver
    for item in suppressed:
        assert any(
            w.waiver == item.waiver and w.matches(item.finding) and not w.expired(TODAY)
            for w in waivers
        )
    # violations only for kept findings; the verdict follows them
    kept_prints = {f.fingerprint for f in kept}
    assert {v.fingerprint for v in verdict.violations} <= kept_prints
    assert verdict.passed == (not verdict.violations)
    assert verdict.passed == all(check.passed for check in verdict.checks)
    # malicious findings never pass unless waived
    if any(f.rule_id == "malicious.known-hash" for f in kept):
        assert not verdict.passed
    # the order of the input does not matter
    again = evaluate(list(reversed(findings)), COMPONENTS, policy, TODAY)
    assert again.verdict == verdict
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in kept]
    # kept findings stay in the exam's order: most severe first
    ranks = [f.severity.rank for f in kept]
    assert ranks == sorted(ranks, reverse=True)
    assert all(isinstance(f.severity, Severity) for f in kept)
