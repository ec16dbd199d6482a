"""``finalexam sbom TARGET``: name every component of an artifact and write SBOMs.

Only the catalogers run (no analyzers, no policy): the exit code says whether the inventory
is complete, never whether the release passes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from finalexam.cli.common import (
    WALK_KEYS,
    add_option_flags,
    config_from_args,
    validate_outputs,
    write_outputs,
)
from finalexam.cli.ui import ProgressDisplay
from finalexam.exam import run_exam
from finalexam.report import with_reporters

DEFAULT_FORMAT = "cyclonedx-json"


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sbom",
        help="write a software bill of materials (CycloneDX 1.6, SPDX 2.3)",
        description="Name every component inside an artifact and write SBOMs "
        "(default: cyclonedx-json to standard output). Exit codes: 0 written, "
        "2 usage or configuration error, 3 inventory incomplete.",
    )
    parser.add_argument("target", help="file or directory to examine")
    add_option_flags(parser, WALK_KEYS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    outputs = validate_outputs(config, default=DEFAULT_FORMAT)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    with ProgressDisplay(show) as display:
        report = run_exam(Path(args.target), config, display, analyzers=())
    report = with_reporters(report, [name for name, _ in outputs])
    write_outputs(report, outputs, config)
    return 0 if report.complete else 3
