"""``finalexam portfolio …``: add received SBOMs or artifacts, and ask what the store knows."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from finalexam.cli.common import add_option_flags, add_store_flag, config_from_args, open_store
from finalexam.errors import UsageError
from finalexam.monitor.text import visible

MAX_ATTESTATION = 256 * 1024 * 1024


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "portfolio",
        help="the store of examined releases: add, query, export, waive",
        description="Work with the portfolio of stored exams (see `scan --store`).",
    )
    actions = parser.add_subparsers(dest="portfolio_command", metavar="ACTION")
    actions.required = True

    add = actions.add_parser(
        "add",
        help="examine a received SBOM (CycloneDX, SPDX) or artifact and store it",
        description="Examine TARGET (an SBOM is read into components) and keep the exam as "
        "release PRODUCT VERSION. Exit codes as for scan.",
    )
    add.add_argument("target", help="SBOM or artifact")
    add.add_argument("--product", required=True)
    add.add_argument("--version", dest="release_version", required=True)
    add.add_argument("--built", action="store_true", help="built here (default: received)")
    add.add_argument(
        "--attestation",
        action="append",
        default=[],
        metavar="FILE",
        help="a signed attestation of the artifact to keep with the exam, repeatable "
        "(in-toto JSON Lines or Sigstore bundles, kept as received)",
    )
    add_option_flags(add)
    add_store_flag(add)
    add.set_defaults(run=run_add)

    def query(name: str, help_text: str, run: Callable[[argparse.Namespace], int]) -> Any:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        add_store_flag(sub)
        sub.add_argument("--json", action="store_true", help="print JSON")
        sub.set_defaults(run=run)
        return sub

    listing = query("list", "list releases with their verdicts and open exposures", run_list)
    listing.add_argument("--product")
    listing.add_argument("--status", choices=("passed", "failed", "incomplete"))
    where = query("where", "which releases contain a component (any version or a range)", run_where)
    where.add_argument(
        "purl",
        help="pkg:TYPE/NS/NAME, …@VERSION, …@>=2.0,<2.15.0 or …@vers:maven/>=2.0|<2.15.0",
    )
    where.add_argument("--versions", help="version range, if not given in the purl")
    exposed = query(
        "exposed", "which releases are exposed to an advisory (id or alias)", run_exposed
    )
    exposed.add_argument("advisory")
    exposed.add_argument("--all", action="store_true", help="closed exposures too")
    changes = query("changes", "what the last monitor run changed", run_changes)
    changes.add_argument("--run", dest="run_id", type=int, help="another run than the last")
    history = query("history", "the verdict history of a release", run_history)
    history.add_argument("product")
    history.add_argument("version")
    waivers = query("waivers", "list portfolio waivers", run_waivers)
    waivers.add_argument("--release", nargs=2, metavar=("PRODUCT", "VERSION"))

    export = actions.add_parser(
        "export",
        help="write every release's SBOM into a directory",
        description="Write one SBOM per current release (from the stored exams) into DIR.",
    )
    export.add_argument("directory")
    export.add_argument(
        "--format",
        default="cyclonedx-json",
        choices=("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag"),
    )
    export.add_argument("--product")
    add_store_flag(export)
    export.set_defaults(run=run_export)

    vex = actions.add_parser(
        "vex",
        help="write a VEX document: what is and is not affected",
        description="A VEX document of every advisory matched in the portfolio: the "
        "releases affected, and those that contain the package but are not affected.",
    )
    vex.add_argument("--format", default="openvex", choices=("openvex", "cyclonedx"))
    vex.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    vex.add_argument("--product")
    add_store_flag(vex)
    vex.set_defaults(run=run_vex)

    waive = actions.add_parser(
        "waive",
        help="waive findings in one release, a product or the whole portfolio",
        description="Add a portfolio waiver (the next `monitor run` re-decides the verdicts).",
    )
    scope = waive.add_mutually_exclusive_group(required=True)
    scope.add_argument("--release", nargs=2, metavar=("PRODUCT", "VERSION"))
    scope.add_argument("--product", dest="waive_product")
    scope.add_argument("--everywhere", action="store_true", help="every release")
    waive.add_argument("--rule", dest="rule_id", help="rule or advisory id (glob; aliases count)")
    waive.add_argument("--purl", help="component package URL (without version: any version)")
    waive.add_argument("--fingerprint")
    waive.add_argument("--path", help="location glob")
    waive.add_argument("--reason", required=True)
    waive.add_argument("--expires", help="last day it applies (YYYY-MM-DD)")
    waive.add_argument("--approved-by")
    add_store_flag(waive)
    waive.set_defaults(run=run_waive)

    unwaive = actions.add_parser("unwaive", help="remove a portfolio waiver by id")
    unwaive.add_argument("waiver_id", type=int)
    add_store_flag(unwaive)
    unwaive.set_defaults(run=run_unwaive)

    token = actions.add_parser(
        "token",
        help="create an API token for `finalexam serve` (shown once)",
        description="Create a token: read (GET) or admin (also waivers and monitor runs).",
    )
    token.add_argument("name")
    token.add_argument("--role", choices=("read", "admin"), default="read")
    add_store_flag(token)
    token.set_defaults(run=run_token)


def _print_json(data: Any) -> int:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


def _line(*parts: object) -> None:
    print("  ".join(visible(p) for p in parts))


def run_add(args: argparse.Namespace) -> int:
    from finalexam import scan
    from finalexam.cli.scan import exit_code
    from finalexam.policy import load_policy
    from finalexam.store import BUILT, RECEIVED
    from finalexam.store.exams import store_exam

    config = config_from_args(args)
    load_policy(config)
    attestations = [_read_attestation(path) for path in args.attestation]
    report = scan(args.target, config)
    with open_store(args) as store:
        stored = store_exam(
            store,
            report,
            config,
            BUILT if args.built else RECEIVED,
            args.product,
            args.release_version,
            attestations,
        )
        _line(
            f"stored {stored.product} {stored.version}",
            stored.status,
            f"{len(report.components)} components",
            f"{stored.exposures} exposures",
            store.description,
        )
    return exit_code(report)


def _read_attestation(path: str) -> Any:
    from finalexam.attest import INTOTO_JSONL, SIGSTORE_BUNDLE
    from finalexam.store import Attestation

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read the attestation: {error.strerror}", path=path) from None
    if len(data) > MAX_ATTESTATION or not data.strip().startswith(b"{"):
        raise UsageError("not an attestation (JSON Lines, at most 256 MiB)", path=path)
    bundle = b"application/vnd.dev.sigstore.bundle" in data[:4096]
    return Attestation(SIGSTORE_BUNDLE if bundle else INTOTO_JSONL, data, "received")


def run_list(args: argparse.Namespace) -> int:
    from finalexam.store.queries import list_releases

    with open_store(args) as store, store.reading() as connection:
        releases = list_releases(connection, args.product, args.status)
    if args.json:
        return _print_json(releases)
    for item in releases:
        counts = ", ".join(f"{n} {s}" for s, n in item["exposures"].items() if n) or "none"
        _line(
            item["product"], item["version"], item["source"], item["status"], f"exposures: {counts}"
        )
    return 0


def run_where(args: argparse.Namespace) -> int:
    from finalexam.store.queries import parse_component_query, where

    query = parse_component_query(args.purl, args.versions)
    with open_store(args) as store, store.reading() as connection:
        found = where(connection, query)
    if args.json:
        return _print_json(found)
    for item in found:
        release, component = item["release"], item["component"]
        _line(
            release["product"],
            release["version"],
            release["status"],
            f"{component['name']} {component['version'] or '?'}",
            ", ".join(component["locations"][:3]),
        )
    if not found:
        print(f"no release contains {args.purl}", file=sys.stderr)
    return 0


def run_exposed(args: argparse.Namespace) -> int:
    from finalexam.store.queries import exposed

    with open_store(args) as store, store.reading() as connection:
        found = exposed(connection, args.advisory, args.all)
    if args.json:
        return _print_json(found)
    for item in found:
        release = item["release"] or {}
        _line(
            release.get("product"),
            release.get("version"),
            item["state"] + (" (waived)" if item["waived"] else ""),
            item["severity"],
            item["advisory"],
            f"{item['package']} {item['version'] or ''}".strip(),
            "fixed in " + ", ".join(item["fixed"]) if item["fixed"] else "no fix known",
        )
    if not found:
        print(f"no release is exposed to {args.advisory}", file=sys.stderr)
    return 0


def run_changes(args: argparse.Namespace) -> int:
    from finalexam.store.queries import changes

    with open_store(args) as store, store.reading() as connection:
        found = changes(connection, args.run_id)
    if args.json:
        return _print_json(found)
    if found["run"] is None:
        print("no monitor run yet", file=sys.stderr)
        return 0
    run = found["run"]
    print(
        f"run {run['id']} ({run['started_at']}, DB {run['db_updated']}): "
        f"{len(found['opened'])} new, {len(found['closed'])} closed, "
        f"{len(found['verdicts'])} verdict changes"
    )
    for label, key in (("NEW", "opened"), ("CLOSED", "closed")):
        for item in found[key]:
            release = item["release"] or {}
            _line(
                label,
                release.get("product"),
                release.get("version"),
                item["severity"],
                item["advisory"],
                f"{item['package']} {item['version'] or ''}".strip(),
            )
    for item in found["verdicts"]:
        release = item["release"] or {}
        _line(
            "VERDICT",
            release.get("product"),
            release.get("version"),
            f"{item['before']} -> {item['after']}",
            item["reason"],
        )
    return 0


def run_history(args: argparse.Namespace) -> int:
    from finalexam.store.queries import find_release, release_history

    with open_store(args) as store, store.reading() as connection:
        found = release_history(connection, find_release(connection, args.product, args.version))
    if args.json:
        return _print_json(found)
    for item in found:
        run = f"run {item['run']}" if item["run"] is not None else "exam"
        _line(item["at"], run, item["status"], f"{item['violations']} violations", item["reason"])
    return 0


def run_waivers(args: argparse.Namespace) -> int:
    from finalexam.store.queries import find_release, list_waivers

    with open_store(args) as store, store.reading() as connection:
        release_id = find_release(connection, *args.release) if args.release else None
        found = list_waivers(connection, release_id)
    if args.json:
        return _print_json(found)
    for item in found:
        what = ", ".join(
            f"{k}={item[k]}" for k in ("rule_id", "purl", "fingerprint", "path") if item[k]
        )
        scope = (
            f"release {item['release_id']}"
            if item["release_id"]
            else item["product"] or "everywhere"
        )
        _line(
            item["id"] if item["id"] is not None else "-",
            scope,
            what,
            f"expires {item['expires']}" if item["expires"] else "no expiry",
            item["reason"],
            item["origin"],
        )
    return 0


def run_waive(args: argparse.Namespace) -> int:
    from finalexam.store import WaiverInput
    from finalexam.store.queries import find_release

    if args.expires:
        try:
            date.fromisoformat(args.expires)
        except ValueError:
            raise UsageError(f"--expires: not a date (YYYY-MM-DD): {args.expires!r}") from None
    with open_store(args) as store:
        release_id = None
        if args.release:
            with store.reading() as connection:
                release_id = find_release(connection, *args.release)
        waiver_id = store.add_waiver(
            WaiverInput(
                reason=args.reason,
                release_id=release_id,
                product=args.waive_product,
                rule_id=args.rule_id,
                purl=args.purl,
                fingerprint=args.fingerprint,
                path=args.path,
                expires=args.expires,
                approved_by=args.approved_by,
            )
        )
    print(f"waiver {waiver_id} added; `finalexam monitor run` re-decides the verdicts")
    return 0


def run_unwaive(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        store.remove_waiver(args.waiver_id)
    print(f"waiver {args.waiver_id} removed; `finalexam monitor run` re-decides the verdicts")
    return 0


def run_token(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        token = store.add_token(args.name, args.role)
    print(token)
    print(f"{args.role} token {args.name!r}: shown once, keep it safe", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from finalexam.monitor.export import export_sboms

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    with open_store(args) as store, store.reading() as connection:
        written = export_sboms(connection, directory, args.format, args.product)
    for path in written:
        print(path)
    return 0


def run_vex(args: argparse.Namespace) -> int:
    from finalexam.monitor.export import vex_document
    from finalexam.report.base import write_atomically

    with open_store(args) as store, store.reading() as connection:
        document = vex_document(connection, args.format, args.product)
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if args.output:
        write_atomically(args.output, data)
    else:
        sys.stdout.buffer.write(data)
    return 0
