"""``finalexam diff OLD NEW``: what changed between two releases, and is it dangerous."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from finalexam.cli.common import (
    WALK_KEYS,
    add_option_flags,
    config_from_args,
    emit,
    validate_outputs,
)
from finalexam.cli.ui import ProgressDisplay
from finalexam.diffing.api import diff
from finalexam.diffing.model import risk_rank
from finalexam.diffing.policy import baseline_violations
from finalexam.diffing.render import DIFF_RENDERERS, DiffRenderOptions
from finalexam.errors import InputError
from finalexam.report.base import RenderOptions
from finalexam.report.document import report_timestamp

_OPTION_KEYS = WALK_KEYS | {
    "db",
    "db_mirror",
    "db_max_age_days",
    "offline",
    "yara_rules",
    "yara_store",
    "jobs",
}


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="compare two releases (artifacts or stored JSON reports)",
        description="Compare two releases and rank what changed by risk. OLD and NEW are "
        "artifacts or JSON reports written by `finalexam scan -o json --files`. Exit codes: 0 "
        "risk none or low, 1 risk medium or above (or a baseline rule violated), 2 usage "
        "error, 3 the diff could not complete. Output formats: "
        + ", ".join(sorted(DIFF_RENDERERS)),
    )
    parser.add_argument("old", help="previous release: artifact or JSON report")
    parser.add_argument("new", help="new release: artifact or JSON report")
    parser.add_argument(
        "--all",
        dest="all_changes",
        action="store_true",
        help="list informational changes too (table, markdown, html)",
    )
    add_option_flags(parser, _OPTION_KEYS)
    for action in parser._actions:
        if action.dest == "outputs":  # the diff has its own renderers
            action.help = "output format and optional file, repeatable; formats: " + ", ".join(
                sorted(DIFF_RENDERERS)
            )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    outputs = validate_outputs(config, "table", DIFF_RENDERERS)
    for target in (args.old, args.new):
        if not Path(target).exists():
            raise InputError("no such file or directory", path=target)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    with ProgressDisplay(show) as display:
        result = diff(args.old, args.new, config, display)
    timestamp = report_timestamp(RenderOptions(timestamp=config.timestamp))
    for name, path in outputs:
        options = DiffRenderOptions(
            timestamp=timestamp,
            color=path is None and sys.stdout.isatty(),
            all_changes=args.all_changes,
        )
        emit(DIFF_RENDERERS[name](result, options), path)
    flagged = risk_rank(result.risk) >= risk_rank("medium")
    if flagged or baseline_violations(result, config):
        return 1
    return 0 if result.complete else 3
