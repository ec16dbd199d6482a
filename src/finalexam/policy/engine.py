"""Evaluation: waivers first, then rules; every rule's outcome is kept for the reports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from finalexam.errors import ConfigError
from finalexam.model import (
    Component,
    Finding,
    FindingKind,
    PolicyCheck,
    Report,
    Suppressed,
    Verdict,
    Violation,
)
from finalexam.policy.licenses import UNKNOWN, LicenseRuleIds, license_findings
from finalexam.policy.model import BLOCK, FindingFacts, Policy, Rule, WaiverSpec
from finalexam.vuln.purl import PURL_ECOSYSTEMS as LANGUAGE_ECOSYSTEMS
from finalexam.vuln.purl import parse_purl

# purl type -> OSV ecosystem, for findings whose component is not in the inventory
PURL_ECOSYSTEMS = {**LANGUAGE_ECOSYSTEMS, "deb": "Debian", "apk": "Alpine", "rpm": "RPM"}
MAX_WARNINGS_PER_RULE = 50


@dataclass
class Decision:
    verdict: Verdict
    findings: list[Finding]
    suppressed: list[Suppressed]
    facts: dict[str, FindingFacts] = field(default_factory=dict)


def finding_order(
    finding: Finding, fingerprint: str | None = None
) -> tuple[int, str, str, str, str]:
    """The exam's order: most severe first, then kind, rule, location, fingerprint."""
    return (
        -finding.severity.rank,
        finding.kind.value,
        finding.rule_id,
        str(finding.location) if finding.location else "",
        fingerprint if fingerprint is not None else finding.fingerprint,
    )


def license_rules(policy: Policy) -> list[Rule]:
    license = policy.license
    if not license.active:
        return []
    ids = LicenseRuleIds()
    rules = []
    if license.allow or license.deny:
        rules.append(
            Rule(
                id="license",
                action=license.action,
                description="component licenses must be allowed and not denied",
                kinds=(FindingKind.POLICY,),
                rule_ids=ids.violation,
                origin=license.origin,
            )
        )
    if license.unknown:
        rules.append(
            Rule(
                id="license-unknown",
                action=license.unknown,
                description="every component declares an SPDX license",
                kinds=(FindingKind.POLICY,),
                rule_ids=(UNKNOWN,),
                origin=license.origin,
            )
        )
    return rules


def baseline_fingerprints(baseline: Report | None, path: str | None) -> set[str] | None:
    """Fingerprints of the previous release: from a Report, or a JSON report file."""
    if baseline is not None:
        return {f.fingerprint for f in baseline.findings} | {
            s.finding.fingerprint for s in baseline.suppressed
        }
    if not path or not path.endswith(".json"):
        return None
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read baseline: {error.strerror}", path=path) from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigError("baseline is not a JSON report", path=path) from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise ConfigError("baseline is not a finalexam JSON report", path=path)
    found: set[str] = set()
    for key in ("findings", "suppressed"):
        for item in document.get(key) or ():
            if isinstance(item, dict) and isinstance(item.get("fingerprint"), str):
                found.add(item["fingerprint"])
    return found


def _facts(
    findings: Iterable[Finding],
    components: Sequence[Component],
    baseline: set[str] | None,
    prints: Mapping[int, str],
) -> dict[str, FindingFacts]:
    by_purl = {c.purl: c.ecosystem for c in components if c.purl}
    facts: dict[str, FindingFacts] = {}
    for finding in findings:
        ecosystem = None
        if finding.component:
            ecosystem = by_purl.get(finding.component)
            purl = parse_purl(finding.component) if ecosystem is None else None
            if purl is not None:
                ecosystem = PURL_ECOSYSTEMS.get(purl.type, purl.type)
        fingerprint = prints[id(finding)]
        new = baseline is None or fingerprint not in baseline
        facts[fingerprint] = FindingFacts(ecosystem=ecosystem, new=new)
    return facts


def _where(finding: Finding) -> str:
    return f" at {finding.location}" if finding.location else ""


def _summary(finding: Finding) -> str:
    return (
        f"{finding.severity.value} {finding.kind.value} {finding.rule_id}: "
        f"{finding.title}{_where(finding)}"
    )


def apply_waivers(
    findings: Sequence[Finding],
    waivers: Sequence[WaiverSpec],
    today: date,
    prints: Mapping[int, str] | None = None,
) -> tuple[list[Finding], list[Suppressed], list[str]]:
    """``prints``: fingerprints by ``id(finding)``, computed once by the caller."""
    prints = prints if prints is not None else {id(f): f.fingerprint for f in findings}
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    used: set[int] = set()
    expired_hits: dict[int, int] = {}
    # Fingerprint-only waivers (often thousands, generated from a baseline) are looked up by
    # key; the others are checked in order. The first matching valid waiver applies.
    exact: dict[str, list[int]] = {}
    general: list[int] = []
    rule_globs: dict[tuple[str, str], bool] = {}
    for index, spec in enumerate(waivers):
        waiver = spec.waiver
        if waiver.fingerprint and not (waiver.rule_id or waiver.purl or waiver.path):
            exact.setdefault(waiver.fingerprint, []).append(index)
        else:
            general.append(index)
    for finding in findings:
        applied = None
        fingerprint = prints[id(finding)]
        candidates = sorted([*exact.get(fingerprint, ()), *general])
        for index in candidates:
            spec = waivers[index]
            pattern = spec.waiver.rule_id
            if pattern is not None:  # many findings share a rule id: glob each id once
                key = (pattern, finding.rule_id)
                if key not in rule_globs:
                    rule_globs[key] = fnmatchcase(finding.rule_id, pattern)
                if not rule_globs[key] and not finding.aliases:
                    continue
            if not spec.matches(finding, fingerprint):
                continue
            if spec.expired(today):
                expired_hits[index] = expired_hits.get(index, 0) + 1
                continue
            applied = spec
            used.add(index)
            break
        if applied is None:
            kept.append(finding)
        else:
            suppressed.append(Suppressed(finding, applied.waiver))
    warnings: list[str] = []
    for index, spec in enumerate(waivers):
        if spec.expired(today):
            hits = expired_hits.get(index, 0)
            tail = f"; {hits} finding(s) no longer waived" if hits else ""
            warnings.append(
                f"expired waiver (expired {spec.waiver.expires}): {spec.describe()}{tail}"
            )
        elif index not in used:
            warnings.append(f"unused waiver: {spec.describe()}")
    return kept, suppressed, warnings


def evaluate(
    findings: Sequence[Finding],
    components: Sequence[Component],
    policy: Policy,
    today: date,
    baseline: set[str] | None = None,
    strict: bool = False,
) -> Decision:
    """``strict``: warnings fail too (every ``warn`` rule blocks)."""
    # License rules first: a license finding is reported under the license rule.
    rules = [*license_rules(policy), *policy.rules]
    if strict:
        rules = [replace(rule, action=BLOCK) for rule in rules]
    every = [*findings, *license_findings(components, policy.license)]
    # A fingerprint is a hash: compute each once, not once per rule and waiver.
    prints = {id(f): f.fingerprint for f in every}
    every.sort(key=lambda f: finding_order(f, prints[id(f)]))
    kept, suppressed, warnings = apply_waivers(every, policy.waivers, today, prints)
    facts = _facts(every, components, baseline, prints)
    if baseline is None and any(rule.new for rule in rules):
        warnings.append("no baseline given: every finding counts as new")
    matched = {rule.id: 0 for rule in rules}
    waived = {rule.id: 0 for rule in rules}
    for item in suppressed:
        fact = facts[prints[id(item.finding)]]
        for rule in rules:
            if rule.matches(item.finding, fact):
                waived[rule.id] += 1
    violations: list[Violation] = []
    warned: dict[str, list[str]] = {}
    for finding in kept:
        fingerprint = prints[id(finding)]
        fact = facts[fingerprint]
        hits = [rule for rule in rules if rule.matches(finding, fact)]
        for rule in hits:
            matched[rule.id] += 1
        blocking = next((rule for rule in hits if rule.action == BLOCK), None)
        if blocking is not None:
            violations.append(Violation(blocking.id, _summary(finding), fingerprint))
        elif hits:
            warned.setdefault(hits[0].id, []).append(_summary(finding))
    for rule in rules:
        lines = warned.get(rule.id, [])
        warnings.extend(f"{rule.id}: {line}" for line in lines[:MAX_WARNINGS_PER_RULE])
        if len(lines) > MAX_WARNINGS_PER_RULE:
            warnings.append(f"{rule.id}: … {len(lines) - MAX_WARNINGS_PER_RULE} more")
    checks = tuple(
        PolicyCheck(rule.id, rule.action, rule.describe(), matched[rule.id], waived[rule.id])
        for rule in rules
    )
    verdict = Verdict(
        passed=not violations,
        policy=policy.name,
        violations=tuple(violations),
        warnings=tuple(warnings),
        checks=checks,
    )
    return Decision(verdict, kept, suppressed, facts)
