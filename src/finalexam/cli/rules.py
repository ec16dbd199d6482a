"""``finalexam rules list|show ID|test|lint|docs``: the rule files of every engine;
``finalexam rules update|sets|remove``: the YARA rule sets a user imports."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from finalexam import ruleset
from finalexam.cli.common import config_from_args
from finalexam.config import OPTIONS
from finalexam.docgen import rules_markdown
from finalexam.errors import UsageError
from finalexam.matching.yara_store import (
    RuleSetInfo,
    import_rule_set,
    list_rule_sets,
    remove_rule_set,
    store_dir,
)
from finalexam.report.base import write_atomically
from finalexam.ruleset import RuleFile, find_rule, lint, load_rules, run_examples


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "rules",
        help="list, show, test and lint the detection rules",
        description="Rules are data: one TOML (or YARA) file per rule, each with matching and "
        "benign examples. Exit codes: 0 ok, 1 failing examples or lint problems, 2 usage.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="list every rule")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    show = actions.add_parser("show", help="show one rule")
    show.add_argument("rule_id", metavar="ID", help="rule id, or FAMILY/ID")
    test = actions.add_parser("test", help="run every rule's examples")
    test.add_argument("rule_ids", metavar="ID", nargs="*", help="only these rules")
    actions.add_parser("lint", help="check rule files (ids, fields, examples)")
    docs = actions.add_parser("docs", help="write the rules reference (Markdown)")
    docs.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    docs.add_argument(
        "--check", action="store_true", help="exit 1 when FILE differs from the generated text"
    )
    for sub in (listing, test, actions.choices["lint"]):
        sub.add_argument("--family", action="append", help="only this family (repeatable)")
    update = actions.add_parser(
        "update",
        help="import a public YARA rule set (file, directory tree or zip)",
        description="Compile a YARA rule set (YARA Forge, signature-base, malcontent...: "
        ".yar/.yara files, a directory tree of them or a zip) with YARA-X and keep it beside "
        "the vulnerability database; every exam then runs it with the bundled rules. Rules "
        "YARA-X rejects are skipped with a warning each; a set where nothing compiles is "
        "exit 2. An existing set of the same name is replaced.",
    )
    update.add_argument("--source", required=True, metavar="FILE|DIR", help="the rule set")
    update.add_argument(
        "--name", metavar="NAME", help="name of the set (default: from the source's name)"
    )
    sets = actions.add_parser("sets", help="list the imported YARA rule sets")
    sets.add_argument("--json", action="store_true", help="machine-readable output")
    remove = actions.add_parser("remove", help="remove an imported YARA rule set")
    remove.add_argument("name", metavar="NAME", help="name of the set (see: rules sets)")
    for sub in (listing, update, sets, remove):
        sub.add_argument("--config", metavar="FILE", help="config file (env FINALEXAM_CONFIG)")
        for option in (o for o in OPTIONS if o.key in ("db", "yara_store")):
            sub.add_argument(option.cli, dest=option.key, help=f"{option.help} (env {option.env})")
    parser.set_defaults(run=run)


def _selected(args: argparse.Namespace) -> list[RuleFile]:
    families = ruleset.RULE_FAMILIES
    wanted = getattr(args, "family", None)
    if wanted:
        unknown = sorted(set(wanted) - set(families))
        if unknown:
            known = ", ".join(sorted(families)) or "none registered"
            raise UsageError(f"unknown rule family {', '.join(unknown)} (families: {known})")
        families = {name: families[name] for name in wanted}
    return load_rules(families)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=max(100, Console().width))


def run(args: argparse.Namespace) -> int:
    action: str = args.action
    if action == "list":
        return _list(args)
    if action == "show":
        return _show(args)
    if action == "test":
        return _test(args)
    if action == "lint":
        return _lint(args)
    if action == "update":
        return _update(args)
    if action == "sets":
        return _sets(args)
    if action == "remove":
        return _remove(args)
    return _docs(args)


def _list(args: argparse.Namespace) -> int:
    rules = _selected(args)
    if args.json:
        rows = [
            {
                "family": r.family,
                "id": r.id,
                "format": r.format,
                "severity": r.severity,
                "title": r.title,
                "file": f"{r.family}/{r.path.name}",
            }
            for r in rules
        ]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return 0
    table = Table(show_edge=False, title=f"{len(rules)} rules", title_justify="left")
    for column in ("family", "id", "severity", "format", "title"):
        table.add_column(column, overflow="fold")
    for r in rules:
        table.add_row(r.family, r.id, r.severity or "-", r.format, r.title)
    _console().print(table)
    imported = list_rule_sets(config_from_args(args))
    if imported:
        _console().print(_sets_table(imported))
    return 0


def _update(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    start = time.perf_counter()
    result = import_rule_set(config, Path(args.source), args.name)
    seconds = time.perf_counter() - start
    for skipped in result.skipped:
        print(f"finalexam: warning: {skipped}", file=sys.stderr)
    info = result.info
    sys.stdout.write(
        f"imported YARA rule set {info.name}: {info.rules} rules from {info.files} files "
        f"({info.skipped} skipped) in {seconds:.1f} s, sha256 {info.sha256}, {info.engine}\n"
        f"stored in {result.path}\n"
    )
    return 0


def _sets_table(sets: list[RuleSetInfo]) -> Table:
    table = Table(show_edge=False, title="imported YARA rule sets", title_justify="left")
    for column in ("name", "rules", "skipped", "imported", "sha256", "source"):
        table.add_column(column, overflow="fold")
    for info in sets:
        table.add_row(
            info.name,
            str(info.rules),
            str(info.skipped),
            info.imported,
            info.sha256[:16],
            info.source,
        )
    return table


def _sets(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    sets = list_rule_sets(config)
    if args.json:
        rows = [{**info.identity(), "files": info.files, "skipped": info.skipped} for info in sets]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    elif sets:
        _console().print(_sets_table(sets))
    else:
        sys.stdout.write(f"no imported YARA rule sets in {store_dir(config)}\n")
    return 0


def _remove(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if not remove_rule_set(config, args.name):
        raise UsageError(f"no imported YARA rule set {args.name!r} in {store_dir(config)}")
    sys.stdout.write(f"removed YARA rule set {args.name}\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    matches = find_rule(load_rules(), args.rule_id)
    if not matches:
        raise UsageError(f"no rule {args.rule_id!r} (see: finalexam rules list)")
    if len(matches) > 1:
        names = ", ".join(r.qualified_id for r in matches)
        raise UsageError(f"rule id {args.rule_id!r} is ambiguous: {names}")
    (rule,) = matches
    out = [
        f"{rule.qualified_id}  [{rule.severity or '-'}]",
        f"title: {rule.title}",
        f"file: {rule.path}",
        "",
        rule.description,
    ]
    if rule.yara_rules:
        out += ["", "YARA rules: " + ", ".join(rule.yara_rules)]
    for key in ("match", "benign"):
        examples = rule.example_list(key)
        if examples:
            out += ["", f"{key} examples:"] + [
                f"  {json.dumps(e, ensure_ascii=False)}" for e in examples
            ]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def _test(args: argparse.Namespace) -> int:
    rules = _selected(args)
    if args.rule_ids:
        chosen: list[RuleFile] = []
        for wanted in args.rule_ids:
            found = find_rule(rules, wanted)
            if not found:
                raise UsageError(f"no rule {wanted!r} (see: finalexam rules list)")
            chosen += found
        rules = chosen
    results = run_examples(rules)
    failed = [r for r in results if not r.passed]
    for result in failed:
        kind = "match" if result.expected else "benign"
        outcome = result.error or ("did not match" if result.expected else "matched")
        sys.stdout.write(
            f"FAIL {result.rule.qualified_id}: {kind} example "
            f"{json.dumps(result.example, ensure_ascii=False)}: {outcome}\n"
        )
    tested = len({r.rule.qualified_id for r in results})
    sys.stdout.write(
        f"{len(results)} examples in {tested} rules: {len(results) - len(failed)} passed, "
        f"{len(failed)} failed\n"
    )
    return 1 if failed else 0


def _lint(args: argparse.Namespace) -> int:
    rules = _selected(args)
    problems = lint(rules)
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    sys.stdout.write(f"{len(rules)} rule files, {len(problems)} problems\n")
    return 1 if problems else 0


def _docs(args: argparse.Namespace) -> int:
    text = rules_markdown()
    if args.check:
        if not args.output:
            raise UsageError("--check needs -o FILE")
        try:
            with open(args.output, encoding="utf-8") as handle:
                current = handle.read()
        except OSError:
            current = None
        if current != text:
            sys.stdout.write(f"{args.output} is out of date: run finalexam rules docs -o FILE\n")
            return 1
        return 0
    if args.output:
        write_atomically(args.output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    return 0
