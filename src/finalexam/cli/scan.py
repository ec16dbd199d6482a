"""``finalexam scan TARGET``: examine one shipped artifact and decide."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from finalexam.cli.common import add_option_flags, config_from_args, validate_outputs, write_outputs
from finalexam.cli.ui import ProgressDisplay
from finalexam.exam import run_exam
from finalexam.model import Report
from finalexam.policy import load_policy, reference_date
from finalexam.policy.engine import baseline_fingerprints


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="examine an artifact (package, archive, image, binary or directory)",
        description="Examine a built artifact and report what is inside. Exit codes: 0 passed, "
        "1 policy failed, 2 usage or configuration error, 3 exam incomplete.",
    )
    parser.add_argument("target", help="file or directory to examine")
    add_option_flags(parser)
    parser.set_defaults(run=run)


def exit_code(report: Report, strict: bool) -> int:
    if not report.verdict.passed:
        return 1
    if not report.complete or (strict and report.issues):
        return 3
    return 0


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    outputs = validate_outputs(config)
    # A broken policy, waiver file or --timestamp stops here, before a long exam.
    load_policy(config)
    reference_date(config)
    baseline_fingerprints(None, config.baseline)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    with ProgressDisplay(show) as display:
        report = run_exam(Path(args.target), config, display)
    write_outputs(report, outputs, config)
    return exit_code(report, config.strict)
