"""Built-in profiles: ``release`` (default), ``intake`` and ``ci``.

Binary findings are matched by rule-id globs, so any binary engine plugs in by naming its
rules ``binary.signing.unsigned``, ``binary.hardening.<what>`` (or ids containing the usual
hardening words).
"""

from __future__ import annotations

from finalexam.model import Confidence, FileContext, FindingKind, Severity
from finalexam.policy.model import BLOCK, WARN, Origin, Policy, Rule
from finalexam.vuln.store import STALE_DATABASE_RULE

DEFAULT_PROFILE = "release"

# Signing problems of Windows (PE) binaries and missing hardening of executables.
UNSIGNED_RULE_IDS = (
    "*unsigned*",
    "*not-signed*",
    "*no-signature*",
    "*signature-invalid*",
    "*invalid-signature*",
)
HARDENING_RULE_IDS = (
    "*hardening*",
    "*no-pie*",
    "*no-nx*",
    "*nx-disabled*",
    "*execstack*",
    "*exec-stack*",
    "*no-relro*",
    "*partial-relro*",
    "*no-canary*",
    "*stack-canary*",
    "*no-aslr*",
    "*no-dep*",
    "*no-cfg*",
    "*rwx*",
)
MALICIOUS_ADVISORY_IDS = ("MAL-*",)  # OSV malicious-package records


def _rule(profile: str, rule_id: str, action: str, description: str, **criteria: object) -> Rule:
    return Rule(
        id=rule_id,
        action=action,
        description=description,
        origin=Origin(f"builtin:{profile}"),
        **criteria,  # type: ignore[arg-type]
    )


# Where a finding must sit to block (finalexam.context). Code that runs: the package's own
# and what it carries from other projects. Tests, docs, examples, helper scripts no shipped
# code runs, published example material and build-tool launchers are reported instead.
RUNS = (FileContext.SHIPPED, FileContext.VENDORED)
# The package's own binaries: signing and hardening are the releaser's to fix, not the
# distribution's or the bundled library's (see docs/policy.md).
OWN = (FileContext.SHIPPED,)


def _release() -> tuple[Rule, ...]:
    p = "release"
    return (
        _rule(
            p,
            "secrets",
            BLOCK,
            "a secret in shipped code or configuration (medium or high confidence)",
            kinds=(FindingKind.SECRET,),
            contexts=RUNS,
            confidence=Confidence.MEDIUM,
        ),
        _rule(
            p,
            "secrets-not-shipped",
            WARN,
            "a secret in tests, docs, examples or published example material, or of low confidence",
            kinds=(FindingKind.SECRET,),
        ),
        _rule(
            p,
            "malicious",
            BLOCK,
            "malicious code the package ships or runs",
            kinds=(FindingKind.MALICIOUS,),
            contexts=RUNS,
        ),
        _rule(
            p,
            "malicious-advisory",
            BLOCK,
            "a component with a malicious-package advisory",
            rule_ids=MALICIOUS_ADVISORY_IDS,
        ),
        _rule(
            p,
            "fixable-vulnerability",
            BLOCK,
            "a critical, high or unrated (unknown) vulnerability with a fixed version",
            kinds=(FindingKind.VULNERABILITY,),
            severity=Severity.HIGH,
            fixable=True,
            contexts=RUNS,
        ),
        _rule(
            p,
            "distribution-vulnerability",
            WARN,
            "a language advisory on what an OS package installed: the distribution's "
            "advisories for that package decide",
            kinds=(FindingKind.VULNERABILITY,),
            contexts=(FileContext.DISTRO,),
        ),
        _rule(
            p,
            "unfixed-vulnerability",
            WARN,
            "a critical, high or unrated (unknown) vulnerability without a fix yet",
            kinds=(FindingKind.VULNERABILITY,),
            severity=Severity.HIGH,
            fixable=False,
        ),
        _rule(
            p,
            "unsigned-binary",
            BLOCK,
            "an unsigned or badly signed Windows binary of the package's own",
            kinds=(FindingKind.BINARY,),
            rule_ids=UNSIGNED_RULE_IDS,
            contexts=OWN,
        ),
        _rule(
            p,
            "binary-hardening",
            BLOCK,
            "an executable of the package's own with a medium or worse hardening gap "
            "(executable stack, no DEP)",
            kinds=(FindingKind.BINARY,),
            rule_ids=HARDENING_RULE_IDS,
            severity=Severity.MEDIUM,
            contexts=OWN,
        ),
        _rule(
            p,
            "binary-hardening-report",
            WARN,
            "any other hardening gap (no PIE, no RELRO), and those of bundled or OS binaries",
            kinds=(FindingKind.BINARY,),
            rule_ids=HARDENING_RULE_IDS,
        ),
        _rule(
            p,
            "dangerous-behavior",
            BLOCK,
            "high or critical suspicious behaviour in code that runs",
            kinds=(FindingKind.BEHAVIOR,),
            severity=Severity.HIGH,
            contexts=RUNS,
        ),
        _rule(
            p,
            "integrity",
            BLOCK,
            "high or critical tampering or integrity failure",
            kinds=(FindingKind.INTEGRITY,),
            severity=Severity.HIGH,
        ),
        _rule(
            p,
            "medium-findings",
            WARN,
            "anything else of medium severity or more",
            severity=Severity.MEDIUM,
        ),
    )


def _intake() -> tuple[Rule, ...]:
    p = "intake"
    return (
        _rule(
            p,
            "malicious",
            BLOCK,
            "malicious code the package ships or runs",
            kinds=(FindingKind.MALICIOUS,),
            contexts=RUNS,
        ),
        _rule(
            p,
            "malicious-advisory",
            BLOCK,
            "a component with a malicious-package advisory",
            rule_ids=MALICIOUS_ADVISORY_IDS,
        ),
        _rule(
            p,
            "critical-vulnerability",
            BLOCK,
            "a critical vulnerability, fixed or not",
            kinds=(FindingKind.VULNERABILITY,),
            severity=Severity.CRITICAL,
        ),
        _rule(
            p,
            "dangerous-behavior",
            BLOCK,
            "high or critical suspicious behaviour (install hooks, exfiltration, droppers)",
            kinds=(FindingKind.BEHAVIOR,),
            severity=Severity.HIGH,
            contexts=RUNS,
        ),
        _rule(
            p,
            "integrity",
            BLOCK,
            "high or critical tampering or integrity failure",
            kinds=(FindingKind.INTEGRITY,),
            severity=Severity.HIGH,
        ),
        _rule(p, "secrets", WARN, "secrets shipped by the supplier", kinds=(FindingKind.SECRET,)),
        _rule(
            p,
            "high-findings",
            WARN,
            "anything else of high severity or more",
            severity=Severity.HIGH,
        ),
    )


def _ci() -> tuple[Rule, ...]:
    p = "ci"
    return (
        _rule(p, "secrets", BLOCK, "any leaked secret", kinds=(FindingKind.SECRET,)),
        _rule(
            p,
            "malicious",
            BLOCK,
            "malicious code the package ships or runs",
            kinds=(FindingKind.MALICIOUS,),
            contexts=RUNS,
        ),
        _rule(
            p,
            "malicious-advisory",
            BLOCK,
            "a component with a malicious-package advisory",
            rule_ids=MALICIOUS_ADVISORY_IDS,
        ),
        _rule(
            p, "high-findings", WARN, "anything of high severity or more", severity=Severity.HIGH
        ),
    )


PROFILES = {
    "release": "strict gate before shipping a release (default)",
    "intake": "third-party software received: block what is dangerous to run",
    "ci": "fast feedback on every change: block only secrets and malicious code",
}
_RULES = {"release": _release, "intake": _intake, "ci": _ci}


def _stale_database(profile: str) -> Rule:
    """Every profile warns when the exam used old vulnerability data (``--strict`` blocks)."""
    return _rule(
        profile,
        "stale-database",
        WARN,
        "the vulnerability database is older than db_max_age_days",
        kinds=(FindingKind.POLICY,),
        rule_ids=(STALE_DATABASE_RULE,),
    )


def profile(name: str) -> Policy | None:
    make = _RULES.get(name)
    return Policy(name=name, rules=(*make(), _stale_database(name))) if make else None
