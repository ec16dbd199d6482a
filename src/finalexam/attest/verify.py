"""Offline verification of an exam attestation against the artifact at hand.

Checks, in order: the file's shape, every envelope's signature by the given key (nothing else
is read from an unsigned statement), the statements' type and subject digest, the predicate
types, the policy (name and digest), the verdict, and the age.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from finalexam.attest.envelope import MalformedAttestation, SignedStatement, read_lines
from finalexam.attest.keys import load_public_key, verification_key
from finalexam.attest.statement import (
    EXAM_PREDICATE,
    PAYLOAD_TYPE,
    PREDICATE_TYPES,
    STATEMENT_TYPE,
    VERIFIER_ID,
    VSA_PREDICATE,
    file_sha256,
    parse_time,
    policy_digest,
    policy_uri,
)
from finalexam.outcome import PASSED
from finalexam.policy.model import Policy

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Failure:
    check: str  # format, signature, statement, subject, predicate, policy, verdict, age
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.message}"


@dataclass(frozen=True)
class Result:
    """What was checked and what failed; ``ok`` when nothing did."""

    artifact_sha256: str
    key_id: str
    failures: tuple[Failure, ...] = ()
    verdict: str | None = None  # the exam predicate's PASSED / FAILED / INCOMPLETE
    policy: str | None = None
    policy_digest: str | None = None
    time_verified: datetime | None = None
    verifier_version: str | None = None
    statements: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def predicate_types(self) -> tuple[str, ...]:
        return tuple(str(s.get("predicateType")) for s in self.statements)


def _short(digest: str) -> str:
    return digest[:12] + "…" if len(digest) > 12 else digest


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _lines(numbers: list[int]) -> str:
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(map(str, numbers))


def _format_age(age: timedelta) -> str:
    days = age.total_seconds() / 86400
    return f"{days:.1f} days" if days >= 1 else f"{age.total_seconds() / 3600:.1f} hours"


def _subject_digests(statement: Mapping[str, Any]) -> set[str]:
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return set()
    return {d for s in subjects if isinstance(d := _get(s, "digest", "sha256"), str)}


class _Checker:
    def __init__(self, artifact_sha256: str, key: PublicKeyTypes) -> None:
        self.artifact_sha256 = artifact_sha256
        self.key = verification_key(key)
        self.failures: list[Failure] = []
        self.statements: list[Mapping[str, Any]] = []
        self.by_type: dict[str, Mapping[str, Any]] = {}
        self.other_subjects: dict[int, set[str]] = {}  # line -> digests it names instead

    def fail(self, check: str, message: str) -> None:
        self.failures.append(Failure(check, message))

    def signatures(self, signed: list[SignedStatement]) -> bool:
        unsigned = []
        for item in signed:
            if item.payload_type != PAYLOAD_TYPE:
                self.fail("format", f"line {item.line}: payload type {item.payload_type!r} is "
                          f"not {PAYLOAD_TYPE}")  # fmt: skip
            elif not item.signed_by(self.key):
                unsigned.append(item.line)
        if unsigned:
            self.fail(
                "signature",
                f"{_lines(unsigned)}: no valid signature by key {_short(self.key.keyid)} "
                "(wrong key, or the envelope was altered)",
            )
        return not self.failures

    def statement(self, item: SignedStatement) -> None:
        try:
            statement = json.loads(item.payload)
        except (ValueError, RecursionError):
            self.fail("statement", f"line {item.line}: the signed payload is not JSON")
            return
        if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
            self.fail("statement", f"line {item.line}: not an in-toto Statement v1")
            return
        predicate_type = statement.get("predicateType")
        if predicate_type not in PREDICATE_TYPES:
            self.fail(
                "predicate", f"line {item.line}: unexpected predicate type {predicate_type!r}"
            )
            return
        if predicate_type in self.by_type:
            self.fail("predicate", f"line {item.line}: a second {predicate_type} statement")
            return
        if self.artifact_sha256 not in _subject_digests(statement):
            self.other_subjects.setdefault(item.line, _subject_digests(statement))
        self.statements.append(statement)
        self.by_type[predicate_type] = statement

    def subjects(self) -> None:
        if not self.other_subjects:
            return
        attested = sorted(set().union(*self.other_subjects.values()))
        self.fail(
            "subject",
            f"the artifact's sha256 {_short(self.artifact_sha256)} is not the attested subject "
            f"({', '.join(_short(d) for d in attested) or 'none'}, "
            f"{_lines(list(self.other_subjects))}): the file differs from what was examined",
        )

    def predicates(self) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
        missing = [
            name
            for name, kind in (
                ("SLSA verification summary", VSA_PREDICATE),
                ("exam", EXAM_PREDICATE),
            )
            if kind not in self.by_type
        ]
        if missing:
            self.fail("predicate", "no " + " and no ".join(missing) + " statement")
            return None
        vsa = _get(self.by_type[VSA_PREDICATE], "predicate")
        exam = _get(self.by_type[EXAM_PREDICATE], "predicate")
        if not isinstance(vsa, Mapping) or not isinstance(exam, Mapping):
            self.fail("predicate", "a predicate is not a JSON object")
            return None
        if _get(vsa, "verifier", "id") != VERIFIER_ID:
            self.fail("predicate", f"verifier {_get(vsa, 'verifier', 'id')!r} is not finalexam")
        return vsa, exam

    def policy(self, vsa: Mapping[str, Any], exam: Mapping[str, Any], expected: Policy) -> None:
        uri, digest = _get(vsa, "policy", "uri"), _get(vsa, "policy", "digest", "sha256")
        want_uri, want_digest = policy_uri(expected.name), policy_digest(expected)
        if uri != want_uri:
            self.fail("policy", f"attested under policy {uri!r}, expected {want_uri!r}")
        elif digest != want_digest:
            self.fail(
                "policy",
                f"policy {expected.name} differs: attested digest {_short(str(digest))}, "
                f"expected {_short(want_digest)} (other rules, another finalexam version, "
                "or a config file that changed it)",
            )
        if _get(exam, "policy", "digest", "sha256") != digest:
            self.fail("predicate", "the exam and the verification summary name different policies")

    def verdict(self, vsa: Mapping[str, Any], exam: Mapping[str, Any]) -> None:
        result, state = _get(vsa, "verificationResult"), _get(exam, "verdict")
        if result != PASSED or state != PASSED:
            violations = _get(exam, "policy", "violations")
            why = (
                ": " + ", ".join(str(v) for v in violations[:5])
                if isinstance(violations, list) and violations
                else ""
            )
            shown = state if isinstance(state, str) else result
            self.fail("verdict", f"the exam did not pass: {shown}{why}")

    def age(
        self, vsa: Mapping[str, Any], max_age: timedelta | None, now: datetime
    ) -> datetime | None:
        text = _get(vsa, "timeVerified")
        try:
            moment = parse_time(text) if isinstance(text, str) else None
        except ValueError:
            moment = None
        if moment is None:
            self.fail("age", f"timeVerified {text!r} is not an RFC 3339 time")
            return None
        if moment > now + CLOCK_SKEW:
            self.fail("age", f"examined in the future ({text})")
        elif max_age is not None and now - moment > max_age:
            self.fail(
                "age",
                f"examined {_format_age(now - moment)} ago ({text}), older than the "
                f"{_format_age(max_age)} allowed",
            )
        return moment


def verify_digest(
    artifact_sha256: str,
    attestation: bytes,
    key: PublicKeyTypes | str | Path,
    *,
    policy: Policy | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> Result:
    """Verify ``attestation`` (the file's bytes) for an artifact known by its sha256.

    ``policy``: the policy the artifact must have passed (None: any policy is accepted).
    ``max_age``: how long ago the exam may have been. Never raises for a bad attestation:
    each problem is a Failure. Raises UsageError only for an unreadable key file.
    """
    public = key if not isinstance(key, str | Path) else load_public_key(key)
    checker = _Checker(artifact_sha256.lower(), public)

    def result(**found: Any) -> Result:
        return Result(
            artifact_sha256=checker.artifact_sha256,
            key_id=checker.key.keyid,
            failures=tuple(checker.failures),
            statements=tuple(checker.statements),
            **found,
        )

    try:
        signed = read_lines(attestation)
    except MalformedAttestation as error:
        checker.fail("format", str(error))
        return result()
    if not checker.signatures(signed):
        return result()  # nothing unsigned is read any further
    for item in signed:
        checker.statement(item)
    checker.subjects()
    found = checker.predicates()
    if found is None:
        return result()
    vsa, exam = found
    if policy is not None:
        checker.policy(vsa, exam, policy)
    checker.verdict(vsa, exam)
    moment = checker.age(vsa, max_age, now or datetime.now(UTC))
    name = _get(exam, "policy", "name")
    digest = _get(vsa, "policy", "digest", "sha256")
    version = _get(vsa, "verifier", "version", "finalexam")
    state = _get(exam, "verdict")
    return result(
        verdict=state if isinstance(state, str) else None,
        policy=name if isinstance(name, str) else None,
        policy_digest=digest if isinstance(digest, str) else None,
        time_verified=moment,
        verifier_version=version if isinstance(version, str) else None,
    )


def verify(
    artifact: str | Path,
    attestation: bytes,
    key: PublicKeyTypes | str | Path,
    *,
    policy: Policy | None = None,
    max_age: timedelta | None = None,
    now: datetime | None = None,
) -> Result:
    """Verify ``attestation`` for the file ``artifact`` (hashed here); see verify_digest."""
    return verify_digest(
        file_sha256(artifact), attestation, key, policy=policy, max_age=max_age, now=now
    )
