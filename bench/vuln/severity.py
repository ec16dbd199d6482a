"""Severity before and after "severity that never hides", side by side on the same inputs.

Run from the repository root: ``PYTHONPATH=src python bench/vuln/severity.py``. The code
before the change is taken from git (``BEFORE``, default the commit before it) with
``git archive`` into a temporary directory; each side builds its own database from the
same OSV exports (the top-level zips of ``../shared/data/osv``, as Trivy's) and scans the
same downloaded artifacts (``bench/.work/dl``, see README.md), the Go binaries and the
10,000-component SBOM ``run.py`` leaves behind, with only the vulnerability analyzer and the
default ``release`` policy.
Results go to ``bench/out/vuln-severity.json``.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SHARED_OSV = Path(os.environ.get("SHARED_OSV", REPO / ".." / "shared" / "data" / "osv"))
DOWNLOADS = REPO / "bench" / ".work" / "dl"
SBOM = REPO / "bench" / "out" / "vuln-throughput.cdx.json"
GO_BINARIES = REPO / "bench" / ".work" / "vuln-roots" / "go" / "usr" / "bin"  # from run.py
OUT = REPO / "bench" / "out"
BEFORE = os.environ.get("BEFORE", "7942c53^")  # the parent of the severity commit on main
OTHER_ANALYZERS = "binary,yara,secrets,behavior,indicators,typosquat"
GROUPS = {
    "10 PyPI wheels": "*.whl",
    "4 npm tarballs (esbuild's is a Go binary)": "*.tgz",
    "4 Debian packages (age: Go binaries; jars)": "*.deb",
}


def checkout(revision: str, target: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "src"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "src"


def python(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        check=False,
    )


def build_db(src: Path, path: Path) -> None:
    zips = [str(p) for p in sorted(SHARED_OSV.glob("*/all.zip"))]
    sources = [arg for z in zips for arg in ("--source", z)]
    done = python(src, "-m", "finalexam", "db", "update", "--db", str(path), *sources)
    if done.returncode != 0:
        raise SystemExit(done.stderr)


def scan(src: Path, db: Path, target: Path, out: Path) -> dict[str, Any]:
    python(
        src, "-m", "finalexam", "scan", str(target), "--db", str(db),
        "--disable", OTHER_ANALYZERS, "-o", f"json={out}",
    )  # fmt: skip
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def summarize(documents: list[dict[str, Any]]) -> dict[str, Any]:
    findings = [f for d in documents for f in d["findings"] if f["kind"] == "vulnerability"]
    severities = Counter(f["severity"] for f in findings)
    unrated = sum(
        1 for f in findings if str(f["evidence"].get("severity_source", "")).startswith("unknown")
    )
    fingerprints = {f["fingerprint"] for f in findings}
    blocking = sum(
        1
        for d in documents
        for v in d["verdict"]["violations"]
        if v.get("fingerprint") in fingerprints
    )
    reach = Counter(str(f["evidence"].get("reachability", {}).get("reachable")) for f in findings)
    return {
        "findings": len(findings),
        "by_severity": dict(sorted(severities.items())),
        "without_any_rating": unrated,
        "blocking": blocking,
        "failed_exams": sum(1 for d in documents if not d["verdict"]["passed"]),
        "exams": len(documents),
        "reachability": dict(sorted(reach.items())),
    }


def main() -> int:
    if not SHARED_OSV.is_dir() or not any(DOWNLOADS.glob("*.whl")):
        print("needs ../shared/data/osv and the downloads of README.md", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"before": BEFORE}
    with tempfile.TemporaryDirectory(prefix="bench-severity-") as tmp:
        scratch = Path(tmp)
        sides = {"before": checkout(BEFORE, scratch / "before"), "after": REPO / "src"}
        dbs = {}
        for side, src in sides.items():
            dbs[side] = scratch / f"{side}.sqlite3"
            build_db(src, dbs[side])
        inputs = {name: sorted(DOWNLOADS.glob(pattern)) for name, pattern in GROUPS.items()}
        if GO_BINARIES.is_dir():
            inputs["3 Go binaries (age, age-keygen, esbuild)"] = sorted(GO_BINARIES.iterdir())
        if SBOM.is_file():
            inputs["10,000 real package names (run.py's SBOM)"] = [SBOM]
        for name, targets in inputs.items():
            row: dict[str, Any] = {}
            for side, src in sides.items():
                documents = [
                    scan(src, dbs[side], target, scratch / f"{side}-{target.name}.json")
                    for target in targets
                ]
                row[side] = summarize(documents)
            results[name] = row
    (OUT / "vuln-severity.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    print(json.dumps(results, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
