"""``finalexam repro A B``: were two builds of one release built reproducibly?"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from typing import Any

from finalexam.cli.common import config_from_args, emit, validate_outputs
from finalexam.repro import CONTENT, REPRODUCIBLE, ReproResult, compare_builds

REPRO_SCHEMA_VERSION = "1.0"
_FORMATS = {"table", "json", "markdown"}


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "repro",
        help="check that two builds of one release are the same",
        description="Compare two builds of one release. Byte-identical builds are "
        "reproducible; otherwise every difference is explained by category (member order, "
        "timestamps, permissions, owners, compression, build paths, build dates, signatures) "
        "or shown as a real content difference. Exit codes: 0 reproducible (also after "
        "normalisation), 1 not reproducible, 2 usage error, 3 the check could not complete.",
    )
    parser.add_argument("a", help="first build")
    parser.add_argument("b", help="second build")
    parser.add_argument("--config", metavar="FILE", help="config file (limits)")
    parser.add_argument(
        "-o",
        "--output",
        action="append",
        default=None,
        metavar="FORMAT[=FILE]",
        dest="outputs",
        help="table, json or markdown, repeatable",
    )
    parser.add_argument("--debug", action=argparse.BooleanOptionalAction, default=None)
    parser.set_defaults(run=run)


def repro_document(result: ReproResult) -> dict[str, Any]:
    return {
        "schema": REPRO_SCHEMA_VERSION,
        "type": "finalexam-repro",
        "a": {"path": result.a, "sha256": result.sha256_a},
        "b": {"path": result.b, "sha256": result.sha256_b},
        "verdict": result.verdict,
        "normalisations": list(result.normalisations),
        "differing_files": list(result.differing_files),
        "differences": [
            {
                "location": d.location,
                "category": d.category,
                "detail": d.detail,
                **({"evidence": list(d.lines)} if d.lines else {}),
            }
            for d in result.differences
        ],
    }


def render_text(result: ReproResult, markdown: bool = False) -> bytes:
    lines: list[str] = []
    heading = "# " if markdown else ""
    lines.append(f"{heading}finalexam repro: {result.a} vs {result.b}")
    lines.append("")
    if result.verdict == REPRODUCIBLE:
        lines.append("REPRODUCIBLE: the builds are byte-identical")
        return ("\n".join(lines) + "\n").encode("utf-8")
    by_category: dict[str, list[str]] = defaultdict(list)
    for d in result.differences:
        if d.category != CONTENT:
            by_category[d.category].append(f"{d.location}: {d.detail}")
    if by_category:
        lines.append(("## " if markdown else "") + "Explained by normalisation")
        for category in sorted(by_category):
            items = by_category[category]
            lines.append(f"- {category} ({len(items)}):")
            for item in items[:10]:
                lines.append(f"    {item}")
            if len(items) > 10:
                lines.append(f"    … {len(items) - 10} more")
    content = [d for d in result.differences if d.category == CONTENT]
    if content:
        lines.append(("## " if markdown else "") + "Real content differences")
        for d in content:
            lines.append(f"- {d.location}: {d.detail}")
            if markdown and d.lines:
                lines.append("```diff")
            lines.extend(("    " if not markdown else "") + line for line in d.lines)
            if markdown and d.lines:
                lines.append("```")
    lines.append("")
    if result.reproducible:
        lines.append("REPRODUCIBLE AFTER NORMALISATION: " + ", ".join(result.normalisations))
    else:
        lines.append("NOT REPRODUCIBLE: " + ", ".join(result.differing_files[:20]))
    return ("\n".join(lines) + "\n").encode("utf-8")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    outputs = validate_outputs(config, "table", _FORMATS)
    result = compare_builds(args.a, args.b, config.limits)
    for name, path in outputs:
        if name == "json":
            text = json.dumps(repro_document(result), indent=2, ensure_ascii=False) + "\n"
            data = text.encode("utf-8")
        else:
            data = render_text(result, markdown=name == "markdown")
        emit(data, path)
    return 0 if result.reproducible else 1
