"""Honest releases, before and after: what the walk examines and which gaps it reports.

The hostile cases show that bad input is handled; this shows that the stricter readers do not
invent gaps on real packages and that they examine at least as much. For every artifact of a
corpus of real releases (a directory tree of .deb, .tgz, .whl, .jar, image tarballs...), both
builds run the walk alone (every cataloger and analyzer disabled) and the table counts files
examined and unpack issues by kind.

    python bench/hostile/honest.py --before "../old/.venv/bin/python -m finalexam" \\
        [--corpus ../shared/corpus] [--per-folder 60] [--out bench/.work/honest.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_NAMES = (
    "from finalexam.analyze import ANALYZERS; from finalexam.catalog import CATALOGERS; "
    "from finalexam.config import Config; "
    "names = {m().name for m in CATALOGERS} | {a(Config()).name for a in ANALYZERS}; "
    "print(','.join(sorted(names)))"
)


def plugin_names(command: list[str]) -> str:
    python = command[0]
    result = subprocess.run([python, "-c", _NAMES], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def walk(command: list[str], plugins: str, artifact: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="honest-") as directory:
        report = Path(directory) / "report.json"
        argv = [*command, "scan", str(artifact), "--files", "--disable", plugins]
        start = time.monotonic()
        subprocess.run(
            [*argv, "-o", f"json={report}"],
            capture_output=True,
            check=False,
            timeout=600,
            env={**os.environ, "FINALEXAM_OFFLINE": "1", "TMPDIR": directory},
        )
        wall = time.monotonic() - start
        document = json.loads(report.read_text()) if report.exists() else {}
    issues = [i for i in document.get("issues", []) if i.get("stage") == "unpack"]
    return {
        "wall": round(wall, 2),
        "files": len(document.get("files", [])),
        "issues": [f"{i.get('kind', '?')}: {i['location']}: {i['message']}" for i in issues],
        "gaps": sum(1 for i in issues if i.get("gap", True)),
    }


def corpus(root: Path, per_folder: int) -> list[Path]:
    suffixes = (".deb", ".tgz", ".tar.gz", ".whl", ".jar", ".tar", ".zip", ".rpm", ".apk")
    chosen: list[Path] = []
    folders: dict[Path, list[Path]] = collections.defaultdict(list)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name.endswith(suffixes):
            folders[path.parent].append(path)
    for items in folders.values():
        chosen.extend(items[:per_folder])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", default=f"{sys.executable} -m finalexam")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--per-folder", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "bench" / ".work" / "honest.json"))
    options = parser.parse_args()
    commands = {"before": shlex.split(options.before), "after": shlex.split(options.after)}
    plugins = {side: plugin_names(command) for side, command in commands.items()}
    rows = []
    for artifact in corpus(Path(options.corpus), options.per_folder):
        row: dict[str, Any] = {"artifact": str(artifact.relative_to(options.corpus))}
        for side, command in commands.items():
            row[side] = walk(command, plugins[side], artifact)
        rows.append(row)
        print(json.dumps(row)[:300], flush=True)
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    summary(rows)


def summary(rows: list[dict[str, Any]]) -> None:
    for side in ("before", "after"):
        files = sum(r[side]["files"] for r in rows)
        gaps = sum(1 for r in rows if r[side]["gaps"])
        wall = sum(r[side]["wall"] for r in rows)
        print(f"{side}: {len(rows)} artifacts, {files} files, {gaps} with gaps, {wall:.0f} s")
    more = [r for r in rows if r["after"]["files"] > r["before"]["files"]]
    fewer = [r for r in rows if r["after"]["files"] < r["before"]["files"]]
    new_gaps = [r for r in rows if r["after"]["gaps"] > r["before"]["gaps"]]
    print(f"more files examined after: {len(more)}; fewer: {len(fewer)}; new gaps: {len(new_gaps)}")
    for row in new_gaps + fewer:
        print(
            row["artifact"],
            row["before"]["files"],
            row["after"]["files"],
            row["after"]["issues"][:3],
        )


if __name__ == "__main__":
    main()
