"""SARIF side by side: finalexam and peer scanners on the same input, checked the same way.

Run: PYTHONPATH=src python bench/policy/bench_sarif.py

Builds a small input under bench/.work/policy/sarif-input (a GitHub token in a source file,
the same file inside a nested archive, an old requirements file), runs every available peer
that writes SARIF (gitleaks, trivy-osv) and finalexam on it, and checks each log against the
official SARIF 2.1.0 schema and what GitHub code scanning uses: region.startLine,
partialFingerprints, rules' security-severity, locations inside archives. finalexam is also
measured on a synthetic report holding every finding kind (tests/sample_findings.py), since
which findings a scan yields depends on the engines registered in this build.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import string
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / ".." / "shared" / "data" / "schemas" / "sarif-schema-2.1.0.json"
PEERS = Path("/opt/peers/bin")


def build_input(work: Path) -> Path:
    target = work / "sarif-input"
    if target.exists():
        shutil.rmtree(target)
    (target / "app").mkdir(parents=True)
    rng = random.Random(7)
    token = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    source = f'import os\n\nGITHUB_TOKEN = "{token}"\n'
    (target / "app" / "settings.py").write_text(source)
    (target / "requirements.txt").write_text("requests==2.19.0\njinja2==2.10\n")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("conf/settings.py", source)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as archive:
        archive.writestr("lib/bundle.zip", inner.getvalue())
    (target / "dist.zip").write_bytes(outer.getvalue())
    return target


def check(log: dict[str, Any]) -> dict[str, Any]:
    validator = jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))
    errors = list(validator.iter_errors(log))
    results = [r for run in log.get("runs", []) for r in run.get("results", [])]
    rules = [rule for run in log.get("runs", []) for rule in run["tool"]["driver"].get("rules", [])]

    def first_location(result: dict[str, Any]) -> dict[str, Any]:
        locations = result.get("locations") or [{}]
        return dict(locations[0].get("physicalLocation") or {})

    return {
        "results": len(results),
        "schema errors": len(errors),
        "startLine": sum(
            1 for r in results if first_location(r).get("region", {}).get("startLine")
        ),
        "partialFingerprints": sum(1 for r in results if r.get("partialFingerprints")),
        "rules with security-severity": sum(
            1 for rule in rules if "security-severity" in (rule.get("properties") or {})
        ),
        "rules": len(rules),
        "in-archive locations": sum(
            1
            for r in results
            if "!/" in first_location(r).get("artifactLocation", {}).get("uri", "")
        ),
    }


def run_tool(name: str, command: list[str], output: Path | None) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    text = output.read_text() if output else completed.stdout
    return seconds, json.loads(text)


def main() -> None:
    if not SCHEMA.is_file():
        sys.exit("shared SARIF schema not found")
    work = ROOT / "bench" / ".work" / "policy"
    work.mkdir(parents=True, exist_ok=True)
    target = build_input(work)
    rows: list[tuple[str, float | None, dict[str, Any]]] = []
    if (PEERS / "gitleaks").exists():
        out = work / "gitleaks.sarif"
        command = [
            str(PEERS / "gitleaks"),
            "dir",
            str(target),
            "--report-format",
            "sarif",
            "--report-path",
            str(out),
            "--no-banner",
            "--exit-code",
            "0",
        ]
        seconds, log = run_tool("gitleaks", command, out)
        rows.append(("gitleaks 8.30.1", seconds, check(log)))
    if (PEERS / "trivy-osv").exists():
        command = [
            str(PEERS / "trivy-osv"),
            "rootfs",
            "--scanners",
            "vuln,secret",
            "-f",
            "sarif",
            "-q",
            str(target),
        ]
        seconds, log = run_tool("trivy", command, None)
        rows.append(("trivy 0.59.1 (rootfs)", seconds, check(log)))
    out = work / "finalexam.sarif"
    command = [
        sys.executable,
        "-m",
        "finalexam",
        "scan",
        str(target / "dist.zip"),
        "-o",
        f"sarif={out}",
    ]
    seconds, log = run_tool("finalexam", command, out)
    rows.append(("finalexam scan dist.zip (engines in this build)", seconds, check(log)))

    sys.path.insert(0, str(ROOT / "tests"))
    from finalexam.config import Config
    from finalexam.report import REPORTERS
    from finalexam.report.base import RenderOptions
    from sample_findings import build_report

    waivers = work / "sample-waivers.toml"
    waivers.write_text('[[waivers]]\nrule_id = "secrets.*"\nreason = "bench"\n')
    report = build_report(cfg=Config(waivers=(str(waivers),), timestamp="2026-06-01"))
    start = time.perf_counter()
    data = REPORTERS["sarif"].render(report, RenderOptions())
    rows.append(
        (
            "finalexam, every finding kind (synthetic)",
            time.perf_counter() - start,
            check(json.loads(data)),
        )
    )

    keys = list(rows[0][2])
    print("| log | seconds | " + " | ".join(keys) + " |")
    print("|---|---:|" + "---:|" * len(keys))
    for name, seconds, facts in rows:
        shown = f"{seconds:.2f}" if seconds is not None else "-"
        print(f"| {name} | {shown} | " + " | ".join(str(facts[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
