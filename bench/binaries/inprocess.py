"""The binary analyzer of two code versions on the same files, side by side in one run.

    python bench/binaries/inprocess.py --before DIR [--after DIR] [--held-out] [--out FILE]

``--before``/``--after`` are source trees (``git archive <rev> src | tar -x -C DIR``; after
defaults to this checkout's ``src``). Each file is examined in-process by each version: the
binary facts (``examine``) and ``describe`` (capability rules, decoding), the code
``finalexam scan`` runs per binary, without the CLI's start-up. The two versions run in
alternating chunks of files, so that a shared machine's load weighs on both alike.

Per file: CPU seconds (``time.process_time`` around examine + describe), flagged (a
behaviour or malicious finding of high or critical severity), capabilities above info,
system calls found, XOR-decoded strings, every finding (rule and severity), the packer
and what the UPX unpacker made of it (unpacked in-process, as ``analyzer.unpack`` does
in the child, so it is timed). The held-out half of the malware is left out
unless ``--held-out`` is given (once, at the end of a piece of work).
Output: ``bench/out/binaries/inprocess.json`` and a summary on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import run  # noqa: E402

import corpus  # noqa: E402

CHUNK = 50


def worker(paths: list[str]) -> None:
    """Examine each file with the finalexam on PYTHONPATH; one JSON line per file."""
    from finalexam.analyze.binary import analyzer, capabilities
    from finalexam.analyze.binary.facts.common import BrokenBinary, NotABinary
    from finalexam.analyze.binary.facts.parse import examine
    from finalexam.model import Location

    rules = capabilities.load_rules()
    # LIEF and capstone load before the clock starts: once per process, not per file
    with contextlib.suppress(Exception):  # the file's own error is reported below
        examine(Path(paths[0]).read_bytes())
    for path in paths:
        data = Path(path).read_bytes()
        started = time.process_time()
        try:
            facts = examine(data)
            location = Location((Path(path).name,))
            if hasattr(analyzer, "Unpacked"):  # UPX unpacked in this process, so it is timed
                analysis = analyzer.describe(facts, data, location, rules, _unpacked(data, facts))
            else:
                analysis = analyzer.describe(facts, data, location, rules)
        except (NotABinary, BrokenBinary, Exception) as error:
            row = {"path": path, "error": f"{type(error).__name__}: {error}"}
            row["cpu"] = time.process_time() - started
            print(json.dumps(row), flush=True)
            continue
        cpu = time.process_time() - started
        entry = analysis.binaries[0] if analysis.binaries else {}
        high = sorted(
            f.rule_id
            for f in analysis.findings
            if f.kind.value in ("behavior", "malicious") and f.severity.rank >= 3
        )
        row = {
            "path": path,
            "cpu": cpu,
            "flagged": bool(high),
            "high": high,
            "capabilities": sorted(
                c["id"] for c in entry.get("capabilities", []) if c["severity"] != "info"
            ),
            "syscalls": len(entry.get("syscalls", [])),
            "xor_strings": len(entry.get("xor_strings", [])),
            "resolved": len(entry.get("resolved", [])),
            # socket()/setsockopt() calls that open a raw or packet socket (trait raw-socket)
            "raw_sockets": len(entry.get("raw_sockets", [])),
            # functions that fetch from a URL and run a command (facts.flow); "!" a direct flow
            "fetch_runs": [
                f"{run['fetch']} -> {run['run']}{' !' if run['flows'] else ''}"
                for run in entry.get("fetch_runs", [])
            ],
            "unpacked": bool((entry.get("packer") or {}).get("unpacked")),
            # UPX and other packers: what was found and what the unpacker made of it
            "packer": (entry.get("packer") or {}).get("name"),
            "unpack_error": (entry.get("packer") or {}).get("unpack_error"),
            "partial": ((entry.get("packer") or {}).get("unpacked") or {}).get("partial"),
            # every finding, at any severity: what changed between two versions
            "findings": sorted(f"{f.rule_id}/{f.severity.value}" for f in analysis.findings),
            # gaps: what the exam left unexamined (an exam with one is incomplete)
            "gaps": [f"{i.kind.value}: {i.message}" for i in analysis.issues if i.kind.gap],
            # resolved by hash: no name string in the file
            "hashed": sorted(
                r["name"] for r in entry.get("resolved", []) if "string_offset" not in r
            ),
        }
        print(json.dumps(row), flush=True)


def _unpacked(data: bytes, facts: Any) -> Any:
    """What ``analyzer.unpack`` gives, computed in this process so that it is timed; for
    sources that unpack ELF only (no ``upx_header``) and return the image as bytes too."""
    from finalexam.analyze.binary import analyzer, upx

    find_header = getattr(analyzer, "upx_header", None)
    if find_header is not None:
        header = find_header(data, facts)
    else:
        header = upx.header(data) if facts.format == "elf" else None
    if header is None:
        return None
    if isinstance(header, upx.Header):
        reader = upx.examine_unpacked
    else:
        from finalexam.analyze.binary import upx_pe

        reader = upx_pe.examine_unpacked
    try:
        unpacked, unpacking = reader(data)
    except Exception as error:  # reported as the exam reports it
        failed = getattr(analyzer, "UnpackFailed", None)  # older sources took the message
        return failed.of(error) if failed else str(error)
    if isinstance(unpacking, bytes):
        return analyzer.Unpacked(unpacked, unpacking, header)
    return analyzer.Unpacked(unpacked, unpacking.image, header, unpacking.partial)


def run_chunk(source: Path, paths: list[str]) -> list[dict[str, Any]]:
    environment = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, __file__, "--worker", *paths]
    output = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, default=ROOT / "src")
    parser.add_argument("--held-out", action="store_true")
    parser.add_argument(
        "--after-only",
        action="store_true",
        help="examine with --after alone (flags and capabilities; no CPU ratio)",
    )
    parser.add_argument("--work", type=Path, default=None, help="benign corpus (bench/.work)")
    parser.add_argument(
        "--artifacts",
        type=Path,
        nargs="*",
        help="instead of the benign corpus: every ELF/PE/Mach-O in the .deb, .whl and .tgz "
        "files under these directories (e.g. the verdict benchmark's), members extracted "
        "into --work; no malware",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/binaries/inprocess.json")
    arguments = parser.parse_args()

    work = arguments.work or corpus.WORK
    malware = [
        s
        for s in corpus.malware_samples()
        if s.label == "malicious" and s.format in ("elf", "pe", "macho")
        if arguments.held_out or s.split == "dev"
    ]
    if arguments.artifacts:
        malware = []
        found: dict[str, list[Path]] = {"debian": [], "wheel": [], "npm": []}
        for directory in arguments.artifacts:
            found["debian"] += sorted(directory.rglob("*.deb"))
            found["wheel"] += sorted(directory.rglob("*.whl"))
            found["npm"] += sorted(directory.rglob("*.tgz"))
        benign = corpus.benign_samples(found, work)
    else:
        benign = corpus.benign_samples(run.benign_artifacts(work, False), work)
    samples = malware + benign
    by_path = {str(s.path): s for s in samples}
    paths = list(by_path)
    results: dict[str, dict[str, dict[str, Any]]] = {"before": {}, "after": {}}
    for start in range(0, len(paths), CHUNK):
        chunk = paths[start : start + CHUNK]
        versions = [("before", arguments.before), ("after", arguments.after)]
        if (start // CHUNK) % 2:
            versions.reverse()  # neither version always goes first
        for name, source in versions:
            if arguments.after_only and name == "before":
                continue
            for row in run_chunk(source, chunk):
                results[name][row["path"]] = row
                if arguments.after_only:
                    results["before"][row["path"]] = row
        print(f"{min(start + CHUNK, len(paths))}/{len(paths)}", file=sys.stderr, flush=True)
    rows = []
    for path, sample in by_path.items():
        rows.append(
            {**sample.record(), "before": results["before"][path], "after": results["after"][path]}
        )
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    summarise(rows)
    return 0


def summarise(rows: list[dict[str, Any]]) -> None:
    def count(selected: list[dict[str, Any]], version: str) -> int:
        return sum(1 for r in selected if r[version].get("flagged"))

    groups = {
        "malware dev": [r for r in rows if r["set"] == "malware" and r["split"] == "dev"],
        "malware held-out": [r for r in rows if r["set"] == "malware" and r["split"] != "dev"],
        "benign": [r for r in rows if r["set"] != "malware"],
    }
    print("| set | files | flagged before | flagged after |")
    print("|---|---:|---:|---:|")
    for name, selected in groups.items():
        if selected:
            print(f"| {name} | {len(selected)} | {count(selected, 'before')} | "
                  f"{count(selected, 'after')} |")  # fmt: skip
    for r in rows:
        before, after = set(r["before"].get("high", [])), set(r["after"].get("high", []))
        if before != after and (r["set"] != "malware" or r["split"] == "dev"):
            print(f"  {r['key']}: {sorted(before)} -> {sorted(after)}")
    benign = groups["benign"]
    static = [r for r in benign if r["after"].get("syscalls")]
    xor = [r for r in benign if r["after"].get("xor_strings")]
    print(f"benign binaries with system calls read: {len(static)}; with XOR strings: {len(xor)}")
    resolved = [r for r in benign if r["after"].get("resolved")]
    hashed = [r for r in benign if r["after"].get("hashed")]
    names = sum(r["after"]["resolved"] for r in resolved)
    print(f"benign binaries with names resolved at run time: {len(resolved)} ({names} names); "
          f"with hash-resolved imports: {len(hashed)}")  # fmt: skip
    for r in hashed:
        print(f"  hashed: {r['key']}: {r['after']['hashed']}")
    for r in [r for r in rows if r["after"].get("fetch_runs")]:
        print(f"  fetch then run: {r['key']}: {r['after']['fetch_runs']}")
    for r in benign:
        before, after = r["before"].get("findings"), r["after"].get("findings")
        if before is not None and after is not None and before != after:
            print(f"  benign finding changed: {r['key']}: -{sorted(set(before) - set(after))} "
                  f"+{sorted(set(after) - set(before))}")  # fmt: skip
        if not r["before"].get("gaps") and r["after"].get("gaps"):
            print(f"  benign newly incomplete: {r['key']}: {r['after']['gaps']}")
        if "error" in r["after"] and "error" not in r["before"]:
            print(f"  benign newly failing to examine: {r['key']}: {r['after']['error']}")
    upx = [r for r in benign if "upx" in (r["before"].get("packer"), r["after"].get("packer"))]
    print(f"benign UPX-packed: {len(upx)} ({dict(Counter(r['format'] for r in upx))})")
    for r in upx:
        outcome = (
            r["after"].get("unpack_error")
            or r["after"].get("partial")
            or ("unpacked" if r["after"].get("unpacked") else "not unpacked")
        )
        print(f"  upx: {r['key']} ({r['format']}, {r['size']} bytes): {outcome}")
    for name, selected in groups.items():
        gaps = [r for r in selected if r["after"].get("gaps")]
        print(f"{name}: {len(gaps)} of {len(selected)} left a gap (exam incomplete)")
        for r in gaps[:20]:
            print(f"  {r['key']}: {r['after']['gaps']}")
    print("| files | n | CPU before median / p95 ms | CPU after median / p95 ms | ratio median |")
    print("|---|---:|---:|---:|---:|")
    bands = {
        "all": (0, 1 << 40),
        "< 1 MB": (0, 1 << 20),
        "1-4 MB": (1 << 20, 4 << 20),
        "4-6 MB": (4 << 20, 6 << 20),
        ">= 6 MB": (6 << 20, 1 << 40),
    }
    selections = {name: [r for r in rows if low <= r["size"] < high]
                  for name, (low, high) in bands.items()}  # fmt: skip
    for fmt in ("elf", "pe", "macho"):
        selections[f"{fmt} files"] = [r for r in rows if r["format"] == fmt]
    for name, selected in selections.items():
        if not selected:
            continue
        before = [r["before"]["cpu"] * 1000 for r in selected]
        after = [r["after"]["cpu"] * 1000 for r in selected]
        ratios = [a / b for a, b in zip(after, before, strict=True) if b > 0]
        print(
            f"| {name} | {len(selected)} | {statistics.median(before):.1f} / "
            f"{run.percentile(before, 0.95):.1f} | {statistics.median(after):.1f} / "
            f"{run.percentile(after, 0.95):.1f} | {statistics.median(ratios):.2f} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2:])
    else:
        sys.exit(main())
