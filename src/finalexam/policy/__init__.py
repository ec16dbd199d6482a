"""Policy: findings and issues in, verdict out (waivers applied first)."""

from __future__ import annotations

from collections.abc import Sequence

from finalexam.config import Config
from finalexam.model import (
    Component,
    Finding,
    Issue,
    Severity,
    Suppressed,
    Verdict,
    Violation,
)

DEFAULT_FAIL_ON = Severity.HIGH


def decide(
    findings: Sequence[Finding],
    issues: Sequence[Issue],
    components: Sequence[Component],
    config: Config,
) -> tuple[Verdict, list[Finding], list[Suppressed]]:
    """Built-in gate: any finding at or above ``fail_on`` (default: high) fails the release."""
    threshold = Severity.parse(config.fail_on) if config.fail_on else DEFAULT_FAIL_ON
    violations = tuple(
        Violation(
            rule=f"fail-on-{threshold.value}",
            message=f"{finding.severity.value} {finding.kind.value}: {finding.title}",
            fingerprint=finding.fingerprint,
        )
        for finding in findings
        if finding.severity.rank >= threshold.rank
    )
    verdict = Verdict(
        passed=not violations, policy=f"fail-on-{threshold.value}", violations=violations
    )
    return verdict, list(findings), []
