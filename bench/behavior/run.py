"""Behaviour detection benchmark: recall on real malicious PyPI packages, false positives on
the most popular PyPI and npm packages, side by side with GuardDog on the same files.

Everything is read statically: finalexam walks archives in memory; GuardDog scans the files
as given. No vulnerability database is loaded, so known-malicious lookups cannot mask what
the behaviour rules miss. A package counts as *flagged* by finalexam when its report has a
``behavior`` or ``malicious`` finding of severity high or critical; by GuardDog when any of
its rules reports a match.

    python bench/behavior/run.py [--sets malware,pypi,npm] [--limit N] [--guarddog] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
WORK = ROOT / "bench" / ".work"
OUT = ROOT / "bench" / "out"
MALWARE = ROOT / ".." / "shared" / "data" / "malware" / "pypi"
NPM_MALWARE = ROOT / ".." / "shared" / "data" / "malware" / "npm"
NPM_SPLIT = Path(__file__).resolve().parent / "npm-split.tsv"


def npm_labels() -> dict[str, tuple[str, str]]:
    """file -> (kind, side) of the npm samples: kind from INDEX.tsv (malware, protestware,
    sabotage), side (dev / held-out) from the family split made before the rules."""
    sides = {}
    for line in NPM_SPLIT.read_text().splitlines():
        if line and not line.startswith(("#", "cluster\t")):
            cluster, side, _ = line.split("\t", 2)
            sides[cluster] = side
    labels = {}
    index = (NPM_MALWARE / "INDEX.tsv").read_text().splitlines()
    header = index[0].split("\t")
    for line in index[1:]:
        row = dict(zip(header, line.split("\t"), strict=False))
        labels[row["file"]] = (row["kind"], sides.get(row["cluster"], "dev"))
    return labels


GUARDDOG = Path(os.environ.get("GUARDDOG", "/opt/peers/bin/guarddog"))


def samples(name: str, limit: int | None) -> list[tuple[str, list[Path]]]:
    """(package, artifacts) pairs; a package is flagged when any of its artifacts is."""
    if name in ("malware", "npm-malware"):
        folder = MALWARE if name == "malware" else NPM_MALWARE
        files = sorted(p for p in folder.iterdir() if p.name != "INDEX.tsv" and p.is_file())
        pairs = [(p.name, [p]) for p in files]
    else:
        base = WORK / name
        pairs = []
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            files = sorted(p for p in folder.rglob("*") if p.is_file())
            if files:
                pairs.append((folder.name, files))
    return pairs[:limit] if limit else pairs


# --behaviour-only: the analyzers that cannot raise behaviour findings are skipped (faster on
# big benign packages); yara, which can, is skipped too, so its findings are not counted.
BEHAVIOUR_ONLY = ("secrets", "vulnerabilities", "binary", "yara")


def scan_finalexam(path: Path, disable: tuple[str, ...] = ()) -> dict[str, Any]:
    from finalexam.config import Config
    from finalexam.exam import run_exam

    start = time.perf_counter()
    try:
        report = run_exam(path, Config(disable=disable))
    except Exception as error:  # a benchmark records failures, it does not stop
        return {"error": f"{type(error).__name__}: {error}", "seconds": 0.0}
    high = sorted(
        {
            f.rule_id
            for f in report.findings
            if f.kind.value in ("behavior", "malicious") and f.severity.rank >= 3
        }
    )
    fired = sorted({f.rule_id for f in report.findings if f.severity.rank >= 1})
    return {
        "flagged": bool(high),
        "high_rules": high,
        "rules": fired,
        "issues": len(report.issues),
        "seconds": time.perf_counter() - start,
    }


def scan_guarddog(path: Path, ecosystem: str) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        run = subprocess.run(
            [str(GUARDDOG), ecosystem, "scan", str(path), "--output-format", "json"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        document = json.loads(run.stdout or "{}")
    except (subprocess.TimeoutExpired, ValueError) as error:
        return {"error": type(error).__name__, "seconds": time.perf_counter() - start}
    if not isinstance(document, dict):
        document = {}
    results = document.get("results", {}) or {}
    threats = sorted(k for k, v in results.items() if v and not k.startswith("capability-"))
    risks = document.get("risks", []) or []
    high = sorted(
        {
            str(r.get("threat_rule"))
            for r in risks
            if isinstance(r, dict) and r.get("severity") in ("high", "critical")
        }
    )
    errors = document.get("errors", {}) or {}
    out: dict[str, Any] = {
        "flagged": bool(high),
        "any_threat": bool(threats),
        "rules": threats,
        "high_rules": high,
        "label": (document.get("risk_score") or {}).get("label"),
        "seconds": time.perf_counter() - start,
    }
    if errors or (run.returncode not in (0, 1) and not results):
        out["error"] = str(errors or run.stderr.strip()[-200:] or run.returncode)[:200]
    return out


def _one(job: tuple[str, str, list[Path], bool, bool, tuple[str, ...]]) -> dict[str, Any]:
    set_name, package, files, with_finalexam, with_guarddog, disable = job
    ecosystem = "npm" if set_name in ("npm", "npm-malware") else "pypi"
    row: dict[str, Any] = {"set": set_name, "package": package, "files": [p.name for p in files]}
    if with_finalexam:
        ours = [scan_finalexam(p, disable) for p in files]
        row["finalexam"] = {
            "flagged": any(r.get("flagged") for r in ours),
            "high_rules": sorted({x for r in ours for x in r.get("high_rules", [])}),
            "rules": sorted({x for r in ours for x in r.get("rules", [])}),
            "errors": [r["error"] for r in ours if "error" in r],
            "seconds": sum(r["seconds"] for r in ours),
        }
    if with_guarddog:
        theirs = [scan_guarddog(p, ecosystem) for p in files]
        row["guarddog"] = {
            "flagged": any(r.get("flagged") for r in theirs),
            "any_threat": any(r.get("any_threat") for r in theirs),
            "rules": sorted({x for r in theirs for x in r.get("rules", [])}),
            "high_rules": sorted({x for r in theirs for x in r.get("high_rules", [])}),
            "errors": [r["error"] for r in theirs if "error" in r],
            "seconds": sum(r["seconds"] for r in theirs),
        }
    return row


def summarize(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| set | packages | tool | flagged | rate | errors | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for set_name in ("malware", "npm-malware", "pypi", "npm"):
        subset = [r for r in rows if r["set"] == set_name and "finalexam" in r]
        both = [r for r in subset if "guarddog" in r]
        views: list[tuple[str, list[dict[str, Any]], str, str]] = []
        if subset:
            views.append(("finalexam (all)", subset, "finalexam", "flagged"))
        if both:
            views += [
                ("finalexam (same subset)", both, "finalexam", "flagged"),
                ("GuardDog 3.2 (high/critical risk)", both, "guarddog", "flagged"),
                ("GuardDog 3.2 (any threat rule)", both, "guarddog", "any_threat"),
            ]
        for label, group, tool, key in views:
            have = [r[tool] for r in group]
            flagged = sum(1 for r in have if r[key])
            errors = sum(1 for r in have if r["errors"])
            seconds = sum(r["seconds"] for r in have)
            lines.append(
                f"| {set_name} | {len(have)} | {label} | {flagged} | {flagged / len(have):.1%} "
                f"| {errors} | {seconds:.0f} |"
            )
    lines += npm_kinds(rows)
    benign = [r for r in rows if r["set"] in ("pypi", "npm") and "finalexam" in r]
    if benign:
        lines += ["", "| rule | benign packages where it fired (any severity) | as high/critical |"]
        lines.append("|---|---|---|")
        fired = Counter(x for r in benign for x in r["finalexam"]["rules"])
        high = Counter(x for r in benign for x in r["finalexam"]["high_rules"])
        for rule, count in sorted(fired.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(
                f"| {rule} | {count} ({count / len(benign):.1%}) | "
                f"{high[rule]} ({high[rule] / len(benign):.1%}) |"
            )
    return "\n".join(lines)


def npm_kinds(rows: list[dict[str, Any]]) -> list[str]:
    """Recall on the npm samples by kind and by side of the family split."""
    npm = [r for r in rows if r["set"] == "npm-malware" and "finalexam" in r]
    if not npm:
        return []
    labels = npm_labels()
    lines = [
        "",
        "| npm samples | side | samples | finalexam flagged | GuardDog high/critical "
        "| GuardDog any threat |",
        "|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in npm:
        kind, side = labels.get(row["package"], ("?", "?"))
        groups.setdefault((kind, side), []).append(row)
        groups.setdefault(("all", side), []).append(row)
    for (kind, side), group in sorted(groups.items()):
        ours = sum(1 for r in group if r["finalexam"]["flagged"])
        theirs = [r["guarddog"] for r in group if "guarddog" in r]
        high = sum(1 for g in theirs if g["flagged"]) if theirs else "-"
        anything = sum(1 for g in theirs if g["any_threat"]) if theirs else "-"
        lines.append(f"| {kind} | {side} | {len(group)} | {ours} | {high} | {anything} |")
    return lines


def merge(paths: list[Path]) -> list[dict[str, Any]]:
    """Rows of several runs by (set, package): later finalexam results win; GuardDog results
    are kept from whichever run has them."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for path in paths:
        for row in json.loads(path.read_text()):
            key = (row["set"], row["package"])
            current = merged.setdefault(key, {})
            guarddog = current.get("guarddog")
            current.update(row)
            if guarddog is not None and "guarddog" not in row:
                current["guarddog"] = guarddog
    return [merged[key] for key in sorted(merged)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="malware,pypi,npm")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--guarddog", action="store_true")
    parser.add_argument("--guarddog-only", action="store_true", help="skip finalexam")
    parser.add_argument(
        "--guarddog-limit", type=int, help="run GuardDog on the first N packages of each set"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--behaviour-only",
        action="store_true",
        help="skip the secrets, vulnerabilities, binary and yara analyzers",
    )
    parser.add_argument("--out", type=Path, default=OUT / "behavior.json")
    parser.add_argument("--summary", type=Path, nargs="+", help="only summarize result files")
    args = parser.parse_args()
    if args.summary:
        print(summarize(merge(args.summary)))
        return
    numbered = [
        (n, set_name, package, files)
        for set_name in args.sets.split(",")
        for n, (package, files) in enumerate(samples(set_name, args.limit))
    ]
    # sets interleaved, so partial results of a stopped run cover every set
    jobs = [
        (
            set_name,
            package,
            files,
            not args.guarddog_only,
            (args.guarddog or args.guarddog_only)
            and (not args.guarddog_limit or n < args.guarddog_limit),
            BEHAVIOUR_ONLY if args.behaviour_only else (),
        )
        for n, set_name, package, files in sorted(numbered, key=lambda j: (j[0], j[1]))
    ]
    rows: list[dict[str, Any]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for index, row in enumerate(pool.map(_one, jobs, chunksize=1), 1):
            rows.append(row)
            if index % 10 == 0 or index == len(jobs):  # partial results survive a stop
                args.out.write_text(json.dumps(rows, indent=1, sort_keys=True))
                print(f"{index}/{len(jobs)}", file=sys.stderr, flush=True)
    print(summarize(rows))


if __name__ == "__main__":
    main()
