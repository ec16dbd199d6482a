"""capa and finalexam's binary analyzer on the same malware binaries, file after file in one run.

    python bench/binaries/capa_side.py [--src DIR] [--timeout 60] [--held-out]

For each malware binary (dev half; the held-out half too with ``--held-out``): capa's command
line (its rule cache built beforehand, ``--timeout`` seconds of wall time), then the binary
analyzer of ``--src`` in-process (examine + unpack + describe, as ``inprocess.py`` measures
it), one right after the other so the shared machine's load weighs on both alike. CPU seconds
from ``wait4`` (capa) and ``process_time`` (finalexam). capa's answers are cached in a fresh
directory per run (``--cache``, default a temporary one), never reused from an older run.
Output: a table on stdout and ``bench/out/binaries/capa_side.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from bench.binaries import corpus, inprocess, peers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--held-out", action="store_true")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/binaries/capa_side.json")
    arguments = parser.parse_args()
    cache = arguments.cache or Path(tempfile.mkdtemp(prefix="capa-side-"))
    samples = [
        s
        for s in corpus.malware_samples()
        if s.label == "malicious" and s.format in ("elf", "pe", "macho")
        if arguments.held_out or s.split == "dev"
    ]
    rows: list[dict[str, Any]] = []
    print("| file | split | capa | capa suspicious | capa CPU s | finalexam flagged | "
          "finalexam CPU s | CPU ratio capa/finalexam |")  # fmt: skip
    print("|---|---|---|---:|---:|---|---:|---:|")
    for sample in samples:
        capa = peers.capa(sample.path, sample.sha256, cache, arguments.timeout)
        (ours,) = inprocess.run_chunk(arguments.src, [str(sample.path)])
        suspicious = peers.capa_suspicious(capa.get("rules") or {})
        ratio = capa["cpu_seconds"] / ours["cpu"] if ours.get("cpu") else float("nan")
        rows.append({**sample.record(), "capa": capa, "finalexam": ours, "ratio": ratio})
        print(
            f"| {sample.key.split('/', 1)[-1][:48]} | {sample.split} | {capa['status']} | "
            f"{len(suspicious)} | {capa['cpu_seconds']:.1f} | "
            f"{', '.join(h.removeprefix('capability.') for h in ours.get('high', [])) or '-'} | "
            f"{ours.get('cpu', 0):.2f} | {ratio:.0f} |",
            flush=True,
        )
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(rows, indent=1, default=str) + "\n", encoding="utf-8")
    answered = [r for r in rows if r["capa"]["status"] == "ok"]
    for split in ("dev", "held-out"):
        selected = [r for r in rows if r["split"] == split]
        if not selected:
            continue
        capa_ok = sum(1 for r in selected if r["capa"]["status"] == "ok")
        capa_flag = sum(1 for r in selected if peers.capa_suspicious(r["capa"].get("rules") or {}))
        ours = sum(1 for r in selected if r["finalexam"].get("flagged"))
        print(f"{split}: {len(selected)} binaries; capa analysed {capa_ok}, "
              f"suspicious {capa_flag}; finalexam flagged {ours}")  # fmt: skip
    if answered:
        print(
            "CPU ratio capa/finalexam on the files capa analysed: median "
            f"{statistics.median(r['ratio'] for r in answered):.0f}x "
            f"(capa median {statistics.median(r['capa']['cpu_seconds'] for r in answered):.1f} s, "
            f"finalexam {statistics.median(r['finalexam']['cpu'] for r in answered):.2f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
