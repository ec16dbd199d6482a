"""Benchmark of the exam of compiled code: malware binaries, benign binaries, tampering pairs.

    python bench/binaries/run.py [--fetch] [--capa] [--yara] [--diff-pairs] [--packages]
                                 [--malware DIR] [--jobs 2] [--capa-sample 12]
                                 [--split dev|held-out]

- always: the default exam (``finalexam scan FILE``) on every malware sample and every benign
  binary already downloaded, cached per file and per version of the finalexam sources;
- ``--fetch``: download the benign corpus first (apt-get download, pip download of wheels,
  npm pack; nothing is installed or run);
- ``--packages``: also the default exam of each benign package as a whole (.deb, wheel, npm
  tarball), to count packages that fail because of their binaries;
- ``--capa``: capa on every malware binary and a size-spread sample of benign ones (cached;
  a re-run only examines what is new);
- ``--yara``: YARA (yara-python) with the public rule files PyPI packages ship;
- ``--diff-pairs``: build the tampering pairs (``tests/tamper_pairs.py``), fetch Debian
  security-update pairs, and run ``finalexam diff`` on each.

Malware is decompressed outside the repository (``FINALEXAM_MALWARE_WORK``, default a
0700 directory under the system temp dir) and only ever read. Results: ``bench/out/binaries/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.binaries import corpus, exam, pairs, peers  # noqa: E402
from bench.common.fetch import pip_download  # noqa: E402

OUT = ROOT / "bench" / "out" / "binaries"
OSV = ROOT.parent / "shared" / "data" / "osv"
NATIVE = ("elf", "pe", "macho")
T = TypeVar("T")
R = TypeVar("R")


def parallel(function: Callable[[T], R], items: Iterable[T], jobs: int) -> list[R]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, items))


def vulnerability_db(work: Path) -> Path:
    """The default exam matches vulnerabilities: an offline database from the shared exports."""
    import os
    import subprocess

    db = work / "osv.sqlite3"
    if not db.exists():
        source = Path(os.environ.get("FINALEXAM_OSV", OSV))
        subprocess.run(
            [sys.executable, "-m", "finalexam", "db", "update", "--source", str(source),
             "--db", str(db)],
            check=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )  # fmt: skip
    return db


def benign_artifacts(work: Path, fetch: bool) -> dict[str, list[Path]]:
    if fetch:
        return corpus.fetch_benign(work)
    found: dict[str, list[Path]] = {
        "debian": sorted((work / "debs").glob("*.deb")),
        "wheel": sorted((work / "wheels").glob("*.whl")),
        "npm": sorted((work / "npm").glob("*.tgz")),
        "jar": sorted((work / "jar-trees").rglob("*.jar")),
    }
    found["jar"] = [p for p in found["jar"] if not p.is_symlink()]
    return found


def capa_sample(samples: list[corpus.Sample], count: int) -> list[corpus.Sample]:
    """Benign binaries for capa: spread over sizes (up to 1 MB) and over the three formats."""
    chosen: list[corpus.Sample] = []
    for fmt in NATIVE:
        pool = sorted((s for s in samples if s.format == fmt and s.size <= 1_000_000),
                      key=lambda s: s.size)  # fmt: skip
        share = max(1, count // len(NATIVE))
        if len(pool) <= share:
            chosen += pool
            continue
        step = (len(pool) - 1) / (share - 1) if share > 1 else 0
        chosen += [pool[round(i * step)] for i in range(share)]
    return chosen


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def flagged(result: dict[str, Any]) -> bool:
    return bool(result.get("flagged"))


def blocked_by_behaviour(result: dict[str, Any]) -> bool:
    """Failed the default policy because of a behavior or malicious finding (not hardening or
    a vulnerable dependency, which fail honest releases too)."""
    return any(b["kind"] in ("behavior", "malicious") for b in result.get("blocking", []))


def blocking_kinds(results: Iterable[dict[str, Any]]) -> str:
    kinds = Counter(
        f"{b['kind']}:{b['rule']}" if b["kind"] != "vulnerability" else "vulnerability"
        for r in results
        if r.get("exit") == 1
        for b in {(x["kind"], x["rule"]): x for x in r.get("blocking", [])}.values()
    )
    return ", ".join(f"{k} x{v}" for k, v in kinds.most_common(4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="download the benign corpus first")
    parser.add_argument("--packages", action="store_true", help="also exam each benign package")
    parser.add_argument("--capa", action="store_true", help="run capa (slow, cached)")
    parser.add_argument("--yara", action="store_true", help="run YARA with public rule files")
    parser.add_argument("--diff-pairs", action="store_true", help="diff the release pairs")
    parser.add_argument("--malware", type=Path, default=corpus.MALWARE)
    parser.add_argument("--malware-work", type=Path, default=corpus.MALWARE_WORK)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--split", choices=("dev", "held-out"),
        help="examine only this half of the malware (tune on dev; run held-out once, last)",
    )  # fmt: skip
    parser.add_argument("--capa-sample", type=int, default=12, help="benign binaries for capa")
    parser.add_argument("--capa-timeout", type=int, default=300, help="seconds per file")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src",
        help="examine with the finalexam sources in this folder (a frozen copy keeps a long "
        "run consistent while the tree changes)",
    )  # fmt: skip
    args = parser.parse_args()
    work = corpus.WORK
    work.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    source = args.src.resolve()
    fingerprint = exam.code_fingerprint(source / "finalexam")
    db = vulnerability_db(work)

    malware = corpus.malware_samples(args.malware, args.malware_work)
    if args.split:
        malware = [s for s in malware if s.split == args.split]
    artifacts = benign_artifacts(work, args.fetch)
    benign = corpus.benign_samples(artifacts, work)
    total = sum(map(len, artifacts.values()))
    print(f"finalexam sources {fingerprint}; malware {len(malware)}, "
          f"benign binaries {len(benign)} from {total} artifacts", flush=True)  # fmt: skip

    cache = work / "exam" / fingerprint

    def examine(sample: corpus.Sample) -> dict[str, Any]:
        return exam.scan(sample.path, sample.sha256, cache, db, source)

    results: dict[str, Any] = {"fingerprint": fingerprint}
    results["malware"] = [
        {**s.record(), "finalexam": r}
        for s, r in zip(malware, parallel(examine, malware, args.jobs), strict=True)
    ]
    results["benign"] = [
        {**s.record(), "finalexam": r}
        for s, r in zip(benign, parallel(examine, benign, args.jobs), strict=True)
    ]
    if args.packages:
        listing = [(kind, p) for kind, paths in artifacts.items() for p in paths]

        def examine_package(item: tuple[str, Path]) -> dict[str, Any]:
            kind, path = item
            import hashlib

            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result = exam.scan(path, digest, cache / "packages", db, source)
            return {"set": kind, "package": path.name, "finalexam": result}

        results["packages"] = parallel(examine_package, listing, args.jobs)
    if args.capa:
        chosen = [s for s in malware if s.format in NATIVE] + capa_sample(benign, args.capa_sample)
        unique = list({s.sha256: s for s in sorted(chosen, key=lambda s: s.size)}.values())
        by_hash = {s.sha256: peers.capa(s.path, s.sha256, work, args.capa_timeout) for s in unique}
        for group in ("malware", "benign"):
            for row in results[group]:
                if row["sha256"] in by_hash:
                    row["capa"] = by_hash[row["sha256"]]
    if args.yara:
        wheels = {name: pip_download(name, work / "yara-wheels") for name in peers.YARA_SOURCES}
        rule_sets = peers.yara_rules(work, wheels)
        paths = [Path(r["path"]) for group in ("malware", "benign") for r in results[group]]
        results["yara"] = {}
        for name, rules in rule_sets.items():
            matches, seconds, error = peers.yara_scan(rules, paths)
            results["yara"][name] = {"seconds": round(seconds, 2), "error": error,
                                     "files": len(paths)}  # fmt: skip
            for group in ("malware", "benign"):
                for row in results[group]:
                    row.setdefault("yara", {})[name] = matches.get(row["path"], [])
    if args.diff_pairs:
        built, skipped = pairs.built_pairs(work)
        every = built + pairs.debian_update_pairs(work)
        diffs = parallel(lambda p: exam.diff(p.old, p.new, cache, db, source), every, args.jobs)
        results["pairs"] = [
            {"name": p.name, "malicious": p.malicious, "description": p.description,
             "old": str(p.old.relative_to(work)), "new": str(p.new.relative_to(work)), **d}
            for p, d in zip(every, diffs, strict=True)
        ]  # fmt: skip
        results["pairs_skipped"] = skipped
    (OUT / "results.json").write_text(json.dumps(results, indent=1, default=str))
    text = summarise(results)
    (OUT / "summary.md").write_text(text + "\n")
    print(text)
    return 0


def summarise(results: dict[str, Any]) -> str:
    lines: list[str] = []
    malware, benign = results["malware"], results["benign"]
    lines += corpus_counts(malware, benign)
    lines += family_table(malware)
    lines += benign_table(benign, results.get("packages"))
    lines += time_table(malware + benign)
    if results.get("yara"):
        lines += yara_table(results["yara"], malware, benign)
    if "pairs" in results:
        lines += pair_table(results["pairs"], results.get("pairs_skipped", {}))
    return "\n".join(lines)


def corpus_counts(malware: list[dict[str, Any]], benign: list[dict[str, Any]]) -> list[str]:
    lines = ["## Corpus", "", "| set | files | ELF | PE | Mach-O | other | architectures |",
             "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in malware + benign:
        groups[row["set"]].append(row)
    for name, rows in groups.items():
        formats = Counter(r["format"] for r in rows)
        arches = Counter(r["arch"] for r in rows if r["arch"])
        other = sum(v for k, v in formats.items() if k not in NATIVE)
        lines.append(
            f"| {name} | {len(rows)} | {formats['elf']} | {formats['pe']} | {formats['macho']} "
            f"| {other} | {', '.join(f'{a} {n}' for a, n in arches.most_common())} |"
        )
    return [*lines, ""]


def family_table(malware: list[dict[str, Any]]) -> list[str]:
    lines = ["## Malware per family", "",
             "flagged = a behavior/malicious finding of high or critical; fails = exit 1 under "
             "the default policy; capa = at least one rule in a namespace a reviewer acts on "
             "(peers.CAPA_SUSPICIOUS) / files capa could analyse.", "",
             "| family | split | files | finalexam flagged | fails: behaviour | fails: other "
             "reasons | capa suspicious | capa s (median) |",
             "|---|---|---:|---:|---:|---|---:|---:|"]  # fmt: skip
    families: dict[str, list[dict[str, Any]]] = defaultdict(list)
    references: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in malware:
        (references if row.get("label") == "reference" else families)[row["family"]].append(row)
    for family, refs in references.items():
        flags = sum(flagged(r["finalexam"]) for r in refs)
        lines.insert(2, f"Not counted: {len(refs)} reference file(s) of {family} (not malicious "
                     f"themselves), {flags} flagged.\n")  # fmt: skip
    totals: Counter[str] = Counter()
    for family, rows in sorted(families.items(), key=lambda kv: (kv[1][0]["split"], kv[0])):
        fe = [r["finalexam"] for r in rows]
        hit = sum(flagged(r) for r in fe)
        fails = sum(blocked_by_behaviour(r) for r in fe)
        other = sum(r.get("exit") == 1 and not blocked_by_behaviour(r) for r in fe)
        capa_rows = [r["capa"] for r in rows if r.get("capa")]
        capa_ok = [c for c in capa_rows if c["status"] == "ok"]
        capa_hit = sum(bool(peers.capa_suspicious(c["rules"])) for c in capa_ok)
        capa_time = statistics.median([c["seconds"] for c in capa_rows]) if capa_rows else 0
        split = rows[0]["split"]
        totals[f"{split}.files"] += len(rows)
        totals[f"{split}.flagged"] += hit
        totals[f"{split}.fails"] += fails
        totals[f"{split}.other"] += other
        totals[f"{split}.capa_hit"] += capa_hit
        totals[f"{split}.capa_ok"] += len(capa_ok)
        lines.append(
            f"| {family} | {split} | {len(rows)} | {hit} | {fails} "
            f"| {other} {blocking_kinds(fe)} | {capa_hit}/{len(capa_ok)} | {capa_time:.0f} |"
        )
    for split in ("dev", "held-out"):
        files = totals[f"{split}.files"]
        if not files:
            continue
        lines.append(
            f"| **{split} total** | | {files} | {totals[f'{split}.flagged']} "
            f"| {totals[f'{split}.fails']} | {totals[f'{split}.other']} "
            f"| {totals[f'{split}.capa_hit']}/"
            f"{totals[f'{split}.capa_ok']} | |"
        )
    return [*lines, ""]


def benign_table(benign: list[dict[str, Any]], packages: list[dict[str, Any]] | None) -> list[str]:
    lines = ["## Benign binaries", "",
             "| set | binaries | flagged (behavior/malicious ≥ high) | fail: behaviour "
             "| fail: other reasons | incomplete | capa suspicious |",
             "|---|---:|---:|---:|---|---:|---:|"]  # fmt: skip
    by_set: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in benign:
        by_set[f"{row['set']} {row['format']}"].append(row)
    by_set["all"] = benign
    for name, rows in by_set.items():
        fe = [r["finalexam"] for r in rows]
        capa_ok = [r["capa"] for r in rows if r.get("capa", {}).get("status") == "ok"]
        capa_hit = sum(bool(peers.capa_suspicious(c["rules"])) for c in capa_ok)
        lines.append(
            f"| {name} | {len(rows)} | {sum(flagged(r) for r in fe)} "
            f"| {sum(blocked_by_behaviour(r) for r in fe)} "
            f"| {sum(r.get('exit') == 1 and not blocked_by_behaviour(r) for r in fe)} "
            f"{blocking_kinds(fe)} "
            f"| {sum(r.get('outcome') == 'incomplete' for r in fe)} | {capa_hit}/{len(capa_ok)} |"
        )
    rules: Counter[str] = Counter()
    for row in benign:
        for item in row["finalexam"].get("flagged", []) + row["finalexam"].get("blocking", []):
            rules[f"{item.get('rule', '')} {item.get('severity', '')}"] += 1
    if rules:
        lines += ["", "Flagging or blocking rules on benign binaries: "
                  + ", ".join(f"{k} x{v}" for k, v in rules.most_common(15))]  # fmt: skip
    if packages:
        failing = [p for p in packages if p["finalexam"].get("exit") == 1]
        because = [
            p for p in failing
            if any(b["kind"] in ("binary", "behavior", "malicious") for b in
                   p["finalexam"].get("blocking", []))
        ]  # fmt: skip
        lines += [
            "",
            f"Packages examined whole: {len(packages)}; fail the default policy: "
            f"{len(failing)}; because of a binary/behavior/malicious finding: {len(because)}.",
        ]
        for package in failing:
            lines.append(f"- {package['package']}: {blocking_kinds([package['finalexam']])}")
        incomplete = [p["package"] for p in packages if p["finalexam"].get("outcome") != "passed"
                      and p not in failing]  # fmt: skip
        if incomplete:
            lines.append(f"Not passed otherwise (incomplete/error): {', '.join(incomplete)}.")
    return [*lines, ""]


def time_table(rows: list[dict[str, Any]]) -> list[str]:
    native = [r for r in rows if r["format"] in NATIVE and "seconds" in r["finalexam"]]
    lines = ["## Time per binary", "",
             "CLI = wall-clock of `finalexam scan FILE` (Python start, plug-in loading, the exam, "
             "the report); exam = the report's own timings (walk + catalog + analyze).", "",
             "| files | n | CLI wall median s | CLI wall p95 s | CLI CPU median s "
             "| CLI CPU p95 s | exam median s | exam p95 s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    bands = {
        "all": native,
        "< 1 MB": [r for r in native if r["size"] < 1_000_000],
        "1-4 MB": [r for r in native if 1_000_000 <= r["size"] < 4_000_000],
        "4-6 MB (typical 5 MB)": [r for r in native if 4_000_000 <= r["size"] < 6_000_000],
        "≥ 6 MB": [r for r in native if r["size"] >= 6_000_000],
    }
    for name, band in bands.items():
        cells = []
        for key in ("seconds", "cpu_seconds", "exam_seconds"):
            values = [r["finalexam"].get(key, 0.0) for r in band]
            median = statistics.median(values) if values else 0.0
            cells.append(f"{median:.2f} | {percentile(values, 0.95):.2f}")
        lines.append(f"| {name} | {len(band)} | {' | '.join(cells)} |")
    capa = {r["sha256"]: r for r in rows if r.get("capa")}.values()
    if capa:
        done = [r for r in capa if r["capa"]["status"] == "ok"]
        statuses = Counter(r["capa"]["status"] for r in capa)
        lines += ["", f"capa: {len(capa)} distinct files, {statuses['ok']} analysed, "
                  f"{statuses['timeout']} timed out (300 s wall), {statuses['error']} refused "
                  "(Mach-O, MIPS/SPARC/ARM, packed, or no OS detected)."]  # fmt: skip
        if done:
            theirs = [r["capa"]["cpu_seconds"] for r in done]
            ours = [r["finalexam"]["cpu_seconds"] for r in done]
            ratios = [t / o for t, o in zip(theirs, ours, strict=True) if o]
            lines.append(
                f"On the {len(done)} files capa analysed: capa CPU median "
                f"{statistics.median(theirs):.1f} s (p95 {percentile(theirs, 0.95):.1f} s, wall "
                f"median {statistics.median(r['capa']['seconds'] for r in done):.0f} s); "
                f"finalexam CLI CPU median {statistics.median(ours):.2f} s; capa/finalexam "
                f"CPU ratio median {statistics.median(ratios):.1f}x."
            )
    return [*lines, ""]


def yara_table(
    runs: dict[str, Any], malware: list[dict[str, Any]], benign: list[dict[str, Any]]
) -> list[str]:
    lines = ["## YARA with public rule files from PyPI packages", "",
             "| rule source | files | s total | malware files matched | benign files matched "
             "| rules that matched |", "|---|---:|---:|---:|---:|---|"]  # fmt: skip
    for name, run in runs.items():
        mal = [r for r in malware if r.get("yara", {}).get(name)]
        ben = [r for r in benign if r.get("yara", {}).get(name)]
        matched = Counter(rule for r in mal + ben for rule in r["yara"][name])
        top = ", ".join(f"{k} x{v}" for k, v in matched.most_common(8))
        lines.append(
            f"| {name} | {run['files']} | {run['seconds']} | {len(mal)}/{len(malware)} "
            f"| {len(ben)}/{len(benign)} | {top} |"
        )
        if run["error"]:
            lines.append(f"| | error: {run['error'][:120]} | | | | |")
    return [*lines, ""]


def pair_table(rows: list[dict[str, Any]], skipped: dict[str, str]) -> list[str]:
    lines = ["## Release pairs: `finalexam diff OLD NEW`", "",
             "| pair | tampered | risk | exit | changes above info | s |",
             "|---|---|---|---:|---|---:|"]  # fmt: skip
    for row in rows:
        changes = "; ".join(f"{c['severity']} {c['title']}" for c in row["changes"][:4]) or "-"
        lines.append(
            f"| {row['name']} | {'yes' if row['malicious'] else 'no'} | **{row['risk']}** "
            f"| {row['exit']} | {changes} | {row['seconds']} |"
        )
    for name, reason in skipped.items():
        lines.append(f"| {name} pairs | skipped: {reason} | | | | |")
    return [*lines, ""]


if __name__ == "__main__":
    raise SystemExit(main())
