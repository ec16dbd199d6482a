"""Command line: one module per subcommand; the only place that maps outcomes to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from finalexam.cli import (
    db,
    diff,
    key,
    monitor,
    policy,
    portfolio,
    repro,
    rules,
    sbom,
    scan,
    serve,
    verify,
)
from finalexam.cli.signals import Terminated, unwind_on_signals
from finalexam.errors import FinalexamError
from finalexam.redact import neutralize
from finalexam.version import __version__

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3

# Each module has add_parser(subparsers) and run(args) -> int.
COMMANDS: tuple[ModuleType, ...] = (
    *(scan, verify, sbom, diff, repro, db, policy, rules, key),
    *(portfolio, monitor, serve),
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgError(message)


class _ArgError(FinalexamError):
    exit_code = EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="finalexam", description="A final exam for built software packages.")
    parser.add_argument("--version", action="version", version=f"finalexam {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list
    try:
        with unwind_on_signals():
            args = build_parser().parse_args(args_list)
            code: int = args.run(args)
        return code
    except FinalexamError as error:
        if debug:
            raise
        for line in str(error).splitlines() or [""]:  # one error per line
            print(f"finalexam: error: {neutralize(line)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:
        why = f"terminated ({stop})" if isinstance(stop, Terminated) else "interrupted"
        print(f"finalexam: {why}: the exam did not complete", file=sys.stderr)
        return EXIT_INCOMPLETE
    except BrokenPipeError:
        return EXIT_INCOMPLETE
    except Exception as error:  # the tool failed: never a traceback unless asked
        if debug:
            raise
        print(
            f"finalexam: internal error: {type(error).__name__}: {neutralize(str(error))} "
            "(run with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_INCOMPLETE
