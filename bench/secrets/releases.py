"""Secrets in popular honest releases: does the secret scan make the default exam fail?

    python bench/secrets/releases.py run --corpus DIR [--src SRC] --out FILE.jsonl
                                         [--sets pypi,npm,debian-fresh4,...] [--keys FILE]
    python bench/secrets/releases.py compare BEFORE.jsonl AFTER.jsonl

``run`` examines every artifact under ``DIR/pypi/`` and ``DIR/npm/`` (the honest corpus
that ``bench/verdict/fetch.py`` downloads; ``--sets`` names other folders of it, such as the
blind ``pypi-fresh4`` or ``debian``, or ``../shared/data/malware`` sets given as paths;
``--keys`` keeps only the artifacts whose ``set/file`` key a file lists, one a line, as
``bench/verdict/run.py`` names them) with the default policy and only the secret scan
(``only = ["secrets"]``): the exam then fails exactly when a secret finding blocks, so a
failure here is a failure of the default exam caused by secrets. ``--src`` picks the
finalexam sources to import (an earlier commit's ``src``, e.g. from ``git worktree add``), so
two versions run on the same files. One process examines every artifact (start-up once).

``compare`` prints the before/after table: outcomes, artifacts that newly fail, and the
findings by confidence and context (every finding is something a user reads).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


def artifacts(corpus: Path, sets: list[str], keys: set[str] | None) -> list[tuple[str, Path]]:
    """(key, path) of every artifact of the sets; the key is ``set/file`` as the verdict
    benchmark names it."""
    out = []
    for name in sets:
        folder = corpus / name
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".log"):
            key = f"{folder.name}/{path.name}"
            if keys is None or key in keys:
                out.append((key, path))
    return out


def examine(path: Path) -> dict[str, Any]:
    from finalexam import scan
    from finalexam.config import Config

    report = scan(path, Config(only=("secrets",)))
    by_fingerprint = {f.fingerprint: f for f in report.findings}
    blocking = []
    for violation in report.verdict.violations:
        finding = by_fingerprint.get(violation.fingerprint or "")
        if finding is None or finding.kind.value != "secret":
            continue
        details = finding.evidence.details if finding.evidence else {}
        blocking.append(
            {
                "rule": finding.rule_id,
                "where": str(finding.location),
                "line": finding.evidence.line if finding.evidence else None,
                "confidence": finding.confidence.value,
                "context": getattr(getattr(finding, "context", None), "value", None),
                "name": details.get("name"),
                "score": details.get("score"),
            }
        )
    found = Counter()
    for finding in report.findings:
        if finding.kind.value == "secret":
            generic = "generic" if finding.rule_id.startswith("generic-") else "provider"
            context = getattr(getattr(finding, "context", None), "value", None) or "shipped"
            found[f"{generic}/{finding.confidence.value}/{context}"] += 1
    return {
        "status": "failed" if not report.verdict.passed else "passed",
        "complete": bool(getattr(report, "complete", True)),
        "blocking": blocking,
        "findings": dict(found),
    }


def run(args: argparse.Namespace) -> int:
    if args.src:
        sys.path.insert(0, str(args.src.resolve()))
    import finalexam

    print(f"finalexam from {Path(finalexam.__file__).parent}", file=sys.stderr)
    done = set()
    if args.out.exists():
        done = {json.loads(line)["key"] for line in args.out.read_text().splitlines() if line}
    keys = set(args.keys.read_text().split()) if args.keys else None
    with args.out.open("a") as out:
        for key, path in artifacts(args.corpus, args.sets.split(","), keys):
            if key in done:
                continue
            start = time.process_time()
            try:
                row = {"key": key, **examine(path)}
            except Exception as error:  # a bench row, not a crash of the whole run
                row = {"key": key, "status": "error", "error": repr(error)[:300]}
            row["cpu"] = round(time.process_time() - start, 2)
            out.write(json.dumps(row) + "\n")
            out.flush()
    return 0


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in map(json.loads, path.read_text().splitlines()) if r}


def compare(args: argparse.Namespace) -> int:
    before, after = _rows(args.before), _rows(args.after)
    keys = sorted(before.keys() & after.keys())
    print(f"{len(keys)} artifacts in both runs\n")
    print("| | passed | failed because of secrets | error | findings (all) | medium+ shipped |")
    print("|---|---|---|---|---|---|")
    for name, rows in (("before", before), ("after", after)):
        status = Counter(rows[k]["status"] for k in keys)
        findings: Counter[str] = Counter()
        for k in keys:
            findings.update(rows[k].get("findings", {}))
        total = sum(findings.values())
        blocking = sum(len(rows[k].get("blocking", [])) for k in keys)
        print(
            f"| {name} | {status['passed']} | {status['failed']} | {status['error']} "
            f"| {total} | {blocking} |"
        )
    newly = [k for k in keys if before[k]["status"] != "failed" and after[k]["status"] == "failed"]
    fixed = [k for k in keys if before[k]["status"] == "failed" and after[k]["status"] != "failed"]
    print(f"\nnewly failing: {len(newly)}; no longer failing: {len(fixed)}")
    for k in newly:
        for b in after[k]["blocking"]:
            print(f"  NEW {k}: {b}")
    for k in fixed:
        print(f"  fixed {k}")
    for name, rows in (("before", before), ("after", after)):
        findings = Counter()
        for k in keys:
            findings.update(rows[k].get("findings", {}))
        print(f"\n{name}: findings by rule family/confidence/context")
        for label, count in sorted(findings.items()):
            print(f"  {label:40s} {count}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run")
    one.add_argument("--corpus", type=Path, required=True)
    one.add_argument("--src", type=Path)
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--sets", default="pypi,npm", help="folders of the corpus (or paths)")
    one.add_argument("--keys", type=Path, help="a file of set/file keys to examine only")
    both = sub.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args()
    return run(args) if args.command == "run" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
