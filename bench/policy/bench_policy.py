"""Policy and reporter cost on synthetic reports of growing size.

Run: PYTHONPATH=src python bench/policy/bench_policy.py [--sizes 1000,10000,50000]

Findings of every kind over a nested inventory, a license policy over the components, and
waivers of both shapes (fingerprint-only, and rule/path globs). Times are the best of three
runs in this process; ratios are against rendering the JSON document, measured side by side.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from finalexam.config import Config
from finalexam.model import (
    Artifact,
    Component,
    Evidence,
    FileRecord,
    FileType,
    Finding,
    FindingKind,
    Location,
    Report,
    Severity,
)
from finalexam.policy import decide
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions

KINDS = list(FindingKind)
SEVERITIES = list(Severity)


def workload(
    size: int, work: Path
) -> tuple[list[Finding], list[Component], Config, list[FileRecord]]:
    root = "app-1.0.whl"
    files = []
    for i in range(size):
        chain = (
            (root, f"lib/pkg{i % 50}.jar", f"com/x/C{i}.class") if i % 3 else (root, f"app/m{i}.py")
        )
        files.append(FileRecord(Location(chain), 100 + i, f"{i:064x}", f"{i:040x}", FileType.TEXT))
    components = [
        Component(
            f"pkg{i}",
            "1.0",
            "PyPI" if i % 2 else "npm",
            purl=f"pkg:{'pypi' if i % 2 else 'npm'}/pkg{i}@1.0",
            licenses=(("MIT", "Apache-2.0", "GPL-3.0-only", "MIT OR GPL-2.0-only")[i % 4],),
            locations=(files[i % len(files)].location,),
        )
        for i in range(max(1, size // 10))
    ]
    findings = [
        Finding(
            KINDS[i % len(KINDS)],
            f"rule.{i % 40}",
            SEVERITIES[i % 5],
            f"title {i}",
            f"message {i}",
            files[i].location,
            "bench",
            evidence=Evidence(line=i % 300 + 1),
            component=components[i % len(components)].purl,
            fixed=("2.0",) if i % 2 else (),
        )
        for i in range(size)
    ]
    waivers = work / f"waivers-{size}.toml"
    lines = []
    for finding in findings[: size // 10]:
        lines += ["[[waivers]]", f'fingerprint = "{finding.fingerprint}"', 'reason = "bench"', ""]
    for i in range(20):
        lines += [
            "[[waivers]]",
            f'rule_id = "rule.{i}"',
            'path = "*.jar!/com/x/C1*"',
            'reason = "bench"',
            "",
        ]
    waivers.write_text("\n".join(lines))
    policy = work / "policy.toml"
    policy.write_text('[license]\ndeny = ["GPL-3.0-only"]\nunknown = "warn"\n')
    cfg = Config(policy=str(policy), waivers=(str(waivers),), timestamp="2026-06-01")
    return findings, components, cfg, files


def best(action: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    times = []
    value = None
    for _ in range(repeat):
        start = time.perf_counter()
        value = action()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args()
    work = Path(__file__).resolve().parents[1] / ".work" / "policy"
    work.mkdir(parents=True, exist_ok=True)
    formats = ["json", "sarif", "html", "markdown", "junit", "table"]
    print(
        "| findings | decide (s) | "
        + " | ".join(f"{f} (s)" for f in formats)
        + " | "
        + " | ".join(f"{f}/json" for f in formats[1:])
        + " |"
    )
    print("|---:|---:|" + "---:|" * (2 * len(formats) - 1))
    for size in [int(s) for s in args.sizes.split(",")]:
        findings, components, cfg, files = workload(size, work)
        decide_time, decision = best(partial(decide, findings, (), components, cfg))
        verdict, kept, suppressed = decision
        report = Report(
            artifact=Artifact("app-1.0.whl", "app-1.0.whl", "0" * 64, 1, "wheel"),
            tool_version="bench",
            files=tuple(files),
            components=tuple(components),
            findings=tuple(kept),
            suppressed=tuple(suppressed),
            verdict=verdict,
        )
        options = RenderOptions(timestamp="2026-06-01T00:00:00Z", width=120)
        times = {f: best(partial(REPORTERS[f].render, report, options))[0] for f in formats}
        ratios = [times[f] / times["json"] for f in formats[1:]]
        print(
            f"| {size:,} | {decide_time:.3f} | "
            + " | ".join(f"{times[f]:.3f}" for f in formats)
            + " | "
            + " | ".join(f"{r:.1f}" for r in ratios)
            + " |"
        )


if __name__ == "__main__":
    main()
