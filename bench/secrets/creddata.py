"""Generic secrets on the labelled CredData subset: finalexam beside gitleaks, detect-secrets
and CredSweeper, scored by the shared scorer on the dev and the HELD-OUT repositories.

    PYTHONPATH=src python bench/secrets/creddata.py [--corpus DIR] [--tools finalexam,gitleaks]

The split (``creddata-split.tsv``, by repository, fixed before any tuning: the first 11 of the
33 repositories in sha256 order of "finalexam-creddata-split:<owner/name>") is the one
``train.py`` trains on; only dev figures were looked at while building the filter. Every
tool scans the corpus's whole ``data/`` tree once (the same bytes for all: that run is the
throughput figure); its findings are then scored per split with ``score-secrets.py``
(labelled precision counts T lines against labelled F/X lines; strict precision counts
unlabelled lines too). finalexam reports each generic value once with every line it is on;
each line counts as found.

``--model FILE`` scores finalexam with another generic-filter model (``train.py
--save-models``): a copy of ``src`` holding that model runs; ``--out`` keeps its figures apart.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FINALEXAM_SHARED", ROOT / ".." / "shared"))
CORPUS = SHARED / "data" / "secrets" / "creddata-dev"
SCORER = SHARED / "data" / "secrets" / "score-secrets.py"
PEERS = Path(os.environ.get("PEERS_BIN", "/opt/peers/bin"))
SPLIT = Path(__file__).resolve().parent / "creddata-split.tsv"
OUT = ROOT / "bench" / ".work" / "secrets" / "creddata"
SRC = ROOT / "src"
MODEL = Path("finalexam") / "rules" / "secrets" / "model" / "generic-filter.json"


def split() -> dict[str, str]:
    with SPLIT.open() as handle:
        return {row["repo_id"]: row["split"] for row in csv.DictReader(handle, delimiter="\t")}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], **kwargs: object) -> tuple[float, float]:
    """Wall and CPU seconds of a command run to completion."""
    cpu, wall = _children_cpu(), time.perf_counter()
    subprocess.run(command, check=False, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - wall, _children_cpu() - cpu


def run_finalexam(
    corpus: Path, out: Path, stem: str = "finalexam", **settings: str
) -> tuple[float, float, Path]:
    report = out / f"{stem}.json"
    env = {**os.environ, "PYTHONPATH": str(SRC), "FINALEXAM_CONFIG": os.devnull}
    env.update(settings)
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    command = [sys.executable, "-m", "finalexam", "scan", str(corpus / "data"), "--only", "secrets"]
    subprocess.run([*command, "-o", f"json={out / 'warm.json'}"], env=env, capture_output=True)
    wall, cpu = timed([*command, "-o", f"json={report}"], env=env)
    findings = out / f"{stem}.jsonl"
    with findings.open("w") as handle:
        for finding in json.loads(report.read_text())["findings"]:
            if finding["kind"] != "secret":
                continue
            path = "data/" + finding["location"].split("!/", 1)[-1]
            evidence = finding["evidence"]
            details = evidence.get("details", evidence)
            for line in details.get("lines") or [evidence.get("line")]:
                row = {
                    "path": path,
                    "line": line,
                    "rule": finding["rule_id"],
                    "confidence": finding.get("confidence"),
                    "secret_sha256": details.get("secret_sha256"),
                }
                handle.write(json.dumps(row) + "\n")
    return wall, cpu, findings


def run_finalexam_candidates(corpus: Path, out: Path) -> tuple[float, float, Path]:
    """The same with the low-scored generic candidates reported too (never blocking)."""
    return run_finalexam(corpus, out, "finalexam-candidates", FINALEXAM_SECRETS_CANDIDATES="true")


def run_gitleaks(corpus: Path, out: Path) -> tuple[float, float, Path]:
    report = out / "gitleaks.json"
    command = [str(PEERS / "gitleaks"), "dir", "data", "--report-format", "json",
               "--report-path", str(report), "--no-banner", "--exit-code", "0"]  # fmt: skip
    wall, cpu = timed(command, cwd=corpus)
    return wall, cpu, report


def run_detect_secrets(corpus: Path, out: Path) -> tuple[float, float, Path]:
    report = out / "detect-secrets.json"
    cpu, start = _children_cpu(), time.perf_counter()
    with report.open("w") as handle:
        subprocess.run([str(PEERS / "detect-secrets"), "scan", "--all-files", "data"],
                       cwd=corpus, stdout=handle, stderr=subprocess.DEVNULL,
                       check=False)  # fmt: skip
    return time.perf_counter() - start, _children_cpu() - cpu, report


def run_credsweeper(corpus: Path, out: Path) -> tuple[float, float, Path]:
    report = out / "credsweeper.json"
    command = [str(PEERS / "credsweeper"), "--path", "data", "--save-json", str(report),
               "--log", "error"]  # fmt: skip
    wall, cpu = timed(command, cwd=corpus)
    return wall, cpu, report


TOOLS = {
    "finalexam": ("jsonl", run_finalexam),
    "finalexam-candidates": ("jsonl", run_finalexam_candidates),
    "gitleaks": ("gitleaks", run_gitleaks),
    "detect-secrets": ("detect-secrets", run_detect_secrets),
    "credsweeper": ("credsweeper", run_credsweeper),
}


def split_labels(corpus: Path, out: Path, part: str) -> Path:
    repos = {repo for repo, which in split().items() if which == part}
    target = out / f"labels-{part}.tsv"
    with (corpus / "labels.tsv").open() as source, target.open("w") as handle:
        reader = csv.DictReader(source, delimiter="\t")
        writer = csv.DictWriter(handle, reader.fieldnames or [], delimiter="\t")
        writer.writeheader()
        for row in reader:
            if row["path"].split("/")[1] in repos:
                writer.writerow(row)
    return target


def split_findings(adapter: str, findings: Path, out: Path, part: str, name: str) -> Path:
    """The findings of one split's repositories (unlabelled lines count per split)."""
    repos = {repo for repo, which in split().items() if which == part}

    def mine(path: str) -> bool:
        parts = path.replace("\\", "/").split("/")
        return any(p in repos for p in parts[:3])

    target = out / f"{name}-{part}.json"
    if adapter == "jsonl":
        rows = [json.loads(line) for line in findings.read_text().splitlines() if line]
        target.write_text("\n".join(json.dumps(r) for r in rows if mine(r["path"])) + "\n")
    elif adapter == "gitleaks":
        rows = json.loads(findings.read_text() or "[]")
        target.write_text(json.dumps([r for r in rows if mine(r["File"])]))
    elif adapter == "detect-secrets":
        data = json.loads(findings.read_text() or "{}")
        data["results"] = {k: v for k, v in data.get("results", {}).items() if mine(k)}
        target.write_text(json.dumps(data))
    else:
        rows = json.loads(findings.read_text() or "[]")
        kept = [r for r in rows if any(mine(d["path"]) for d in r.get("line_data_list", []))]
        target.write_text(json.dumps(kept))
    return target


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--parts", default="dev,held-out")
    parser.add_argument("--model", type=Path, help="a generic-filter model to score with")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if args.model:
        with tempfile.TemporaryDirectory() as copy:
            global SRC
            SRC = Path(copy) / "src"
            shutil.copytree(ROOT / "src", SRC, ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copyfile(args.model, SRC / MODEL)
            return score(args)
    return score(args)


def score(args: argparse.Namespace) -> int:
    out = args.out
    corpus = args.corpus.resolve()
    out.mkdir(parents=True, exist_ok=True)
    size = sum(p.stat().st_size for p in (corpus / "data").rglob("*") if p.is_file())
    summary = {}
    for name in args.tools.split(","):
        adapter, run = TOOLS[name]
        wall, cpu, findings = run(corpus, out)
        print(
            f"{name}: {wall:.2f} s wall, {cpu:.2f} CPU s, "
            f"{size / 1e6 / max(cpu, 1e-9):.2f} MB/CPU-s"
        )
        summary[name] = {"wall": wall, "cpu": cpu, "mb": size / 1e6}
        for part in args.parts.split(","):
            scored = out / f"{name}-{part}.score.json"
            subprocess.run(
                [sys.executable, str(SCORER), "creddata", "--root", str(corpus),
                 "--labels", str(split_labels(corpus, out, part)), "--tool", adapter,
                 "--findings", str(split_findings(adapter, findings, out, part, name)),
                 "--name", f"{name} ({part})", "--json-out", str(scored)],
                check=False,
            )  # fmt: skip
            summary[name][part] = json.loads(scored.read_text())
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
