"""in-toto Statements about one exam: a SLSA Verification Summary, the exam's own summary, and
optionally the CycloneDX SBOM, each with the examined artifact as its subject.

Field by field, the meaning is documented in docs/attestation.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from finalexam.config import Config
from finalexam.model import Report
from finalexam.outcome import FAILED, PASSED, outcome
from finalexam.policy.model import Policy
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions
from finalexam.report.document import waiver_dict

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
VSA_PREDICATE = "https://slsa.dev/verification_summary/v1"
EXAM_PREDICATE = "https://finalexam.dev/attestation/exam/v1"
CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"
PREDICATE_TYPES = (VSA_PREDICATE, EXAM_PREDICATE, CYCLONEDX_PREDICATE)
VERIFIER_ID = "https://finalexam.dev/verifier"
POLICY_URI = "https://finalexam.dev/policy/"
# A custom level (SLSA reserves the SLSA_ prefix): the artifact passed a complete exam.
PASSED_LEVEL = "FINALEXAM_EXAM_PASSED"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """Dataclasses, enums and tuples as JSON values; ``origin`` (where a rule was written
    down: a file path and line) is left out so the same rules give the same digest anywhere."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if f.name != "origin"}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, set | frozenset):  # no order of its own: sort for a stable digest
        return sorted((_plain(item) for item in value), key=canonical_json)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def policy_document(policy: Policy) -> dict[str, Any]:
    """What the policy demands: its name, rules and license policy. Waivers are decisions about
    single findings, recorded in the exam predicate, not part of the standard itself."""
    return {"name": policy.name, "rules": _plain(policy.rules), "license": _plain(policy.license)}


def policy_digest(policy: Policy) -> str:
    return sha256_hex(canonical_json(policy_document(policy)))


def policy_uri(name: str) -> str:
    return POLICY_URI + name


def rule_sets(config: Config) -> list[dict[str, Any]]:
    """Each rule family's file count and content digest (the rules are data files)."""
    from finalexam.matching.yara_store import list_rule_sets
    from finalexam.ruleset import RULE_FAMILIES

    directories = [(name, family.rules_dir) for name, family in sorted(RULE_FAMILIES.items())]
    directories += [(f"yara-extra:{Path(d).name}", Path(d)) for d in config.yara_rules]
    out = []
    for name, directory in directories:
        files = sorted(p for p in directory.rglob("*") if p.is_file()) if directory.is_dir() else []
        digest = hashlib.sha256()
        for path in files:
            digest.update(
                canonical_json([str(path.relative_to(directory)), sha256_hex(path.read_bytes())])
            )
        out.append({"name": name, "files": len(files), "digest": {"sha256": digest.hexdigest()}})
    if config.runs("yara"):  # imported public sets: their manifest's digest of the inputs
        out += [
            {"name": f"yara-imported:{s.name}", "files": s.files, "digest": {"sha256": s.sha256}}
            for s in list_rule_sets(config)
        ]
    return out


def report_json(report: Report, config: Config) -> bytes:
    """The JSON report exactly as ``scan -o json`` writes it with the same settings."""
    options = RenderOptions(files=config.files, timestamp=config.timestamp)
    return REPORTERS["json"].render(report, options)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """RFC 3339 as written by in-toto producers (``Z`` or an offset, optional fraction)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def subject(name: str, sha256: str) -> list[dict[str, Any]]:
    return [{"name": name, "digest": {"sha256": sha256}}]


def statement(
    subjects: list[dict[str, Any]], predicate_type: str, predicate: Any
) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate,
    }


def _vulnerability_db(report: Report, now: datetime) -> dict[str, Any]:
    section = report.extra.get("vulnerability_db")
    if not isinstance(section, Mapping):
        return {"status": "not-run"}
    out: dict[str, Any] = {"status": section.get("status", "unknown")}
    updated = section.get("updated")
    if isinstance(updated, str) and updated:
        out["updated"] = updated
        with contextlib.suppress(ValueError):
            age = (now - parse_time(updated)).total_seconds() / 86400
            out["ageDays"] = round(max(age, 0.0), 2)  # a backdated --timestamp: age 0
    if isinstance(section.get("records"), int):
        out["records"] = section["records"]
    return out


def _counts(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def exam_predicate(
    report: Report,
    config: Config,
    policy: Policy,
    state: str,
    report_digest: str,
    now: datetime,
) -> dict[str, Any]:
    findings = report.findings
    return {
        "verdict": state,
        "complete": report.complete,
        "allowedIncomplete": [kind.value for kind in report.allowed_incomplete],
        "strict": config.strict,
        "tool": {"name": "finalexam", "version": report.tool_version},
        "artifact": {
            "name": report.artifact.name,
            "kind": report.artifact.kind,
            "size": report.artifact.size,
            **({"version": report.artifact.version} if report.artifact.version else {}),
        },
        "report": {
            "mediaType": "application/json",
            "digest": {"sha256": report_digest},
        },
        "policy": {
            "name": policy.name,
            "uri": policy_uri(policy.name),
            "digest": {"sha256": policy_digest(policy)},
            "violations": sorted({v.rule for v in report.verdict.violations}),
            "warnings": len(report.verdict.warnings),
        },
        "vulnerabilityDb": _vulnerability_db(report, now),
        "ruleSets": rule_sets(config),
        "findings": {
            "total": len(findings),
            "bySeverity": _counts(f.severity.value for f in findings),
            "byKind": _counts(f.kind.value for f in findings),
        },
        "waivers": {
            "applied": len(report.suppressed),
            "findings": sorted(
                (
                    {"fingerprint": s.finding.fingerprint, "rule": s.finding.rule_id}
                    | {"waiver": waiver_dict(s.waiver)}
                    for s in report.suppressed
                ),
                key=lambda item: (item["fingerprint"], item["rule"]),
            ),
        },
        "issues": {
            "total": len(report.issues),
            "byStage": _counts(issue.stage for issue in report.issues),
        },
        "plugins": {
            status: sorted(p.name for p in report.plugins if p.status == status)
            for status in ("failed", "skipped")
        },
    }


def vsa_predicate(
    policy: Policy, state: str, resource_uri: str, now: datetime, version: str
) -> dict[str, Any]:
    passed = state == PASSED  # an incomplete exam is never a pass
    return {
        "verifier": {"id": VERIFIER_ID, "version": {"finalexam": version}},
        "timeVerified": format_time(now),
        "resourceUri": resource_uri,
        "policy": {"uri": policy_uri(policy.name), "digest": {"sha256": policy_digest(policy)}},
        "verificationResult": PASSED if passed else FAILED,
        "verifiedLevels": [PASSED_LEVEL] if passed else [FAILED],
    }


def build_statements(
    report: Report,
    config: Config,
    policy: Policy,
    *,
    now: datetime,
    resource_uri: str,
    sbom: bool = False,
) -> list[dict[str, Any]]:
    """The statements of one exam, in a fixed order: VSA, exam summary, [SBOM]."""
    subjects = subject(report.artifact.name, report.artifact.sha256)
    state = outcome(report)
    report_digest = sha256_hex(report_json(report, config))
    statements = [
        statement(
            subjects,
            VSA_PREDICATE,
            vsa_predicate(policy, state, resource_uri, now, report.tool_version),
        ),
        statement(
            subjects,
            EXAM_PREDICATE,
            exam_predicate(report, config, policy, state, report_digest, now),
        ),
    ]
    if sbom:
        options = RenderOptions(timestamp=config.timestamp)
        document = json.loads(REPORTERS["cyclonedx-json"].render(report, options))
        statements.append(statement(subjects, CYCLONEDX_PREDICATE, document))
    return statements
