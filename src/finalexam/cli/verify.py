"""``finalexam verify ARTIFACT --attestation FILE --key KEY``: check an exam attestation offline."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from finalexam.attest import verify_digest
from finalexam.attest.keys import read_input
from finalexam.attest.statement import file_sha256
from finalexam.cli.common import config_from_args
from finalexam.errors import UsageError
from finalexam.policy import load_policy

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
# Statements and an SBOM fit well below this; a bigger file is not read into memory.
MAX_ATTESTATION_BYTES = 256 * 1024 * 1024
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> timedelta:
    match = _AGE.match(text.lower())
    if not match:
        raise argparse.ArgumentTypeError(
            f"--max-age: expected a number and a unit (s, m, h, d, w), e.g. 30d; got {text!r}"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="verify an exam attestation against the artifact, offline",
        description="Check an attestation written by 'scan --attest': the signature by KEY, the "
        "artifact's sha256, the predicate types, the policy (name and digest, resolved as "
        "'scan' would), the verdict and the age. Exit codes: 0 verified, 1 verification "
        "failed, 2 usage error.",
    )
    parser.add_argument("artifact", help="the artifact file the attestation is about")
    parser.add_argument(
        "--attestation", required=True, metavar="FILE", help="attestation (JSON Lines)"
    )
    parser.add_argument("--key", required=True, metavar="FILE", help="public key (PEM)")
    parser.add_argument(
        "--policy",
        metavar="NAME|FILE",
        help="policy the artifact must have passed (default: the policy 'scan' would use here)",
    )
    parser.add_argument("--config", metavar="FILE", help="config file, as for 'scan'")
    parser.add_argument(
        "--fail-on", dest="fail_on", metavar="SEVERITY", help="as given to 'scan', if it was"
    )
    parser.add_argument(
        "--max-age", type=parse_age, metavar="AGE", help="reject exams older than AGE (e.g. 30d)"
    )
    parser.set_defaults(run=run)


def _failed(attestation: str, failures: list[str]) -> int:
    for failure in failures:
        print(f"finalexam: verify failed: {attestation}: {failure}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    policy = load_policy(config_from_args(args))
    path = Path(args.attestation)
    if path.is_file() and path.stat().st_size > MAX_ATTESTATION_BYTES:
        return _failed(
            args.attestation, [f"format: {path.stat().st_size} bytes: not an attestation"]
        )
    attestation = read_input(args.attestation, "attestation")
    if not Path(args.artifact).is_file():
        raise UsageError("artifact not found or not a file", path=args.artifact)
    try:
        sha256 = file_sha256(args.artifact)
    except OSError as error:
        raise UsageError(f"cannot read artifact: {error.strerror}", path=args.artifact) from None
    result = verify_digest(sha256, attestation, args.key, policy=policy, max_age=args.max_age)
    if not result.ok:
        return _failed(args.attestation, [str(failure) for failure in result.failures])
    when = result.time_verified.strftime("%Y-%m-%dT%H:%M:%SZ") if result.time_verified else "?"
    sys.stdout.write(
        f"verified: {Path(args.artifact).name} (sha256 {sha256[:12]}…) {result.verdict} "
        f"under policy {result.policy} (sha256 {(result.policy_digest or '')[:12]}…), "
        f"examined {when} by finalexam {result.verifier_version}, signed by key "
        f"{result.key_id[:12]}…\n"
    )
    return 0
