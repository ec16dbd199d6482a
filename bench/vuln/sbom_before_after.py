"""The 10,000-component SBOM of ``run.py`` scanned whole-process by two source trees.

``run.py`` times ``finalexam scan`` on that SBOM next to Trivy; this runs the same scan with
an older revision and this checkout, alternated, to measure a change (CPU of the process,
wall time, and that the reports agree).

    python bench/vuln/sbom_before_after.py --before REV [--db FILE] [--repeat 2]

``--db`` is an OSV database built by ``finalexam db update`` (default: built from
``../shared/data/osv`` into ``bench/.work``). Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "behavior"))

import run as vuln  # noqa: E402
from typosquat_speed import export  # noqa: E402


def scan(src: Path, sbom: Path, db: Path, out: Path) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(sbom), "--db", str(db),
         "--timestamp", "2026-12-06T00:00:00Z", "-o", f"json={out}"],
        env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    document = json.loads(out.read_text())
    return {
        "exit": done.returncode,
        "wall": round(wall, 2),
        "cpu": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
        "findings": len(document["findings"]),
        "issues": len(document["issues"]),
        "status": document["verdict"]["status"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--db", type=Path, default=vuln.WORK / "sbom-bench.sqlite3")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "finalexam", "db", "update", "--db", str(args.db),
             "--source", str(vuln.SHARED_OSV)],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True,
        )  # fmt: skip
    components = vuln.sample_components(args.db, 10_000)
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [
            {"type": "library", "bom-ref": f"c{i}", "name": c.name, "version": c.version,
             "purl": purl}
            for i, c in enumerate(components)
            if (purl := vuln._purl(c)) is not None
        ],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        sbom = work / "10k.cdx.json"
        sbom.write_text(json.dumps(bom))
        trees = {"before": export(args.before, work / "before"), "after": ROOT / "src"}
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in trees}
        for _ in range(args.repeat):
            for label, src in trees.items():
                runs[label].append(scan(src, sbom, args.db, work / f"{label}.json"))
                print(label, runs[label][-1], flush=True)
    best = {label: min(results, key=lambda r: r["cpu"]) for label, results in runs.items()}
    ratio = best["before"]["cpu"] / max(best["after"]["cpu"], 1e-9)
    print(f"CPU {best['before']['cpu']} s -> {best['after']['cpu']} s ({ratio:.1f}x less)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
