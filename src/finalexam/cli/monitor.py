"""``finalexam monitor run``: re-check the portfolio against the current DB and alert."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from finalexam.cli.common import add_store_flag, config_from_args, open_store
from finalexam.monitor.text import visible


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "monitor",
        help="re-check stored releases against new advisories, and alert",
        description="Monitor the portfolio of stored exams.",
    )
    actions = parser.add_subparsers(dest="monitor_command", metavar="ACTION")
    actions.required = True
    run = actions.add_parser(
        "run",
        help="re-match every stored component against the current vulnerability DB",
        description="Re-match every stored component (no artifact is unpacked again), record "
        "new and closed exposures, re-decide verdicts under each release's policy and "
        "waivers, and send alerts. Exit codes: 0 done, 2 usage error, 3 the run failed "
        "(the store is unchanged) or an alert could not be delivered (retried next run).",
    )
    run.add_argument("--config", metavar="FILE", help="config file (env FINALEXAM_CONFIG)")
    run.add_argument("--db", metavar="FILE", help="vulnerability database (env FINALEXAM_DB)")
    run.add_argument(
        "--timestamp",
        metavar="DATE",
        help="the day waivers expire against (default: SOURCE_DATE_EPOCH or today)",
    )
    run.add_argument(
        "--alert",
        action="append",
        default=[],
        metavar="KIND=TARGET",
        help="alert channel, repeatable: webhook=URL, slack=URL, teams=URL, "
        "email=smtp://host:port?from=ADDR&to=ADDR, file=PATH(.json|.sarif); "
        "also `alerts = [...]` in the config file",
    )
    run.add_argument("--digest", action="store_true", help="one message per channel per run")
    add_store_flag(run)
    run.set_defaults(run=run_monitor_command)


def run_monitor_command(args: argparse.Namespace) -> int:
    from finalexam.monitor.alerts import deliver, parse_channel
    from finalexam.monitor.recheck import run_monitor
    from finalexam.policy import reference_date
    from finalexam.vuln.store import open_database

    config = config_from_args(args)
    configured = config.raw.get("alerts", [])
    specs = [*(configured if isinstance(configured, list) else []), *args.alert]
    channels = [parse_channel(str(spec)) for spec in specs]
    today = reference_date(config)
    with open_database(config.db) as database, open_store(args) as store:
        result = run_monitor(store, database, today)
        print(
            f"run {result.run_id}: {result.releases} releases, {result.rechecked} re-decided, "
            f"{len(result.opened)} new exposures, {len(result.closed)} closed, "
            f"{len(result.verdict_changes)} verdict changes"
        )
        for opened in result.opened:
            item, release = opened.exposure, opened.release
            print(
                f"  NEW {item.severity} {visible(item.advisory)} "
                f"{visible(item.component_name)} {visible(item.component_version or '')} "
                f"in {visible(release.label)}" + (" (waived)" if item.waived else "")
            )
        for release, row in result.closed:
            print(
                f"  CLOSED {visible(row['advisory'])} {visible(row['component_name'])} "
                f"in {visible(release.label)}"
            )
        for change in result.verdict_changes:
            print(f"  VERDICT {visible(change.release.label)}: {change.before} -> {change.after}")
        failed = False
        for delivery in deliver(store, result.run_id, channels, args.digest):
            if delivery.error:
                failed = True
                print(
                    f"finalexam: error: alert to {delivery.channel.label} failed "
                    f"(retried next run): {visible(delivery.error)}",
                    file=sys.stderr,
                )
            elif delivery.alerts:
                print(f"  alerted {delivery.channel.label}: {delivery.alerts} alerts")
    return 3 if failed else 0
