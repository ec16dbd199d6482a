"""``finalexam policy show|check``: the effective policy, without running an exam."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from finalexam.cli.common import add_option_flags, config_from_args
from finalexam.policy import load_policy, reference_date
from finalexam.policy.engine import license_rules
from finalexam.policy.model import Policy

POLICY_KEYS = {"policy", "waivers", "fail_on", "timestamp"}


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "policy",
        help="show or check the effective policy and waivers",
        description="Resolve the policy exactly as 'scan' would (profile or file, config "
        "file sections, --waivers, --fail-on). Exit codes: 0 ok, 2 invalid policy.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    show = actions.add_parser("show", help="print rules, license policy and waivers")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    check = actions.add_parser("check", help="validate; report every problem, one per line")
    for sub in (show, check):
        add_option_flags(sub, POLICY_KEYS)
        sub.set_defaults(run=run)


def describe(policy: Policy, today: str, expired: set[int]) -> dict[str, Any]:
    rules = [*license_rules(policy), *policy.rules]
    return {
        "name": policy.name,
        "sources": list(policy.sources),
        "reference_date": today,
        "rules": [
            {
                "id": r.id,
                "action": r.action,
                "description": r.describe(),
                "origin": str(r.origin),
            }
            for r in rules
        ],
        "license": {
            "action": policy.license.action,
            "allow": list(policy.license.allow),
            "deny": list(policy.license.deny),
            "unknown": policy.license.unknown or "ignore",
        },
        "waivers": [
            {
                **{
                    key: getattr(spec.waiver, key)
                    for key in ("fingerprint", "rule_id", "purl", "path", "expires", "approved_by")
                    if getattr(spec.waiver, key)
                },
                "reason": spec.waiver.reason,
                "origin": str(spec.origin),
                "status": "expired" if index in expired else "active",
            }
            for index, spec in enumerate(policy.waivers)
        ],
    }


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    policy = load_policy(config)
    today = reference_date(config)
    expired = {i for i, spec in enumerate(policy.waivers) if spec.expired(today)}
    if args.action == "check":
        sys.stdout.write(
            f"ok: policy {policy.name}: {len(policy.rules)} rules, {len(policy.waivers)} "
            f"waivers ({len(expired)} expired as of {today.isoformat()})\n"
        )
        return 0
    data = describe(policy, today.isoformat(), expired)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return 0
    out = [
        f"policy {data['name']}" + (f" ({', '.join(data['sources'])})" if data["sources"] else "")
    ]
    out += [f"  {r['action']:<5} {r['id']}: {r['description']}" for r in data["rules"]]
    license = data["license"]
    if license["allow"] or license["deny"] or license["unknown"] != "ignore":
        out.append(
            f"license ({license['action']}): allow {', '.join(license['allow']) or '-'}; "
            f"deny {', '.join(license['deny']) or '-'}; unknown {license['unknown']}"
        )
    out.append(f"waivers as of {today.isoformat()}: {len(policy.waivers)}")
    for waiver in data["waivers"]:
        matchers = ", ".join(
            f"{k}={waiver[k]}" for k in ("fingerprint", "rule_id", "purl", "path") if k in waiver
        )
        until = f" until {waiver['expires']}" if "expires" in waiver else ""
        out.append(
            f"  [{waiver['status']}] {matchers}{until}: {waiver['reason']} ({waiver['origin']})"
        )
    sys.stdout.write("\n".join(out) + "\n")
    return 0
