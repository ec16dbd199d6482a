"""CPU time of the typosquat analyzer's whole-exam step (``finish``) on many components.

An SBOM or an image can list tens of thousands of PyPI and npm components; after the walk the
typosquat analyzer checks every one of their names (and their dependencies' names) against the
popular names. This runs that step alone on real package names (every PyPI and npm package
named by the OSV records in ``../shared/data/osv``: advisories and known-malicious packages,
so typosquats are among them), for two source trees side by side, each in its own process,
one after the other, and checks that both find exactly the same things.

    python bench/behavior/typosquat_speed.py --before REV [--count 10000] [--repeat 3]

``--before`` is a git revision of this repository (its ``src/`` is exported to a temporary
directory); the other tree is this checkout's ``src/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OSV = Path(os.environ.get("FINALEXAM_OSV_DATA", ROOT / ".." / "shared" / "data" / "osv"))
SOURCES = ("PyPI/all.zip", "npm/all.zip", "derived/npm/all.zip", "malicious/npm/all.zip",
           "malicious/PyPI/all.zip")  # fmt: skip

# Runs inside the measured tree's interpreter: builds the components, times finish().
_MEASURE = r"""
import hashlib, json, sys, time
from finalexam.analyze.base import ExamState
try:
    from finalexam.analyze.names.analyzer import TyposquatAnalyzer as make
except ImportError:  # revisions before analyze/names/
    from finalexam.analyze.typosquat import make
from finalexam.config import Config
from finalexam.events import ignore
from finalexam.model import Artifact, Component

names = json.load(sys.stdin)
components = tuple(
    Component(name=name, version="1.0.0", ecosystem=ecosystem) for ecosystem, name in names
)
state = ExamState(Artifact("bench", "bench", "0" * 64, 0, "sbom"), Config(), (), components, ignore)
analyzer = make(Config())
started = time.process_time()
analysis = analyzer.finish(state)
cpu = time.process_time() - started
keys = sorted(f"{f.rule_id} {f.severity} {f.message}" for f in analysis.findings)
digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()
print(json.dumps({"cpu": cpu, "findings": len(keys), "digest": digest}))
"""


def real_names(count: int) -> list[tuple[str, str]]:
    """``count`` distinct (ecosystem, name) pairs from the OSV records, in a fixed order."""
    found: set[tuple[str, str]] = set()
    for source in SOURCES:
        with zipfile.ZipFile(OSV / source) as archive:
            for member in archive.namelist():
                record = json.loads(archive.read(member))
                for affected in record.get("affected", []):
                    package = affected.get("package", {})
                    if package.get("ecosystem") in ("PyPI", "npm") and package.get("name"):
                        found.add((package["ecosystem"], package["name"]))
    ordered = sorted(found)
    random.Random(20261206).shuffle(ordered)
    return ordered[:count]


def measure(src: Path, names: list[tuple[str, str]]) -> dict[str, float | int | str]:
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE],
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "src"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree (best kept)")
    args = parser.parse_args()
    names = real_names(args.count)
    ecosystems = {e: sum(1 for n in names if n[0] == e) for e in ("PyPI", "npm")}
    print(f"{len(names)} names: {ecosystems}")
    with tempfile.TemporaryDirectory() as scratch:
        trees = {"before": export(args.before, Path(scratch)), "after": ROOT / "src"}
        runs: dict[str, list[dict[str, float | int | str]]] = {k: [] for k in trees}
        for _ in range(args.repeat):  # alternated, so both see the same load
            for label, src in trees.items():
                runs[label].append(measure(src, names))
    best = {label: min(results, key=lambda r: float(r["cpu"])) for label, results in runs.items()}
    for label, result in best.items():
        print(f"{label}: {float(result['cpu']):.2f} s CPU, {result['findings']} findings, "
              f"digest {str(result['digest'])[:16]}")  # fmt: skip
    same = best["before"]["digest"] == best["after"]["digest"]
    ratio = float(best["before"]["cpu"]) / max(float(best["after"]["cpu"]), 1e-9)
    print(f"speed-up {ratio:.1f}x; same findings: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
