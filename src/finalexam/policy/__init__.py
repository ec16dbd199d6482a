"""Policy: findings and issues in, verdict out (waivers applied first).

``decide`` is what the exam calls; ``load_policy`` reads the policy once so the CLI can
report a broken policy file before a long exam starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from finalexam.config import Config
from finalexam.model import Component, Finding, Issue, Report, Suppressed, Verdict
from finalexam.policy.builtin import DEFAULT_PROFILE, PROFILES
from finalexam.policy.engine import baseline_fingerprints, evaluate
from finalexam.policy.load import PolicyError, load_policy, reference_date


def decide(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    components: Sequence[Component],
    config: Config,
    baseline: Report | None = None,
) -> tuple[Verdict, list[Finding], list[Suppressed]]:
    """Apply waivers, then the policy's rules; return the verdict, kept and waived findings.

    ``baseline`` (a previous release's Report) makes ``new = true`` rules see only findings
    whose fingerprint it does not hold; without it ``config.baseline`` may name a JSON report.
    Raises PolicyError (exit 2) when the policy or a waiver file is invalid.
    """
    policy = load_policy(config)
    known = baseline_fingerprints(baseline, config.baseline)
    decision = evaluate(
        findings, components, policy, reference_date(config), known, strict=config.strict
    )
    return decision.verdict, decision.findings, decision.suppressed


__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "PolicyError",
    "decide",
    "load_policy",
    "reference_date",
]
