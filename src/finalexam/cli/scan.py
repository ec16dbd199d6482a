"""``finalexam scan TARGET``: examine one shipped artifact and decide."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from finalexam.attest import FORMATS, INTOTO_JSONL, PASSPHRASE_ENV, load_private_key, make_bundle
from finalexam.cli.common import add_option_flags, config_from_args, validate_outputs, write_outputs
from finalexam.cli.ui import ProgressDisplay
from finalexam.errors import FinalexamError, UsageError
from finalexam.exam import run_exam
from finalexam.model import Report
from finalexam.outcome import EXIT_CODES, outcome
from finalexam.policy import load_policy, reference_date
from finalexam.policy.engine import baseline_fingerprints
from finalexam.report.base import write_atomically


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="examine an artifact (package, archive, image, binary or directory)",
        description="Examine a built artifact and report what is inside. Exit codes: 0 passed, "
        "1 policy failed, 2 usage or configuration error, 3 exam incomplete.",
    )
    parser.add_argument("target", help="file or directory to examine")
    add_option_flags(parser)
    attest = parser.add_argument_group(
        "attestation", "sign an in-toto attestation of the exam (see docs/attestation.md)"
    )
    attest.add_argument("--attest", metavar="FILE", help="write the signed attestation here")
    attest.add_argument(
        "--key", metavar="FILE", help=f"private key (PEM or OpenSSH; env {PASSPHRASE_ENV})"
    )
    attest.add_argument(
        "--attest-format",
        choices=FORMATS,
        default=INTOTO_JSONL,
        help=f"JSON Lines of DSSE envelopes or of Sigstore bundles (default {INTOTO_JSONL})",
    )
    attest.add_argument(
        "--attest-sbom", action="store_true", help="add the CycloneDX SBOM as a statement"
    )
    attest.add_argument(
        "--resource-uri", metavar="URI", help="where the artifact is published (default: a purl)"
    )
    parser.set_defaults(run=run)


def exit_code(report: Report) -> int:
    return EXIT_CODES[outcome(report)]


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    outputs = validate_outputs(config)
    # A broken policy, waiver file or --timestamp stops here, before a long exam.
    load_policy(config)
    reference_date(config)
    baseline_fingerprints(None, config.baseline)
    key = _attestation_key(args)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    with ProgressDisplay(show) as display:
        report = run_exam(Path(args.target), config, display)
    write_outputs(report, outputs, config)
    if key is not None:
        attestation = make_bundle(
            report,
            args.target,
            key,
            config,
            attest_format=args.attest_format,
            sbom=args.attest_sbom,
            resource_uri=args.resource_uri,
        )
        try:
            write_atomically(args.attest, attestation)
        except OSError as error:
            raise FinalexamError(
                f"cannot write attestation: {error.strerror}", path=args.attest
            ) from None
    return exit_code(report)


def _attestation_key(args: argparse.Namespace) -> PrivateKeyTypes | None:
    """Check --attest and --key before a long exam: both or neither, a file target, a key."""
    if args.attest is None and args.key is None:
        return None
    if args.attest is None or args.key is None:
        raise UsageError("--attest and --key go together")
    if Path(args.target).is_dir():  # a missing target is the exam's own error
        raise UsageError("only a file can be attested, not a directory", path=args.target)
    parent = Path(args.attest).absolute().parent
    if not parent.is_dir():
        raise UsageError("attestation directory does not exist", path=str(parent))
    return load_private_key(args.key)
