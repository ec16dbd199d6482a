"""Release-diff benchmark on real release pairs from npm and PyPI (downloaded to bench/.work).

Usage: PYTHONPATH=src python bench/diff/run.py [--no-download] [--no-diffoscope]

Downloads use the registries' own clients without running anything: ``npm pack
--ignore-scripts`` and ``pip download --no-deps --only-binary=:all:`` (wheels only, so no
build step runs). Each pair is diffed in process (``finalexam.diff``), then ``repro`` and
diffoscope compare (a) the two releases and (b) each new release against a rebuilt copy of
itself (same members, other mtimes, member order and compression level), side by side.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "diff"
DIFFOSCOPE = Path("/opt/peers/bin/diffoscope")


@dataclass(frozen=True)
class Pair:
    ecosystem: str
    name: str
    old: str
    new: str
    known: str  # "" for an ordinary release, else what was publicly reported


PAIRS = (
    # Releases publicly reported to add protestware, install scripts or unwanted dependencies.
    Pair("npm", "es5-ext", "0.10.53", "0.10.54", "protestware postinstall (_postinstall.js)"),
    Pair("npm", "node-ipc", "10.1.0", "11.1.0", "adds peacenotwar protestware dependency"),
    Pair("npm", "event-source-polyfill", "1.0.25", "1.0.26", "protestware alert by time zone"),
    Pair("npm", "faker", "5.5.3", "6.6.6", "sabotage: library replaced by its author"),
    Pair("npm", "core-js", "2.6.5", "2.6.6", "postinstall script (funding banner) added"),
    Pair("pypi", "setuptools", "49.2.1", "49.3.0", "distutils-precedence.pth runs at start-up"),
    # Ordinary releases. node-ipc 10.1.0 is the author's rewrite; the versions with the
    # destructive payload (10.1.1, 10.1.2) are no longer on npm.
    Pair("npm", "node-ipc", "9.2.1", "10.1.0", ""),
    Pair("npm", "lodash", "4.17.20", "4.17.21", ""),
    Pair("npm", "chalk", "4.1.1", "4.1.2", ""),
    Pair("npm", "debug", "4.3.3", "4.3.4", ""),
    Pair("npm", "semver", "7.5.3", "7.5.4", ""),
    Pair("npm", "minimist", "1.2.7", "1.2.8", ""),
    Pair("npm", "commander", "11.0.0", "11.1.0", ""),
    Pair("npm", "uuid", "9.0.0", "9.0.1", ""),
    Pair("npm", "express", "4.18.2", "4.18.3", ""),
    Pair("npm", "axios", "1.6.7", "1.6.8", ""),
    Pair("pypi", "requests", "2.31.0", "2.32.3", ""),
    Pair("pypi", "six", "1.15.0", "1.16.0", ""),
    Pair("pypi", "packaging", "23.2", "24.0", ""),
    Pair("pypi", "click", "8.1.6", "8.1.7", ""),
    Pair("pypi", "idna", "3.6", "3.7", ""),
    Pair("pypi", "attrs", "23.1.0", "23.2.0", ""),
)


def fetch(ecosystem: str, name: str, version: str) -> Path:
    directory = WORK / ecosystem / f"{name}-{version}"
    existing = sorted(directory.glob("*")) if directory.is_dir() else []
    if existing:
        return existing[0]
    directory.mkdir(parents=True, exist_ok=True)
    if ecosystem == "npm":
        command = [
            "npm",
            "pack",
            f"{name}@{version}",
            "--ignore-scripts",
            "--silent",
            "--pack-destination",
            str(directory),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "-d",
            str(directory),
            f"{name}=={version}",
        ]
    subprocess.run(command, check=True, cwd=directory, capture_output=True, timeout=300)
    return sorted(directory.glob("*"))[0]


def rebuild(path: Path) -> Path:
    """The same release packed again: other mtimes, shuffled member order, other level."""
    out = WORK / "rebuilt" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(path.name)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
            infos = source.infolist()
            rng.shuffle(infos)
            for info in infos:
                copy = zipfile.ZipInfo(info.filename, date_time=(2031, 2, 3, 4, 5, 6))
                copy.external_attr = info.external_attr
                copy.compress_type = zipfile.ZIP_DEFLATED
                target.writestr(copy, source.read(info), compresslevel=1)
        return out
    buffer = io.BytesIO()
    with tarfile.open(path, "r:gz") as source, tarfile.open(fileobj=buffer, mode="w") as target:
        members = source.getmembers()
        rng.shuffle(members)
        for member in members:
            data = source.extractfile(member) if member.isfile() else None
            member.mtime = 1_950_000_000
            target.addfile(member, data)
    out.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=1, mtime=1_950_000_000))
    return out


def timed(work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def diffoscope(a: Path, b: Path) -> tuple[str, float]:
    if not DIFFOSCOPE.exists():
        return "n/a", 0.0
    start = time.perf_counter()
    done = subprocess.run(
        [str(DIFFOSCOPE), "--no-progress", "--text", "/dev/null", str(a), str(b)],
        capture_output=True,
        timeout=1800,
        check=False,
    )
    seconds = time.perf_counter() - start
    verdict = {0: "identical", 1: "differ"}.get(done.returncode, f"error {done.returncode}")
    return verdict, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-diffoscope", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from finalexam import diff
    from finalexam.repro import compare_builds

    rows = []
    for pair in PAIRS:
        try:
            old = fetch(pair.ecosystem, pair.name, pair.old)
            new = fetch(pair.ecosystem, pair.name, pair.new)
        except (subprocess.SubprocessError, IndexError) as error:
            print(f"skip {pair.name} {pair.old}->{pair.new}: {error}", file=sys.stderr)
            continue
        result, seconds = timed(lambda old=old, new=new: diff(old, new))
        top = [f"{c.severity.value} {c.kind}" for c in result.changes if c.severity.rank >= 2][:4]
        rebuilt = rebuild(new)
        repro_pair, repro_s = timed(lambda old=old, new=new: compare_builds(old, new))
        repro_self, repro_self_s = timed(
            lambda new=new, rebuilt=rebuilt: compare_builds(new, rebuilt)
        )
        if args.no_diffoscope:
            ds_pair, ds_pair_s, ds_self, ds_self_s = "n/a", 0.0, "n/a", 0.0
        else:
            ds_pair, ds_pair_s = diffoscope(old, new)
            ds_self, ds_self_s = diffoscope(new, rebuilt)
        row = {
            "pair": f"{pair.ecosystem} {pair.name} {pair.old} → {pair.new}",
            "release": f"{pair.ecosystem} {pair.name} {pair.new}",
            "known": pair.known or "ordinary",
            "expected": "flag" if pair.known else "pass",
            "risk": result.risk,
            "flagged": result.flagged,
            "correct": result.flagged == bool(pair.known),
            "top": top,
            "files": sum(
                result.stats.get(k, 0) for k in ("files_added", "files_modified", "files_unchanged")
            ),
            "diff_s": round(seconds, 2),
            "repro_pair": repro_pair.verdict,
            "repro_pair_s": round(repro_s, 2),
            "diffoscope_pair": ds_pair,
            "diffoscope_pair_s": round(ds_pair_s, 2),
            "repro_rebuilt": repro_self.verdict,
            "repro_rebuilt_normalisations": list(repro_self.normalisations),
            "repro_rebuilt_s": round(repro_self_s, 2),
            "diffoscope_rebuilt": ds_self,
            "diffoscope_rebuilt_s": round(ds_self_s, 2),
        }
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "diff.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    correct = sum(r["correct"] for r in rows)
    print(f"{correct}/{len(rows)} pairs classified as expected", file=sys.stderr)
    (out / "diff.md").write_text(markdown(rows))
    return 0


def markdown(rows: list[dict[str, object]]) -> str:
    lines = [
        "| pair | publicly known | risk | flagged | as expected | top changes (medium+) | diff s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        top = "; ".join(str(t) for t in r["top"]) or "-"  # type: ignore[attr-defined]
        lines.append(
            f"| {r['pair']} | {r['known']} | {r['risk']} | {'yes' if r['flagged'] else 'no'} | "
            f"{'yes' if r['correct'] else '**no**'} | {top} | {r['diff_s']} |"
        )
    lines += [
        "",
        "| new release | repro vs rebuilt copy | normalisations | repro s | diffoscope | "
        "diffoscope s | repro s (old vs new) | diffoscope s (old vs new) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        norms = ", ".join(r["repro_rebuilt_normalisations"])  # type: ignore[arg-type]
        lines.append(
            f"| {r.get('release', r['pair'])}"
            f" | {r['repro_rebuilt']} | {norms} | {r['repro_rebuilt_s']} | "
            f"{r['diffoscope_rebuilt']} | {r['diffoscope_rebuilt_s']} | {r['repro_pair_s']} | "
            f"{r['diffoscope_pair_s']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    shutil.which("npm") or sys.exit("npm is needed to download npm releases")
    sys.exit(main())
