"""Policy rules over a baseline diff, for ``scan --baseline`` and the policy engine.

Rules (on by default when a baseline is given; each can be switched off in the config table
``[baseline_rules]``):

- ``no-new-high-risk`` — no change at or above ``baseline_fail_on`` (default: high);
- ``no-new-endpoints`` — no new network endpoint in code outside ``endpoint_allowlist``;
- ``no-new-install-hooks`` — no new or changed install hook (nor one that cannot be verified
  because the baseline is a stored report and the manifest changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from finalexam.config import Config
from finalexam.diffing.behavior import host_allowed
from finalexam.diffing.model import ReleaseDiff
from finalexam.errors import ConfigError
from finalexam.model import Severity, Violation

RULES = ("no-new-high-risk", "no-new-endpoints", "no-new-install-hooks")
_HOOK_KINDS = frozenset({"install-hook-added", "install-hook-changed", "install-hook-unverified"})


def endpoint_allowlist(config: Config) -> tuple[str, ...]:
    value = config.raw.get("endpoint_allowlist", ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError("endpoint_allowlist: expected a list of domain globs")
    return tuple(value)


def _rules(config: Config) -> dict[str, Any]:
    table = config.raw.get("baseline_rules", {})
    if not isinstance(table, Mapping):
        raise ConfigError("baseline_rules: expected a table")
    unknown = set(table) - {*RULES, "fail_on"}
    if unknown:
        raise ConfigError(f"baseline_rules: unknown rule(s) {', '.join(sorted(unknown))}")
    return dict(table)


def baseline_violations(diff: ReleaseDiff, config: Config) -> list[Violation]:
    rules = _rules(config)
    threshold = Severity.parse(str(rules.get("fail_on", "high")))
    allowlist = endpoint_allowlist(config)
    violations: list[Violation] = []
    for change in diff.changes:
        where = f" at {change.location}" if change.location else ""
        if rules.get("no-new-high-risk", True) and change.severity.rank >= threshold.rank:
            violations.append(
                Violation(
                    "baseline-no-new-high-risk",
                    f"{change.severity.value} {change.kind}{where}: {change.title}",
                    change.id,
                )
            )
        if (
            rules.get("no-new-endpoints", True)
            and change.kind == "endpoint-added"
            and change.severity.rank >= Severity.MEDIUM.rank
            and not host_allowed(str(change.evidence.get("host", "")), allowlist)
        ):
            violations.append(
                Violation(
                    "baseline-no-new-endpoints",
                    f"new endpoint {change.evidence.get('host')} outside the allowlist{where}",
                    change.id,
                )
            )
        if rules.get("no-new-install-hooks", True) and change.kind in _HOOK_KINDS:
            violations.append(
                Violation("baseline-no-new-install-hooks", f"{change.title}{where}", change.id)
            )
    return violations
