"""``finalexam scan TARGET``: examine one shipped artifact and decide."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from finalexam.attest import FORMATS, INTOTO_JSONL, PASSPHRASE_ENV, load_private_key, make_bundle
from finalexam.cli.common import (
    add_option_flags,
    add_store_flag,
    config_from_args,
    open_store,
    validate_outputs,
    write_outputs,
)
from finalexam.cli.ui import ProgressDisplay
from finalexam.config import Config
from finalexam.diffing.baseline import exam_with_baseline
from finalexam.errors import FinalexamError, UsageError
from finalexam.model import Report
from finalexam.outcome import EXIT_CODES, outcome
from finalexam.policy import load_policy, reference_date
from finalexam.policy.engine import baseline_fingerprints
from finalexam.report import with_reporters
from finalexam.report.base import write_atomically


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="examine an artifact (package, archive, image, binary or directory)",
        description="Examine a built artifact and report what is inside. Exit codes: 0 passed, "
        "1 policy failed, 2 usage or configuration error, 3 exam incomplete.",
    )
    parser.add_argument("target", nargs="?", help="file or directory to examine")
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
    portfolio = parser.add_argument_group(
        "portfolio", "keep the exam to re-check it later (see docs/portfolio.md)"
    )
    portfolio.add_argument(
        "--store",
        action="store_true",
        help="keep the exam in the portfolio store, to be re-checked by `monitor run`",
    )
    add_store_flag(portfolio)
    portfolio.add_argument("--product", help="product name of the stored release")
    portfolio.add_argument(
        "--version", dest="release_version", help="version of the stored release"
    )
    portfolio.add_argument(
        "--received",
        action="store_true",
        help="the artifact was received from a supplier (default: built here)",
    )
    portfolio.add_argument(
        "--from-list",
        metavar="FILE",
        help="examine and store every artifact listed in FILE (PATH [PRODUCT [VERSION]] "
        "per line), on all local cores or on --scheduler",
    )
    portfolio.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run --from-list on a Dask cluster (dask.distributed)",
    )
    parser.set_defaults(run=run)


def exit_code(report: Report) -> int:
    return EXIT_CODES[outcome(report)]


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.from_list or args.scheduler:
        return run_batch(args, config)
    if not args.target:
        raise UsageError("scan: give a TARGET (or --store --from-list FILE)")
    outputs = validate_outputs(config)
    # A broken policy, waiver file or --timestamp stops here, before a long exam.
    load_policy(config)
    reference_date(config)
    baseline_fingerprints(None, config.baseline)
    key = _attestation_key(args)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    with ProgressDisplay(show) as display:
        report = exam_with_baseline(Path(args.target), config, display)
    report = with_reporters(report, [name for name, _ in outputs])
    write_outputs(report, outputs, config)
    attestation = None
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
    if args.store:
        from finalexam.store import Attestation
        from finalexam.store.exams import store_exam

        kept = [Attestation(args.attest_format, attestation)] if attestation else []
        with open_store(args) as store:
            stored = store_exam(
                store, report, config, _source(args), args.product, args.release_version, kept
            )
        print(
            f"stored {stored.product} {stored.version} ({stored.status}) in {store.description}",
            file=sys.stderr,
        )
    return exit_code(report)


def _source(args: argparse.Namespace) -> str:
    from finalexam.store import BUILT, RECEIVED

    return RECEIVED if args.received else BUILT


def run_batch(args: argparse.Namespace, config: Config) -> int:
    """``--store --from-list FILE``: every listed artifact, stored; exit with the worst code."""
    from finalexam.store import resolve_store_url
    from finalexam.store.batch import read_list, run_dask, run_local

    if not args.from_list or not args.store:
        raise UsageError("--from-list and --scheduler need --store (batch exams are stored)")
    if args.target or args.product or args.release_version or args.attest:
        raise UsageError("--from-list takes the targets, products and versions from the list")
    items = read_list(args.from_list)
    url = resolve_store_url(args.store_url)
    with open_store(args):
        pass  # create or migrate the store once, before the workers race to it
    single = replace(config, jobs=1)  # the parallelism is across artifacts
    if args.scheduler:
        outcomes = run_dask(items, single, url, _source(args), args.scheduler)
    else:
        workers = args.jobs if args.jobs is not None else 0  # default: every core
        outcomes = run_local(items, single, url, _source(args), workers)
    codes = []
    for result in outcomes:
        if result.error:
            print(f"finalexam: error: {result.item.path}: {result.error}", file=sys.stderr)
        else:
            print(f"{result.status}\t{result.release}\t{result.item.path}")
        codes.append(result.exit_code)
    if 1 in codes:
        return 1
    return max(codes, default=0)


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
