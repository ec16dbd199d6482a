"""``finalexam db update|status``: build and inspect the offline vulnerability database."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from finalexam.cli.common import config_from_args
from finalexam.vuln.sources import default_sources
from finalexam.vuln.store import DatabaseStatus, VulnDatabase, resolve_db_path
from finalexam.vuln.update import summarize, update_database


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "db",
        help="build or inspect the offline vulnerability database (OSV)",
        description="Manage the offline OSV vulnerability database used by `scan`.",
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True
    update = actions.add_parser(
        "update",
        help="import OSV exports (default: every supported ecosystem from OSV's public export)",
        description="Import OSV records into the database. A source is an OSV all.zip "
        "(file or http(s) URL), a directory of OSV JSON records and/or zips, or one JSON "
        "record. The database is replaced only when the whole update succeeded.",
    )
    update.add_argument(
        "--source",
        action="append",
        default=None,
        metavar="PATH_OR_URL",
        dest="sources",
        help="OSV export to import, repeatable (default: OSV's public bucket)",
    )
    _add_db_flags(update)
    update.add_argument(
        "--db-mirror",
        dest="db_mirror",
        metavar="URL",
        help="base URL of an OSV export mirror laid out like OSV's bucket "
        "(<URL>/<ecosystem>/all.zip), used without --source (env FINALEXAM_DB_MIRROR)",
    )
    update.set_defaults(run=run_update)
    status = actions.add_parser("status", help="show sources, record counts and age")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    _add_db_flags(status)
    status.add_argument(
        "--db-max-age-days",
        dest="db_max_age_days",
        type=int,
        metavar="DAYS",
        help="call the database stale past this age (env FINALEXAM_DB_MAX_AGE_DAYS)",
    )
    status.set_defaults(run=run_status)


def _add_db_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file (env FINALEXAM_CONFIG)")
    parser.add_argument(
        "--db",
        dest="db",
        metavar="FILE",
        help="vulnerability database file (env FINALEXAM_DB; default: osv.sqlite3 in the "
        "user cache directory)",
    )


def run_update(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    path = resolve_db_path(config.db)

    def progress(message: str) -> None:
        print(f"finalexam: {message}", file=sys.stderr)

    result = update_database(path, args.sources or default_sources(config.db_mirror), progress)
    for line in summarize(result):
        print(line)
    print(f"{result.path}: {result.records} records")
    return 0


def _status_dict(status: DatabaseStatus, max_age: int) -> dict[str, Any]:
    age = status.age_days()
    return {
        "path": status.path,
        "schema": status.schema,
        "updated": status.updated,
        "age_days": round(age, 2) if age is not None else None,
        "stale": age is not None and age > max_age,
        "records": status.records,
        "malicious": status.malicious,
        "by_ecosystem": dict(status.by_ecosystem),
        "sources": [
            {
                "source": s.source,
                "updated": s.updated,
                "records": s.records,
                "withdrawn": s.withdrawn,
                "invalid": s.invalid,
            }
            for s in status.sources
        ],
    }


def run_status(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with VulnDatabase(resolve_db_path(config.db)) as database:
        info = _status_dict(database.status(), config.db_max_age_days)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    print(f"database  {info['path']}")
    age = info["age_days"]
    shown_age = f"{age:.1f} days" if age is not None else "unknown"
    print(f"updated   {info['updated']} ({shown_age} ago{', STALE' if info['stale'] else ''})")
    print(f"records   {info['records']} ({info['malicious']} malicious-package records)")
    print("ecosystems")
    for ecosystem, count in info["by_ecosystem"].items():
        print(f"  {ecosystem:<14} {count:>7}")
    print("sources")
    for source in info["sources"]:
        extra = f", {source['invalid']} invalid" if source["invalid"] else ""
        print(
            f"  {source['source']}: {source['records']} records, "
            f"{source['withdrawn']} withdrawn{extra} (updated {source['updated']})"
        )
    return 0
