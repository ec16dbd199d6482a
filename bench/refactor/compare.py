"""Byte-for-byte comparison of the reports of two revisions: a refactoring changes no report.

Runs the default exam (every plug-in, the default policy, ``--jobs 1``, a fixed
``--timestamp``, one vulnerability database built from the shared OSV exports) of two
revisions side by side on one corpus, and compares their JSON, SARIF and CycloneDX reports
and exit codes byte for byte.

    python bench/refactor/compare.py BASE_REV [HEAD_REV]      # HEAD_REV default HEAD;
                                                               # WORKTREE: uncommitted files
        [--honest DIR] [--malware DIR] [--secrets-tree DIR] [--osv DIR] [--sets a,b,...]

Each revision's ``src/`` is exported with ``git archive`` into a scratch directory and run in
its own warm process (``PYTHONPATH``) through the command line's entry point, both revisions at
the same time. The corpus (paths from arguments; defaults relative to the repository root):

- ``malware-pypi``: 60 of the shared PyPI malware samples (the 60 first by sha256 of the name),
- ``malware-npm``: the 21 npm samples,
- ``binaries``: 10 malicious executables, decompressed into a scratch directory,
- ``honest-*``: a fixed sample of the verdict benchmark's downloaded honest releases
  (``bench/.work/verdict``: PyPI, npm, Debian packages, jars, one image),
- ``secrets``: the secrets benchmark's labelled tree (``bench/.work/secrets/tree``), if present.

Nothing examined is executed; the malware is read in place (binaries decompressed outside
the repository). The only fields left out of the comparison are the ones that are meant to
change with a release of the tool (``IGNORED`` below); everything else must be identical.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"
TIMESTAMP = "2026-01-01T00:00:00Z"
FORMATS = {"json": "json", "sarif": "sarif", "cdx.json": "cyclonedx-json"}
# (format, dotted path; "*" walks a list): fields that name the tool's or a plug-in's own
# version, which a release changes on purpose.
IGNORED: tuple[tuple[str, str], ...] = (
    ("json", "tool.version"),
    ("json", "plugins.*.version"),
    ("sarif", "runs.*.tool.driver.version"),
    ("sarif", "runs.*.tool.driver.semanticVersion"),
    ("cdx.json", "metadata.tools.components.*.version"),
)
SETS = (
    "malware-pypi",
    "malware-npm",
    "binaries",
    "honest-pypi",
    "honest-npm",
    "honest-debian",
    "honest-jars",
    "honest-images",
    "secrets",
)
HONEST_SAMPLE = {"pypi": 12, "npm": 12, "debian": 8, "jars": 4, "images": 1}

RUNNER = r"""
import contextlib, io, json, sys, time
import finalexam
from finalexam.cli import main
jobs = json.load(open(sys.argv[1]))
out = {"finalexam": finalexam.__file__, "results": {}}
for job in jobs:
    started = time.process_time()
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(job["argv"])
    out["results"][job["key"]] = {
        "exit": code, "stderr": err.getvalue(), "cpu": time.process_time() - started,
    }
json.dump(out, open(sys.argv[2], "w"), indent=1, sort_keys=True)
"""


def stable_sample(paths: list[Path], count: int) -> list[Path]:
    """The first ``count`` paths ordered by the sha256 of their name: fixed, yet spread."""
    keyed = sorted(paths, key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    return sorted(keyed[:count])


def corpus(args: argparse.Namespace, scratch: Path) -> dict[str, Path]:
    """Target key (set/name) -> path."""
    wanted = set(args.sets.split(",")) if args.sets else set(SETS)
    targets: dict[str, Path] = {}

    def add(name: str, paths: list[Path]) -> None:
        if name in wanted:
            targets.update({f"{name}/{p.name}": p for p in paths})

    malware = Path(args.malware)
    samples = lambda d: [p for p in (malware / d).iterdir() if p.name != "INDEX.tsv"]  # noqa: E731
    if (malware / "pypi").is_dir():
        add("malware-pypi", stable_sample(samples("pypi"), 60))
    if (malware / "npm").is_dir():
        add("malware-npm", sorted(samples("npm")))
    if (malware / "binaries").is_dir() and "binaries" in wanted:
        folder = scratch / "binaries"
        folder.mkdir()
        for packed in stable_sample(samples("binaries"), 10):
            target = folder / packed.name.removesuffix(".xz")
            target.write_bytes(lzma.decompress(packed.read_bytes()))
        add("binaries", sorted(folder.iterdir()))
    honest = Path(args.honest)
    for name, count in HONEST_SAMPLE.items():
        base = honest / name
        if base.is_dir():
            files = [p for p in base.rglob("*") if p.is_file()]
            add(f"honest-{name}", stable_sample(files, count))
    tree = Path(args.secrets_tree)
    if tree.is_dir():
        add("secrets", [tree])
    return targets


def export(rev: str, into: Path) -> Path:
    """The revision's src/ in a directory of its own (WORKTREE: the files as they are now)."""
    into.mkdir(parents=True)
    if rev == "WORKTREE":
        shutil.copytree(ROOT / "src", into / "src", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def resolve(rev: str) -> str:
    if rev == "WORKTREE":
        return rev
    return subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def drop(document: Any, path: list[str]) -> None:
    if not path or document is None:
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in document if isinstance(document, list) else []:
            drop(item, rest)
    elif isinstance(document, dict) and head in document:
        if rest:
            drop(document[head], rest)
        else:
            del document[head]


def normalised(fmt: str, data: bytes) -> str:
    document = json.loads(data)
    for ignored_fmt, path in IGNORED:
        if ignored_fmt == fmt:
            drop(document, path.split("."))
    return json.dumps(document, indent=1, sort_keys=True)


def compare_file(fmt: str, left: Path, right: Path) -> tuple[str, str]:
    """('identical' | 'versions only' | 'different' | 'missing', first lines of the diff)."""
    if not left.exists() or not right.exists():
        return ("identical" if left.exists() == right.exists() else "missing"), ""
    a, b = left.read_bytes(), right.read_bytes()
    if a == b:
        return "identical", ""
    na, nb = normalised(fmt, a), normalised(fmt, b)
    if na == nb:
        return "versions only", ""
    lines = difflib.unified_diff(na.splitlines(), nb.splitlines(), "base", "head", lineterm="")
    return "different", "\n".join(list(lines)[:40])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument(
        "--honest",
        default=os.environ.get("FINALEXAM_HONEST", str(ROOT / "bench" / ".work" / "verdict")),
    )
    parser.add_argument(
        "--malware", default=os.environ.get("FINALEXAM_MALWARE", str(SHARED / "malware"))
    )
    parser.add_argument(
        "--secrets-tree", default=str(ROOT / "bench" / ".work" / "secrets" / "tree")
    )
    parser.add_argument("--osv", default=os.environ.get("FINALEXAM_OSV", str(SHARED / "osv")))
    parser.add_argument("--sets", help=f"comma separated subset of {','.join(SETS)}")
    parser.add_argument("--work", default=str(ROOT / "bench" / ".work" / "refactor"))
    args = parser.parse_args()

    base, head = resolve(args.base), resolve(args.head)
    work = Path(args.work) / f"{base}..{head}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="finalexam-refactor-"))
    try:
        return run(args, base, head, work, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, base: str, head: str, work: Path, scratch: Path) -> int:
    targets = corpus(args, scratch)
    sources = {"base": export(base, scratch / "base"), "head": export(head, scratch / "head")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINALEXAM_")}
    db = scratch / "osv.sqlite3"  # one database for both: same records, path and date
    subprocess.run(
        [sys.executable, "-m", "finalexam", "db", "update", "--source", args.osv, "--db", str(db)],
        env={**env, "PYTHONPATH": str(sources["base"])},
        check=True,
        capture_output=True,
        cwd=scratch,
    )
    processes = {}
    started = time.monotonic()
    for side, src in sources.items():
        jobs = []
        for key, path in targets.items():
            stem = work / side / key
            stem.parent.mkdir(parents=True, exist_ok=True)
            outputs = [f"{fmt}={stem}.{suffix}" for suffix, fmt in FORMATS.items()]
            argv = ["scan", str(path), "--jobs", "1", "--timestamp", TIMESTAMP, "--db", str(db)]
            argv += ["--offline", *(x for o in outputs for x in ("-o", o))]
            jobs.append({"key": key, "argv": argv})
        (work / f"{side}.jobs.json").write_text(json.dumps(jobs))
        (scratch / "runner.py").write_text(RUNNER)
        processes[side] = subprocess.Popen(
            [
                sys.executable,
                str(scratch / "runner.py"),
                str(work / f"{side}.jobs.json"),
                str(work / f"{side}.results.json"),
            ],
            env={**env, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"},
            cwd=scratch,  # no configuration file above it
        )
    for process in processes.values():
        process.wait()
    elapsed = time.monotonic() - started
    results = {side: json.loads((work / f"{side}.results.json").read_text()) for side in processes}
    for side, src in sources.items():
        if not results[side]["finalexam"].startswith(str(src)):
            raise SystemExit(f"{side} ran {results[side]['finalexam']}, not {src}")

    counts: dict[str, dict[str, int]] = {}
    problems: list[str] = []
    for key in targets:
        group = key.split("/")[0]
        row = counts.setdefault(
            group, {"targets": 0, "identical": 0, "versions only": 0, "different": 0}
        )
        row["targets"] += 1
        worst = "identical"
        left, right = results["base"]["results"][key], results["head"]["results"][key]
        if (left["exit"], left["stderr"]) != (right["exit"], right["stderr"]):
            worst = "different"
            exits = f"exit {left['exit']} -> {right['exit']}"
            problems.append(f"{key}: {exits}; stderr {left['stderr']!r} -> {right['stderr']!r}")
        for suffix in FORMATS:
            verdict, diff = compare_file(
                suffix, work / "base" / f"{key}.{suffix}", work / "head" / f"{key}.{suffix}"
            )
            if verdict in ("different", "missing"):
                worst = "different"
                problems.append(f"{key}.{suffix}: {verdict}\n{diff}")
            elif verdict == "versions only" and worst == "identical":
                worst = "versions only"
        row[worst] += 1

    cpu = {side: sum(r["cpu"] for r in results[side]["results"].values()) for side in results}
    lines = [
        f"### {base} → {head}",
        "",
        f"{len(targets)} targets, JSON + SARIF + CycloneDX and exit codes; wall {elapsed:.0f} s, "
        f"CPU base {cpu['base']:.0f} s, head {cpu['head']:.0f} s "
        f"(ratio {cpu['head'] / max(cpu['base'], 1e-9):.2f})",
        "",
        "| set | targets | byte-identical | identical but for versions | different |",
        "|---|---:|---:|---:|---:|",
    ]
    for group in sorted(counts):
        row = counts[group]
        cells = (row["targets"], row["identical"], row["versions only"], row["different"])
        lines.append(f"| {group} | " + " | ".join(str(c) for c in cells) + " |")
    summary = "\n".join(lines)
    print(summary)
    (work / "summary.md").write_text(summary + "\n")
    if problems:
        (work / "differences.txt").write_text("\n\n".join(problems) + "\n")
        print(f"\n{len(problems)} differences, see {work / 'differences.txt'}", file=sys.stderr)
        for problem in problems[:5]:
            print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
