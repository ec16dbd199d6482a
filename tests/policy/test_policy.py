from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from finalexam.config import Config, build_config
from finalexam.errors import ConfigError
from finalexam.model import FindingKind, Report, Severity
from finalexam.policy import PolicyError, decide, load_policy, reference_date
from finalexam.policy.builtin import PROFILES
from sample_findings import COMPONENTS, FINDINGS, build_report, finding, loc

STAMP = "2026-06-01T00:00:00Z"


def blocked_rules(report: Report) -> dict[str, str]:
    """rule id of the finding -> policy rule that blocked it."""
    by_fp = {f.fingerprint: f.rule_id for f in report.findings}
    return {by_fp[v.fingerprint]: v.rule for v in report.verdict.violations if v.fingerprint}


def write_policy(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_release_profile_blocks_every_dangerous_kind() -> None:
    report = build_report()
    assert not report.verdict.passed
    assert report.verdict.policy == "release"
    assert blocked_rules(report) == {
        "secrets.aws-access-key": "secrets",
        "malicious.known-hash": "malicious",
        "MAL-2024-1234": "malicious-advisory",
        "GHSA-j8r2-6x86-q33q": "fixable-vulnerability",
        "binary.unsigned-windows-executable": "unsigned-binary",
        "binary.no-pie": "binary-hardening",
        "behavior.install-download-exec": "dangerous-behavior",
        "integrity.record-mismatch": "integrity",
    }
    warnings = "\n".join(report.verdict.warnings)
    assert "unfixed-vulnerability: critical vulnerability GHSA-7rjr-3q55-vv33" in warnings
    assert "medium-findings: medium behavior behavior.base64-exec" in warnings
    checks = {c.rule: c for c in report.verdict.checks}
    assert checks["secrets"].matched == 1 and not checks["secrets"].passed
    assert checks["unfixed-vulnerability"].passed


def test_every_profile_passes_a_clean_release() -> None:
    clean = [finding(FindingKind.BINARY, "capability.network-client", Severity.INFO, loc("x"))]
    for name in PROFILES:
        report = build_report(clean, cfg=Config(policy=name, timestamp=STAMP))
        assert report.verdict.passed, name
        assert report.verdict.policy == name


def test_ci_blocks_only_secrets_and_malicious() -> None:
    report = build_report(cfg=Config(policy="ci", timestamp=STAMP))
    assert set(blocked_rules(report).values()) == {"secrets", "malicious", "malicious-advisory"}
    assert any("GHSA-7rjr" in w for w in report.verdict.warnings)


def test_intake_blocks_critical_vulnerabilities_and_warns_on_secrets() -> None:
    report = build_report(cfg=Config(policy="intake", timestamp=STAMP))
    blocked = blocked_rules(report)
    assert blocked["GHSA-7rjr-3q55-vv33"] == "critical-vulnerability"  # no fix, still blocked
    assert "GHSA-j8r2-6x86-q33q" not in blocked  # high, not critical
    assert "secrets.aws-access-key" not in blocked
    assert any(w.startswith("secrets: high secret") for w in report.verdict.warnings)


def test_fail_on_adds_a_severity_gate(tmp_path: Path) -> None:
    low = [finding(FindingKind.BEHAVIOR, "behavior.x", Severity.LOW, loc("a.py"))]
    assert build_report(low).verdict.passed
    report = build_report(low, cfg=Config(fail_on="low", timestamp=STAMP))
    assert [v.rule for v in report.verdict.violations] == ["fail-on-low"]
    with pytest.raises(PolicyError, match="--fail-on: unknown severity 'urgent'"):
        load_policy(Config(fail_on="urgent"))


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ('kind = "behavior"', {"behavior.install-download-exec", "behavior.base64-exec"}),
        (
            'kind = ["behavior", "binary"]\nseverity = "medium"',
            {
                "behavior.install-download-exec",
                "behavior.base64-exec",
                "binary.unsigned-windows-executable",
                "binary.no-pie",
            },
        ),
        ('severity = "critical"', {"GHSA-7rjr-3q55-vv33", "MAL-2024-1234", "malicious.known-hash"}),
        (
            'kind = "behavior"\nconfidence = "medium"',
            {"behavior.install-download-exec"},
        ),
        ('rule_id = "binary.*"', {"binary.unsigned-windows-executable", "binary.no-pie"}),
        # rules by family and tag (finalexam.ruleids), not by words inside their ids
        ('family = "binary"\ntag = "hardening"', {"binary.no-pie"}),
        ('tag = ["unsigned", "signing"]', {"binary.unsigned-windows-executable"}),
        ('family = "capabilities"', {"capability.network-client"}),
        (
            'family = "vulnerability"\nseverity = "critical"',
            {"GHSA-7rjr-3q55-vv33", "MAL-2024-1234"},
        ),
        ('ecosystem = "maven"', {"GHSA-7rjr-3q55-vv33"}),
        ('ecosystem = ["PyPI"]', {"GHSA-j8r2-6x86-q33q", "MAL-2024-1234"}),
        ('path = "*.jar!/*"', {"binary.unsigned-windows-executable", "GHSA-7rjr-3q55-vv33"}),
        ('path = "app/bin/*"', {"binary.no-pie", "capability.network-client"}),
        ('kind = "vulnerability"\nfixable = false', {"GHSA-7rjr-3q55-vv33", "MAL-2024-1234"}),
    ],
)
def test_user_rule_criteria(tmp_path: Path, criteria: str, expected: set[str]) -> None:
    path = write_policy(
        tmp_path,
        f'extends = "none"\n\n[[rules]]\nid = "mine"\naction = "block"\n{criteria}\n',
    )
    report = build_report(cfg=Config(policy=str(path), timestamp=STAMP))
    assert set(blocked_rules(report)) == expected
    assert report.verdict.policy == "policy"


def test_warn_rules_warn_and_do_not_fail(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        'name = "soft"\nextends = "none"\n[[rules]]\nid = "watch"\naction = "warn"\n'
        'kind = "secret"\n',
    )
    report = build_report(cfg=Config(policy=str(path), timestamp=STAMP))
    assert report.verdict.passed
    assert report.verdict.policy == "soft"
    assert report.verdict.warnings == (
        "watch: high secret secrets.aws-access-key: secrets.aws-access-key title at "
        "app-1.0-py3-none-any.whl!/app/config.py",
    )


def test_rule_with_profile_id_replaces_it_and_disable_rules(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        'disable_rules = ["binary-hardening", "malicious-advisory"]\n'
        '[[rules]]\nid = "secrets"\naction = "warn"\nkind = "secret"\n',
    )
    report = build_report(cfg=Config(policy=str(path), timestamp=STAMP))
    blocked = blocked_rules(report)
    assert "secrets.aws-access-key" not in blocked
    assert "binary.no-pie" not in blocked
    assert "MAL-2024-1234" not in blocked
    assert "malicious.known-hash" in blocked  # the rest of release still applies
    assert [c.rule for c in report.verdict.checks].count("secrets") == 1


def test_new_since_baseline(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path, 'extends = "none"\n[[rules]]\nid = "new-high"\nseverity = "high"\nnew = true\n'
    )
    cfg = Config(policy=str(path), timestamp=STAMP)
    old = build_report(FINDINGS[:3], cfg=cfg)
    report = build_report(cfg=cfg, baseline=old)
    old_fps = {f.fingerprint for f in FINDINGS[:3]}
    blocked = {v.fingerprint for v in report.verdict.violations}
    assert blocked and not blocked & old_fps
    high = {f.fingerprint for f in FINDINGS if f.severity.rank >= Severity.HIGH.rank}
    assert blocked == high - old_fps
    # the same baseline as a JSON report file given by --baseline
    baseline_file = tmp_path / "old.json"
    baseline_file.write_text(
        json.dumps({"findings": [{"fingerprint": fp} for fp in sorted(old_fps)], "suppressed": []})
    )
    from_file = build_report(cfg=replace(cfg, baseline=str(baseline_file)))
    assert {v.fingerprint for v in from_file.verdict.violations} == blocked
    # no baseline: everything is new (the conservative reading), and the report says so
    first = build_report(cfg=cfg)
    assert {v.fingerprint for v in first.verdict.violations} == high
    assert "no baseline given: every finding counts as new" in first.verdict.warnings


def test_bad_baseline_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a finalexam JSON report"):
        decide(FINDINGS, (), COMPONENTS, Config(baseline=str(bad)))


def test_license_allow_deny_with_spdx_expressions(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        'extends = "none"\n[license]\nallow = ["MIT", "Apache-2.0", "BSD-3-Clause OR ISC"]\n'
        'deny = ["GPL-3.0-only"]\nunknown = "warn"\n',
    )
    report = build_report([], cfg=Config(policy=str(path), timestamp=STAMP))
    by_purl = {f.component: f for f in report.findings}
    # GPL only: denied; "MIT OR GPL-3.0-only": MIT is an allowed choice; no license: unknown
    assert by_purl["pkg:npm/gplthing@1.0"].rule_id == "policy.license.denied"
    assert by_purl["pkg:npm/gplthing@1.0"].kind is FindingKind.POLICY
    assert "pkg:npm/dual@3.1" not in by_purl
    assert "pkg:pypi/requests@2.0.0" not in by_purl
    assert by_purl["pkg:pypi/mystery@0.1"].rule_id == "policy.license.unknown"
    assert [v.rule for v in report.verdict.violations] == ["license"]
    assert any(w.startswith("license-unknown:") for w in report.verdict.warnings)


def test_license_allow_list_only(tmp_path: Path) -> None:
    path = write_policy(tmp_path, 'extends = "none"\n[license]\nallow = ["MIT"]\naction="warn"\n')
    report = build_report([], cfg=Config(policy=str(path), timestamp=STAMP))
    rules = {f.component: f.rule_id for f in report.findings}
    assert rules == {
        "pkg:pypi/requests@2.0.0": "policy.license.not-allowed",
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1": "policy.license.not-allowed",
        "pkg:npm/gplthing@1.0": "policy.license.not-allowed",
    }
    assert report.verdict.passed  # action = warn


def test_license_in_config_file_and_waived_by_purl(tmp_path: Path) -> None:
    (tmp_path / "finalexam.toml").write_text(
        '[license]\ndeny = ["GPL-3.0-or-later", "GPL-3.0-only"]\n\n'
        '[[waivers]]\npurl = "pkg:npm/gplthing"\nreason = "linked at arm\'s length"\n'
    )
    cfg = replace(build_config(cwd=tmp_path, environ={}), timestamp=STAMP)
    report = build_report([], cfg=cfg)
    assert report.verdict.passed
    assert [s.finding.rule_id for s in report.suppressed] == ["policy.license.denied"]


def test_waivers_match_by_rule_fingerprint_purl_and_path(tmp_path: Path) -> None:
    secret = next(f for f in FINDINGS if f.kind is FindingKind.SECRET)
    waivers = write_policy(
        tmp_path,
        f"""
[[waivers]]
fingerprint = "{secret.fingerprint}"
reason = "test key, revoked"
approved_by = "sec-team"
expires = 2027-01-31

[[waivers]]
rule_id = "binary.*"
path = "*.jar!/native/*"
reason = "vendor DLL, signed upstream"

[[waivers]]
purl = "pkg:maven/org.apache.logging.log4j/log4j-core"
reason = "JndiLookup removed"

[[waivers]]
path = "setup.py"
reason = "reviewed"
""",
        "waivers.toml",
    )
    report = build_report(cfg=Config(waivers=(str(waivers),), timestamp=STAMP))
    waived = {s.finding.rule_id: s.waiver for s in report.suppressed}
    assert set(waived) == {
        "secrets.aws-access-key",
        "binary.unsigned-windows-executable",
        "GHSA-7rjr-3q55-vv33",
        "behavior.install-download-exec",
    }
    assert waived["secrets.aws-access-key"].expires == "2027-01-31"
    assert waived["secrets.aws-access-key"].approved_by == "sec-team"
    kept = {f.rule_id for f in report.findings}
    assert not kept & set(waived)
    assert "binary.no-pie" in kept  # same rule glob, other path
    assert "secrets.aws-access-key" not in blocked_rules(report)
    checks = {c.rule: c for c in report.verdict.checks}
    assert checks["secrets"].waived == 1 and checks["secrets"].matched == 0
    assert not any("unused waiver" in w for w in report.verdict.warnings)


def test_expired_and_unused_waivers_are_reported(tmp_path: Path) -> None:
    policy = write_policy(
        tmp_path,
        """
[[waivers]]
rule_id = "secrets.*"
reason = "old exception"
expires = 2026-01-31

[[waivers]]
rule_id = "no.such.rule"
reason = "left over"
""",
    )
    report = build_report(cfg=Config(policy=str(policy), timestamp=STAMP))
    assert not report.suppressed
    assert "secrets.aws-access-key" in blocked_rules(report)
    warnings = report.verdict.warnings
    assert (
        f"expired waiver (expired 2026-01-31): rule_id=secrets.* ({policy}:2); "
        "1 finding(s) no longer waived"
    ) in warnings
    assert f"unused waiver: rule_id=no.such.rule ({policy}:7)" in warnings
    # on the expiry day itself the waiver still applies
    still = build_report(cfg=Config(policy=str(policy), timestamp="2026-01-31"))
    assert [s.finding.rule_id for s in still.suppressed] == ["secrets.aws-access-key"]


def test_reference_date_sources() -> None:
    assert str(reference_date(Config(timestamp="2030-02-03T04:05:06Z"), {})) == "2030-02-03"
    assert str(reference_date(Config(), {"SOURCE_DATE_EPOCH": "1700000000"})) == "2023-11-14"
    with pytest.raises(ConfigError, match="--timestamp"):
        reference_date(Config(timestamp="yesterday"), {})


def test_every_problem_reported_at_once_with_lines(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        """name = "mine"
extends = "releese"
bogus = 1

[[rules]]
id = "r1"
action = "explode"
kind = ["secret", "virus"]
severity = "hi"

[[rules]]
action = "warn"
fixable = "yes"

[[rules]]
id = "r1"

[license]
allow = ["MIT", "NotALicense-9"]
unknown = "maybe"

[[waivers]]
rule_id = "x"
expires = "soon"

[[waivers]]
reason = "no matcher"
colour = "red"
""",
    )
    with pytest.raises(PolicyError) as raised:
        load_policy(Config(policy=str(path)))
    lines = str(raised.value).splitlines()
    p = str(path)
    assert lines == [
        f"{p}:2: extends: unknown profile 'releese' (profiles: release, intake, ci, none)",
        f"{p}:3: unknown key 'bogus' in policy file (known: name, extends, fail_on, "
        "disable_rules, rules, license, waivers)",
        f"{p}:7: action: expected one of block, warn, got 'explode'",
        f"{p}:8: kind: unknown finding kind 'virus' (expected: vulnerability, secret, "
        "behavior, binary, malicious, integrity, policy)",
        f"{p}:9: severity: expected one of info, low, medium, high, critical, got 'hi'",
        f"{p}:11: rule: 'id' is required (a non-empty string)",
        f"{p}:13: fixable: expected true or false",
        f"{p}:16: rule id 'r1' defined twice (first at line 6)",
        f"{p}:19: allow: 'NotALicense-9': Unknown license key(s): NotALicense-9",
        f"{p}:20: unknown: expected ignore, warn or block, got 'maybe'",
        f"{p}:22: waiver: 'reason' is required (why this risk is accepted)",
        f"{p}:24: expires: expected a date like 2027-01-31, got 'soon'",
        f"{p}:26: waiver: give at least one of fingerprint, rule_id, purl, path",
        f"{p}:28: unknown key 'colour' in waiver (known: reason, fingerprint, rule_id, purl, "
        "path, expires, approved_by)",
    ]


def test_invalid_toml_and_missing_files(tmp_path: Path) -> None:
    broken = write_policy(tmp_path, "[[rules]\nid = 1\n")
    with pytest.raises(PolicyError, match=r"policy.toml:1: invalid TOML"):
        load_policy(Config(policy=str(broken)))
    with pytest.raises(PolicyError, match="no such policy file or profile"):
        load_policy(Config(policy="strictest"))
    with pytest.raises(PolicyError, match=r"nope\.toml: waiver file not found"):
        load_policy(Config(waivers=(str(tmp_path / "nope.toml"),)))


def test_pyproject_sections_report_lines_in_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.finalexam]\npolicy = "ci"\n\n'
        '[[tool.finalexam.rules]]\nid = "no-binaries"\nkind = "binary"\n\n'
        '[[tool.finalexam.waivers]]\nrule_id = "x"\n'
    )
    cfg = build_config(cwd=tmp_path, environ={})
    with pytest.raises(PolicyError) as raised:
        load_policy(cfg)
    assert str(raised.value) == (
        f"{tmp_path / 'pyproject.toml'}:11: waiver: 'reason' is required "
        "(why this risk is accepted)"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.finalexam]\npolicy = "ci"\n\n[[tool.finalexam.rules]]\nid = "no-binaries"\n'
        'kind = "binary"\nseverity = "medium"\n'
    )
    cfg = replace(build_config(cwd=tmp_path, environ={}), timestamp=STAMP)
    report = build_report(cfg=cfg)
    assert report.verdict.policy == "ci"
    assert "binary.no-pie" in blocked_rules(report)
    assert "behavior.install-download-exec" not in blocked_rules(report)


def test_policy_file_named_in_config_is_found_beside_it(tmp_path: Path) -> None:
    (tmp_path / "gate.toml").write_text('name = "gate"\nextends = "ci"\n')
    (tmp_path / "finalexam.toml").write_text('policy = "gate.toml"\n')
    cfg = build_config(config_file=str(tmp_path / "finalexam.toml"), environ={})
    assert load_policy(cfg).name == "gate"


def test_docs_describe_every_builtin_rule() -> None:
    from finalexam.policy.builtin import profile

    text = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text()
    for name in PROFILES:
        section = text.split(f"### `{name}`", 1)[1].split("###", 1)[0]
        built = profile(name)
        assert built is not None
        for rule in built.rules:
            assert f"| `{rule.id}` | {rule.action} |" in section, (name, rule.id)


def test_waiver_files_named_in_config_are_found_beside_it(tmp_path: Path) -> None:
    (tmp_path / "accepted.toml").write_text(
        '[[waivers]]\nrule_id = "malicious.*"\nreason = "test payload"\n'
    )
    (tmp_path / "finalexam.toml").write_text('waivers = ["accepted.toml"]\n')
    cfg = build_config(config_file=str(tmp_path / "finalexam.toml"), environ={})
    report = build_report(cfg=replace(cfg, timestamp=STAMP))
    assert [s.finding.rule_id for s in report.suppressed] == ["malicious.known-hash"]


def test_license_warnings_are_named_after_the_license_rule(tmp_path: Path) -> None:
    path = write_policy(tmp_path, '[license]\nallow = ["MIT"]\naction = "warn"\n')  # on release
    report = build_report([], cfg=Config(policy=str(path), timestamp=STAMP))
    assert report.verdict.passed
    assert len(report.verdict.warnings) == 3
    assert all(w.startswith("license: medium policy") for w in report.verdict.warnings)
    checks = {c.rule: c for c in report.verdict.checks}
    assert checks["license"].matched == 3 and checks["medium-findings"].matched == 3


def test_rule_ids_and_waivers_also_match_aliases(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        'extends = "none"\n[[rules]]\nid = "cve"\nrule_id = "CVE-2023-*"\n'
        '[[waivers]]\nrule_id = "CVE-2023-32681"\nreason = "proxy auth unused"\n'
        "expires = 2026-12-31\n",
    )
    report = build_report(cfg=Config(policy=str(path), timestamp=STAMP))
    assert [s.finding.rule_id for s in report.suppressed] == ["GHSA-j8r2-6x86-q33q"]
    checks = {c.rule: c for c in report.verdict.checks}
    assert checks["cve"].waived == 1 and checks["cve"].matched == 0


def test_pyproject_top_level_policy_keys_have_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.finalexam]\nmax_depth = 4\n'
        'disable_rules = ["no-such-rule"]\n'
    )
    cfg = build_config(cwd=tmp_path, environ={})
    with pytest.raises(PolicyError) as raised:
        load_policy(cfg)
    assert str(raised.value).startswith(f"{tmp_path / 'pyproject.toml'}:6: disable_rules: no rule")
