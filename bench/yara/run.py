"""YARA-X (finalexam's engine) beside yara-python (libyara) on the same rules and files.

    python bench/yara/run.py [--yara-python PYTHON] [--malware DIR] [--scale N] [--benign N]

Rule sets:
- ``bundled``: finalexam's own rules (``src/finalexam/rules/yara``);
- ``public``: the public rule files PyPI packages ship (pdfalyzer: Yara-Rules PDF rules,
  Didier Stevens, lprat; gokdogan-triage), fetched at bench time with ``pip download`` into
  ``bench/.work/`` (git-ignored), never committed, never installed;
- ``scale``: N rules written here in the shape of signature-base / YARA Forge rules (meta with
  score, 3-4 text, wide and hex strings, a header check, ``N of them``; one in 20 with a
  bounded regular expression), from a fixed seed: the cost of a large third-party set.

Files: the malware binaries of ``../shared/data/malware/binaries`` (decompressed outside the
repository by bench/binaries/corpus.py, read only, never executed) and the N largest shared
libraries of this Python environment (benign ELF).

Each engine runs in its own process (``worker.py``) per rule set: compile seconds, scan seconds
per file (total, median, p95, max), peak RSS, and whether both engines matched the same rules
on each file. Output: ``bench/out/yara/results.json`` and ``summary.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.binaries import corpus, peers  # noqa: E402
from bench.common.fetch import pip_download  # noqa: E402
from bench.common.timing import run_timed  # noqa: E402

WORKER = Path(__file__).with_name("worker.py")
WORK = ROOT / "bench" / ".work" / "yara"
OUT = ROOT / "bench" / "out" / "yara"
PEERS_PYTHON = peers.PEERS / "yara-venv" / "bin" / "python"


def scale_rules(count: int, target: Path, seed: int = 16) -> Path:
    """``count`` signature-base-shaped rules in files of 500 (deterministic)."""
    rng = random.Random(seed)
    words = ["cmd", "shell", "inject", "payload", "beacon", "loader", "stage", "crypt", "miner",
             "proxy", "token", "steal", "hook", "kit", "rat", "bot", "panel", "agent"]  # fmt: skip
    target.mkdir(parents=True, exist_ok=True)
    for first in range(0, count, 500):
        rules = []
        for index in range(first, min(first + 500, count)):
            parts = [
                "_".join(rng.sample(words, 3)) + f"_{rng.randrange(16**6):06x}" for _ in range(3)
            ]
            hexes = " ".join(f"{rng.randrange(256):02X}" for _ in range(rng.randrange(8, 16)))
            strings = [f'        $s{i} = "{p}" ascii' + (" wide" if i == 1 else "")
                       for i, p in enumerate(parts)]  # fmt: skip
            strings.append(f"        $h = {{ {hexes} }}")
            if index % 20 == 0:
                strings.append(f"        $re = /{parts[0][:6]}[a-z0-9]{{4,16}}\\.(php|asp)/ ascii")
            header = "uint16(0) == 0x5a4d" if index % 2 else "uint32(0) == 0x464c457f"
            rules.append(
                f'rule SCALE_{index:05d} {{\n    meta:\n        description = "generated"\n'
                f"        score = {rng.choice([50, 60, 70, 75, 80, 85])}\n    strings:\n"
                + "\n".join(strings)
                + f"\n    condition:\n        {header} and filesize < 20MB and 2 of them\n}}\n"
            )
        (target / f"scale-{first // 500:03d}.yar").write_text("\n".join(rules))
    return target


def rule_sets(args: argparse.Namespace) -> dict[str, list[tuple[str, str]]]:
    sets: dict[str, list[tuple[str, str]]] = {}
    bundled = ROOT / "src" / "finalexam" / "rules" / "yara"
    sets["bundled"] = [(p.name, str(p)) for p in sorted(bundled.glob("*.yar"))]
    wheels = {name: pip_download(name, WORK / "wheels") for name in peers.YARA_SOURCES}
    public = peers.yara_rules(WORK, wheels)
    sets["public"] = [
        (f"{source}/{p.name}", str(p))
        for source, directory in sorted(public.items())
        for p in sorted(directory.iterdir())
    ]
    scale = scale_rules(args.scale, WORK / f"scale-{args.scale}")
    sets[f"scale-{args.scale}"] = [(p.name, str(p)) for p in sorted(scale.glob("*.yar"))]
    return sets


def files(args: argparse.Namespace) -> list[dict[str, Any]]:
    samples = (
        corpus.malware_samples(Path(args.malware)) if args.malware else corpus.malware_samples()
    )
    out = [{"path": str(s.path), "set": "malware", "size": s.size} for s in samples]
    libraries = Path(sysconfig.get_paths()["purelib"])
    shared = sorted(
        (p for p in libraries.rglob("*.so*") if p.is_file() and corpus.magic(p) == b"\x7fELF"),
        key=lambda p: (-p.stat().st_size, str(p)),
    )[: args.benign]
    out += [{"path": str(p), "set": "benign", "size": p.stat().st_size} for p in shared]
    return out


def run_engine(python: str, engine: str, job: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(job, handle)
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [python, str(WORKER), engine, handle.name], capture_output=True, text=True,
        env=env, timeout=7200, check=False,
    )  # fmt: skip
    Path(handle.name).unlink()
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def exam_cost(rules: Path, targets: list[dict[str, Any]]) -> dict[str, Any]:
    """What a user sees: ``finalexam rules update`` of the set, then ``finalexam scan --only
    yara`` of the largest malware binary with and without it (CPU and wall seconds)."""
    store = WORK / "store"
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "HOME": str(WORK),
           "XDG_CACHE_HOME": str(WORK / "cache"), "FINALEXAM_OFFLINE": "1"}  # fmt: skip
    finalexam = [sys.executable, "-m", "finalexam"]
    update = run_timed([*finalexam, "rules", "update", "--source", str(rules), "--name", "scale",
                        "--yara-store", str(store)], 3600, env)  # fmt: skip
    compiled = next((store / "scale").glob("*.yarx"), None)
    target = max((t for t in targets if t["set"] == "malware"), key=lambda t: t["size"])
    out: dict[str, Any] = {
        "update": {"cpu": update.cpu, "wall": update.wall, "returncode": update.returncode},
        "compiled_mb": compiled.stat().st_size / 1e6 if compiled else None,
        "target_mb": target["size"] / 1e6,
    }
    for label, where in (("without", WORK / "empty-store"), ("with", store)):
        command = [*finalexam, "scan", target["path"], "--only", "yara", "--yara-store", str(where),
                   "-o", f"json={WORK / 'exam.json'}"]  # fmt: skip
        runs = [run_timed(command, 600, env) for _ in range(3)]
        best = min(runs, key=lambda r: r.cpu)
        out[label] = {"cpu": best.cpu, "wall": best.wall, "returncode": best.returncode}
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def summary_row(name: str, x: dict[str, Any], p: dict[str, Any]) -> list[str]:
    if "error" in x or "error" in p:
        return [f"| {name} | error: {x.get('error') or p.get('error')} |"]
    xs = [f["cpu"] for f in x["files"]]
    ps = [f["cpu"] for f in p["files"]]
    same = sum(a["matches"] == b["matches"] for a, b in zip(x["files"], p["files"], strict=True))
    hits = sum(bool(f["matches"]) for f in x["files"]), sum(bool(f["matches"]) for f in p["files"])
    megabytes = sum(f["size"] for f in x["files"]) / 1e6

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.1f}x" if a > 0 else "-"

    return [
        f"| {name} | compile, CPU s (wall) | {x['compile_cpu']:.2f} ({x['compile_seconds']:.2f}) "
        f"| {p['compile_cpu']:.2f} ({p['compile_seconds']:.2f}) | "
        f"{ratio(x['compile_cpu'], p['compile_cpu'])} |",
        f"| | rules compiled (rejected) | {x['rules']} ({x['rejected']} rules) | {p['rules']} "
        f"({p['rejected_files']} files) | |",
        f"| | scan CPU s, all files | {sum(xs):.2f} | {sum(ps):.2f} | {ratio(sum(xs), sum(ps))} |",
        f"| | MB per CPU s | {megabytes / sum(xs):.0f} | {megabytes / sum(ps):.0f} | |",
        f"| | scan CPU s per file: median | {statistics.median(xs):.4f} | "
        f"{statistics.median(ps):.4f} | {ratio(statistics.median(xs), statistics.median(ps))} |",
        f"| | p95 / max | {percentile(xs, 0.95):.3f} / {max(xs):.3f} | {percentile(ps, 0.95):.3f}"
        f" / {max(ps):.3f} | {ratio(max(xs), max(ps))} (max) |",
        f"| | peak RSS MB | {x['max_rss_mb']:.0f} | {p['max_rss_mb']:.0f} | |",
        f"| | files matched / same rules both | {hits[0]} / {same} of {len(xs)} | {hits[1]} | |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--yara-python", default=str(PEERS_PYTHON), help="a Python with yara-python"
    )
    parser.add_argument(
        "--malware", help="malware binaries (default ../shared/data/malware/binaries)"
    )
    parser.add_argument("--scale", type=int, default=10_000, help="generated rules (default 10000)")
    parser.add_argument("--benign", type=int, default=20, help="largest local ELF libraries")
    parser.add_argument("--timeout", type=int, default=60, help="per-file scan limit, seconds")
    args = parser.parse_args()
    targets = files(args)
    results: dict[str, Any] = {"files": targets, "sets": {}}
    paths = [t["path"] for t in targets]
    sets = rule_sets(args)
    for name, rules in sets.items():
        job = {"rules": rules, "files": paths, "timeout": args.timeout}
        print(f"{name}: {len(rules)} rule files, {len(paths)} files", file=sys.stderr)
        results["sets"][name] = {
            "yara-x": run_engine(sys.executable, "yara-x", job),
            "yara-python": run_engine(args.yara_python, "yara-python", job),
        }
    scale_dir = Path(sets[f"scale-{args.scale}"][0][1]).parent
    results["exam"] = exam = exam_cost(scale_dir, targets)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    total = sum(t["size"] for t in targets) / 1e6
    malware = sum(t["set"] == "malware" for t in targets)
    lines = [
        "# YARA-X beside yara-python",
        "",
        f"{len(targets)} files ({malware} malware binaries, {len(targets) - malware} benign "
        f"ELF libraries), {total:.0f} MB. Ratio: yara-python time / YARA-X time (above 1: "
        "YARA-X faster). CPU seconds (wall in brackets) inside each worker process (one process "
        "per engine and rule set, run one after the other) on a shared, loaded machine.",
        "",
        "| rule set | measure | YARA-X | yara-python | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for name, runs in results["sets"].items():
        lines += summary_row(name, runs["yara-x"], runs["yara-python"])
    lines += [
        "",
        f"Exam cost of the {args.scale}-rule set: `finalexam rules update` "
        f"{exam['update']['cpu']:.1f} CPU s ({exam['update']['wall']:.1f} s wall), compiled "
        f"file {exam['compiled_mb'] or 0:.1f} MB; `finalexam scan --only yara` of the largest "
        f"malware binary ({exam['target_mb']:.1f} MB), best of 3: {exam['without']['cpu']:.2f} "
        f"CPU s without the set, {exam['with']['cpu']:.2f} CPU s with it.",
    ]
    engines = next(iter(results["sets"].values()))
    lines += [
        "",
        f"Engines: {engines['yara-x'].get('engine')}; {engines['yara-python'].get('engine')}.",
    ]
    (OUT / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
