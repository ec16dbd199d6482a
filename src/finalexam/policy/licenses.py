"""SPDX license expressions: which license sets satisfy an expression, and policy checks."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from finalexam.model import Component, Confidence, Evidence, Finding, FindingKind, Severity
from finalexam.policy.model import BLOCK, LicensePolicy

DENIED = "policy.license.denied"
NOT_ALLOWED = "policy.license.not-allowed"
UNKNOWN = "policy.license.unknown"


@cache
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def _parse(text: str, strict: bool) -> Any:
    licensing = _licensing()
    if strict:
        info = licensing.validate(text)
        if info.errors:
            raise ValueError(f"{text!r}: " + "; ".join(info.errors))
    try:
        return licensing.parse(text)
    except Exception as error:  # the library raises several unrelated types
        raise ValueError(f"{text!r}: not an SPDX license expression ({error})") from None


def _term(symbol: Any) -> str:
    if hasattr(symbol, "license_symbol"):  # X WITH exception
        return f"{symbol.license_symbol.key} WITH {symbol.exception_symbol.key}"
    return str(symbol.key)


def _options(node: Any) -> list[frozenset[str]]:
    """Disjunctive normal form: each option is a set of licenses that must all be accepted."""
    from license_expression import AND, OR

    if isinstance(node, OR):
        return [option for arg in node.args for option in _options(arg)]
    if isinstance(node, AND):
        product = itertools.product(*(_options(arg) for arg in node.args))
        return [frozenset().union(*combo) for combo in product]
    return [frozenset({_term(node)})]


def expression_keys(text: str) -> list[str]:
    """Every license id named by a policy entry (validated against the SPDX list)."""
    node = _parse(text, strict=True)
    return sorted({term for option in _options(node) for term in option})


def component_options(licenses: Iterable[str]) -> list[frozenset[str]] | None:
    """The license choices of a component (several declared licenses all apply)."""
    return _component_options(tuple(licenses))


@lru_cache(maxsize=4096)  # components share a few license strings; parsing is slow
def _component_options(licenses: tuple[str, ...]) -> list[frozenset[str]] | None:
    parts = [text.strip() for text in licenses if text and text.strip()]
    if not parts:
        return None
    expression = " AND ".join(f"({part})" for part in parts)
    try:
        return _options(_parse(expression, strict=False))
    except ValueError:
        return None


def _base(term: str) -> str:
    return term.split(" WITH ", 1)[0]


def _accepted(term: str, policy: LicensePolicy) -> bool:
    allowed = term in policy.allow or _base(term) in policy.allow
    if (term in policy.deny or _base(term) in policy.deny) and term not in policy.allow:
        return False
    return allowed or not policy.allow


def _denied(term: str, policy: LicensePolicy) -> bool:
    return (term in policy.deny or _base(term) in policy.deny) and term not in policy.allow


def license_findings(components: Iterable[Component], policy: LicensePolicy) -> list[Finding]:
    """One policy finding per component whose licenses the policy does not accept."""
    if not policy.active:
        return []
    findings: list[Finding] = []
    for component in components:
        expression = " AND ".join(component.licenses)
        options = component_options(component.licenses)
        if options is None:
            if policy.unknown is None:
                continue
            rule_id, why = (
                UNKNOWN,
                (
                    "no license declared"
                    if not component.licenses
                    else f"license {expression!r} is not an SPDX expression"
                ),
            )
            action = policy.unknown
        elif any(all(_accepted(t, policy) for t in option) for option in options):
            continue
        else:
            denied = sorted({t for option in options for t in option if _denied(t, policy)})
            if denied and all(any(_denied(t, policy) for t in option) for option in options):
                rule_id, why = DENIED, "denied license " + ", ".join(denied)
            else:
                rule_id, why = NOT_ALLOWED, f"license {expression} is not in the allow list"
            action = policy.action
        name = f"{component.name}@{component.version}" if component.version else component.name
        findings.append(
            Finding(
                kind=FindingKind.POLICY,
                rule_id=rule_id,
                severity=Severity.HIGH if action == BLOCK else Severity.MEDIUM,
                title=f"License policy: {name}",
                message=f"{name} ({component.ecosystem}): {why}",
                location=component.locations[0] if component.locations else None,
                found_by="policy",
                confidence=Confidence.HIGH,
                component=component.purl,
                evidence=Evidence(
                    snippet=expression or None,
                    details={"ecosystem": component.ecosystem, "component_id": component.id},
                ),
                fingerprint_key=component.id,
            )
        )
    return findings


@dataclass(frozen=True)
class LicenseRuleIds:
    violation: tuple[str, ...] = (DENIED, NOT_ALLOWED)
    unknown: tuple[str, ...] = (UNKNOWN,)
