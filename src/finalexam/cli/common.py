"""Flags shared by subcommands, generated from the one option table in config.py."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from finalexam.config import OPTIONS, Config, build_config
from finalexam.errors import FinalexamError, UsageError
from finalexam.model import Report
from finalexam.report import REPORTERS
from finalexam.report.base import (
    RenderOptions,
    check_output_target,
    parse_output,
    write_atomically,
)

# Settings of the walk itself, shared by every command that unpacks an artifact.
WALK_KEYS = frozenset({
    "max_depth", "max_total_bytes", "max_ratio", "max_files", "max_member_size",
    "progress", "debug", "timestamp", "disable", "only", "allow_incomplete",
})  # fmt: skip


# Positional arguments that name what a command examines (scan/sbom TARGET, diff OLD NEW,
# repro A B, verify ARTIFACT): config discovery never reads a file inside them.
EXAMINED_ARGS = ("target", "old", "new", "a", "b", "artifact")


def add_option_flags(
    parser: argparse.ArgumentParser, keys: set[str] | frozenset[str] | None = None
) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="config file (default: finalexam.toml or [tool.finalexam] in "
        "pyproject.toml, searched upwards from the working directory, never inside the "
        "examined target; env FINALEXAM_CONFIG)",
    )
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        default=None,
        metavar="FORMAT[=FILE]",
        dest="outputs",
        help="report format and optional file, repeatable; formats: "
        + ", ".join(sorted(REPORTERS))
        + " (env FINALEXAM_OUTPUTS)",
    )
    for option in OPTIONS:
        if not option.flag or (keys is not None and option.key not in keys):
            continue
        help_text = f"{option.help} (env {option.env})"
        if option.kind is bool:
            parser.add_argument(
                option.cli,
                dest=option.key,
                default=None,
                action=argparse.BooleanOptionalAction,
                help=help_text,
            )
        elif option.repeatable:
            parser.add_argument(
                option.cli,
                dest=option.key,
                action="append",
                default=None,
                metavar="VALUE",
                help=help_text,
            )
        else:
            parser.add_argument(
                option.cli,
                dest=option.key,
                default=None,
                type=_typed(option.parse, option.cli),
                metavar="VALUE",
                help=help_text,
            )


def _typed(parse: Any, flag: str) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{flag}: {error}") from None

    convert.__name__ = flag
    return convert


def config_from_args(args: argparse.Namespace) -> Config:
    values = vars(args)
    overrides: dict[str, Any] = {}
    for option in OPTIONS:
        value = values.get(option.key)
        if value is None:
            continue
        if option.repeatable and isinstance(value, list):
            flat: list[Any] = []
            for item in value:
                try:
                    flat.extend(option.parse(item))
                except ValueError as error:
                    raise UsageError(f"{option.cli}: {error}") from None
            value = tuple(flat)
        overrides[option.key] = value
    if values.get("outputs"):
        overrides["outputs"] = tuple(values["outputs"])
    examined = [Path(values[key]) for key in EXAMINED_ARGS if isinstance(values.get(key), str)]
    config = build_config(config_file=values.get("config"), overrides=overrides, examined=examined)
    if config.ignored_config_path:
        print(
            f"finalexam: not reading {config.ignored_config_path}: it lies inside what is "
            "examined (name it with --config to use it)",
            file=sys.stderr,
        )
    return config


def validate_outputs(
    config: Config, default: str = "table", formats: Iterable[str] = REPORTERS
) -> list[tuple[str, str | None]]:
    specs = [parse_output(spec, set(formats)) for spec in (config.outputs or (default,))]
    stdout_specs = [s for s in specs if s.path is None]
    if len(stdout_specs) > 1:
        raise UsageError("only one output can go to standard output; give the others a file")
    for spec in specs:
        if spec.path is not None:
            check_output_target(spec.path)  # before a long exam: refused outputs stop here
    return [(s.format, s.path) for s in specs]


def write_outputs(report: Report, outputs: list[tuple[str, str | None]], config: Config) -> None:
    for name, path in outputs:
        options = RenderOptions(
            files=config.files,
            timestamp=config.timestamp,
            color=path is None and sys.stdout.isatty(),
            timings=config.timings,
        )
        emit(REPORTERS[name].render(report, options), path)


def emit(data: bytes, path: str | None) -> None:
    """One rendered output: to standard output, or to its file (see write_atomically)."""
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        write_atomically(path, data)
    except OSError as error:
        raise FinalexamError(f"cannot write report: {error.strerror}", path=path) from None


def add_store_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--store-url",
        metavar="URL",
        default=None,
        help="portfolio store: a SQLite file path or sqlite:///PATH, or postgresql://… "
        "(env FINALEXAM_STORE_URL; default: portfolio.sqlite3 in the user data directory)",
    )


def open_store(args: argparse.Namespace) -> Any:
    """The store named by ``--store-url`` (imported here: only store commands pay for it)."""
    from finalexam.store import Store

    return Store(getattr(args, "store_url", None))
