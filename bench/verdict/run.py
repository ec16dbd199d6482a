"""Verdict benchmark: the default exam (``finalexam scan ARTIFACT``, no flags) on honest
popular releases and on real malware; PASSED / FAILED / INCOMPLETE and, for every failure,
the findings that blocked.

Inputs: the honest corpus fetched by ``fetch.py`` into bench/.work/verdict/, the malware sets
of ``../shared/data/malware/`` (read only, never copied), and a vulnerability database
built from the shared OSV exports (``finalexam db update --source ../shared/data/osv``).

The honest corpus is split by family (the first word of the package name) into a dev part,
the one rules may be tuned on, and a held-out part, only ever reported: the split is a hash,
fixed before any tuning. The blind parts (``*-fresh`` to ``*-fresh6``) are new
families fetched after the corpus before them had been examined and tuned on (fetch.py).

    python bench/verdict/run.py [--sets pypi,npm,debian,jars,images,malware-pypi,...]
                                [--jobs 2] [--rerun-failed] [--resume] [--limit N] [--timeout S]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from families import family

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "verdict"
OUT = ROOT / "bench" / "out" / "verdict"
MALWARE = Path(os.environ.get("FINALEXAM_MALWARE", ROOT / ".." / "shared" / "data" / "malware"))
OSV = Path(os.environ.get("FINALEXAM_OSV", ROOT / ".." / "shared" / "data" / "osv"))
DB = OUT / "osv.sqlite3"
# blind parts, in the order they were fetched (fetch.py)
BLIND = (
    "fresh",
    "fresh2",
    "fresh3",
    "fresh4",
    "fresh5",
    "fresh6",
    "fresh7",
    "fresh8",
    "fresh9",
    "fresh10",
    "fresh11",
    "fresh12",
    "fresh13",
    "fresh14",
    "fresh15",
    "fresh16",
    "fresh17",
    "fresh18",
    "fresh19",
    "fresh20",
    "fresh21",
    "fresh22",
    "fresh23",
)
HONEST = (
    "pypi", "npm", "debian", "jars", "images",
    *(f"{kind}-{blind}" for blind in BLIND for kind in ("pypi", "npm", "debian")),
)  # fmt: skip
MALICIOUS = ("malware-pypi", "malware-npm", "malware-binaries")
OUTCOME = {0: "passed", 1: "failed", 3: "incomplete"}
SOURCE: Path | None = None


@dataclass(frozen=True)
class Item:
    set: str
    name: str  # the package (several artifacts of one release share it)
    path: Path
    split: str  # dev, held-out, a blind part (fresh to fresh8), images or malware

    @property
    def key(self) -> str:
        return f"{self.set}/{self.path.name}"


def split_of(name: str, folder: str) -> str:
    """One third of the families are held out, chosen by a hash of the family; the fresh
    sets (fetched after the first corpus was tuned on, new families only) are all blind."""
    blind = folder.partition("-")[2]
    if blind in BLIND:
        return blind
    digest = hashlib.sha256(family(name).encode()).digest()
    return "held-out" if digest[0] % 3 == 0 else "dev"


def honest_items(name: str) -> list[Item]:
    base = WORK / name
    items: list[Item] = []
    kind = name.partition("-")[0]
    if kind in ("pypi", "npm"):
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            package = folder.name.replace("__", "/")
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                items.append(Item(name, package, path, split_of(package, name)))
    elif kind == "debian":
        for path in sorted(base.glob("*.deb")):
            package = path.name.split("_")[0]
            items.append(Item(name, package, path, split_of(package, name)))
    elif name == "jars":
        for path in sorted(base.glob("*.jar")):
            package = path.stem.rsplit("-", 1)[0] if path.stem[-1].isdigit() else path.stem
            items.append(Item(name, package, path, split_of(package, name)))
    elif name == "images":
        # images are reported apart: every Debian-based image must pass
        items = [Item(name, p.stem, p, "images") for p in sorted(base.glob("*.tar"))]
    return items


_NATIVE_MEMBER = re.compile(r"\.(?:so(?:\.[\d.]+)?|dll|exe|dylib|node|pyd|wasm)$|(?:^|/)bin/[^/]+$")


def may_carry_native_code(item: Item) -> bool:
    """OS packages, images and binaries; wheels, sdists and npm packages with a compiled
    member (a shared library, an executable, a Node.js addon, WebAssembly) in their listing."""
    kind = item.set.partition("-")[0]
    if kind in ("debian", "images", "jars") or item.set == "malware-binaries":
        return True
    try:
        if item.path.name.endswith(".whl"):
            with zipfile.ZipFile(item.path) as archive:
                names = archive.namelist()
        else:
            with tarfile.open(item.path) as archive:
                names = archive.getnames()
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return True  # unreadable here: examine it again
    return any(_NATIVE_MEMBER.search(name) for name in names)


def malware_items(name: str) -> list[Item]:
    folder = MALWARE / name.removeprefix("malware-")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".md"))
    return [Item(name, p.name, p, "malware") for p in files if p.name != "INDEX.tsv"]


def _finish(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float, bool]:
    """Wait for an exam: its exit code, the CPU seconds it used, and whether it had to be
    stopped. One that runs past ``timeout`` wall-clock seconds gets SIGABRT first, so that
    Python's fault handler writes where every thread stands to its stderr, then SIGKILL."""
    started = time.monotonic()
    stopped = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage.ru_utime + usage.ru_stime, stopped
        waited = time.monotonic() - started
        if not stopped and waited > timeout:
            stopped = True
            os.killpg(process.pid, signal.SIGABRT)
        elif stopped and waited > timeout + 30:
            os.killpg(process.pid, signal.SIGKILL)
        time.sleep(0.2)


def exam(item: Item, timeout: float) -> dict[str, Any]:
    """One default exam, as a user runs it: ``finalexam scan ARTIFACT -o json=FILE`` in a
    process of its own (the exam's own time budgets and supervised parsers work as they do
    for a user; a crash or a hang is this artifact's result, never the run's end)."""
    report_path = OUT / "reports" / (item.key.replace("/", "__") + ".json")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.unlink(missing_ok=True)
    env = {**os.environ, "FINALEXAM_DB": str(DB), "PYTHONFAULTHANDLER": "1"}
    if SOURCE:
        env["PYTHONPATH"] = str(SOURCE)
    command = [sys.executable, "-m", "finalexam", "scan", str(item.path)]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [*command, "-o", f"json={report_path}"],
            stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True,
        )  # fmt: skip
        code, cpu, stopped = _finish(process, timeout)
        stderr.seek(0)
        errors = stderr.read().decode("utf-8", "replace").strip()
    result: dict[str, Any] = {
        **{k: str(v) for k, v in asdict(item).items()},
        "key": item.key,
        "exit": code,
        "outcome": OUTCOME.get(code, "error"),
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(cpu, 2),
        "size": item.path.stat().st_size,
    }
    if stopped:
        result["outcome"] = "error"
        result["error"] = f"no verdict after {timeout:g} s; where it stood:\n{errors[-4000:]}"
        return result
    if code not in OUTCOME:
        result["error"] = errors[-2000:]
        return result
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        result["error"] = f"no report: {error}; {errors[-300:]}"
        return result
    by_fingerprint = {f["fingerprint"]: f for f in report.get("findings", [])}
    blocking = []
    for violation in report["verdict"]["violations"]:
        finding = by_fingerprint.get(violation.get("fingerprint", ""), {})
        blocking.append(
            {
                "rule": violation["rule"],
                "finding": finding.get("rule_id", ""),
                "severity": finding.get("severity", ""),
                "confidence": finding.get("confidence", ""),
                "context": finding.get("context", ""),
                "location": finding.get("location", ""),
                "message": violation["message"][:300],
            }
        )
    result["blocking"] = blocking
    # every secret reported, blocking or not, by rule, confidence and context: what the
    # policy's confidence and context thresholds would do on honest releases
    result["secrets"] = dict(
        Counter(
            f"{f.get('rule_id')}|{f.get('confidence')}|{f.get('context')}"
            for f in report.get("findings", [])
            if f.get("kind") == "secret"
        )
    )
    result["incomplete_because"] = [
        f"{i.get('stage')}: {i.get('location', '')}: {i.get('message', '')}"[:300]
        for i in report.get("issues", [])
        if i.get("gap", True)  # notes left nothing unexamined
    ][:5] if code == 3 else []  # fmt: skip
    report_path.unlink()  # reports of big images are large; the summary keeps what matters
    return result


def wrong(result: dict[str, Any]) -> bool:
    honest = result["split"] != "malware"
    return (result["outcome"] != "passed") if honest else (result["outcome"] == "passed")


def only_advisories(result: dict[str, Any]) -> bool:
    blocking = result.get("blocking", [])
    return (
        result["outcome"] == "failed"
        and bool(blocking)
        and all(b["rule"] == "fixable-vulnerability" for b in blocking)
    )


def summarise(results: list[dict[str, Any]]) -> str:
    # "only advisories": failed by a fixable vulnerability and nothing else, a component the
    # release really ships at a version an advisory names; what remains are the detectors'
    lines = ["| part | artifacts | passed | failed | of which only advisories | incomplete "
             "| error | pass % | pass % but for advisories |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    groups: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        honest = result["split"] != "malware"
        part = f"{result['split']} ({'honest' if honest else result['set']})"
        groups.setdefault(part, []).append(result)
        if honest and result["split"] != "images":
            groups.setdefault(f"{result['set']} (honest, all)", []).append(result)
    for part in sorted(groups):
        counts = Counter(r["outcome"] for r in groups[part])
        total = len(groups[part])
        advisories = sum(1 for r in groups[part] if only_advisories(r))
        rate = 100.0 * counts["passed"] / total if total else 0.0
        but = f"{100.0 * (counts['passed'] + advisories) / total:.1f}" if total else "-"
        if part.startswith("malware"):
            but = "-"
        lines.append(
            f"| {part} | {total} | {counts['passed']} | {counts['failed']} | {advisories} | "
            f"{counts['incomplete']} | {counts['error']} | {rate:.1f} | {but} |"
        )
    lines.append("")
    causes: Counter[str] = Counter()
    for result in results:
        if result["split"] != "malware" and result["outcome"] == "failed":
            for finding in {
                b["finding"].split("-")[0] + "-*"
                if b["finding"].startswith(("generic-", "GO-", "GHSA-", "RUSTSEC-", "PYSEC-"))
                else b["finding"]
                for b in result.get("blocking", [])
            }:
                causes[finding] += 1
    lines.append("Honest failures by blocking finding (an artifact counts once per finding):")
    lines.extend(f"- {name}: {count}" for name, count in causes.most_common())
    lines.append("")
    # The secret rules are tuned elsewhere (bench/secrets): what else keeps honest releases out
    others = [
        r
        for r in results
        if r["split"] != "malware"
        and r["outcome"] != "passed"
        and (r["outcome"] != "failed" or any(b["rule"] != "secrets" for b in r.get("blocking", [])))
    ]
    honest = sum(1 for r in results if r["split"] != "malware")
    lines.append(
        f"Honest releases kept out by something other than a secret: {len(others)} of {honest}"
    )
    for result in sorted(others, key=lambda r: r["key"]):
        found = sorted({b["finding"] for b in result.get("blocking", []) if b["rule"] != "secrets"})
        lines.append(
            f"- {result['key']} [{result['split']}] {result['outcome']}: {', '.join(found)}"
        )
    lines.append("")
    lines.append("Honest releases that did not pass (the findings that blocked):")
    for result in sorted(results, key=lambda r: r["key"]):
        if result["split"] == "malware" or result["outcome"] == "passed":
            continue
        lines.append(f"- {result['key']} [{result['split']}] {result['outcome']}")
        for block in result.get("blocking", [])[:6]:
            lines.append(
                f"    - {block['rule']}: {block['finding']} {block['severity']} "
                f"{block['context']} at {block['location']}"
            )
        for reason in result.get("incomplete_because", []):
            lines.append(f"    - issue: {reason}")
        if result.get("error"):
            lines.append(f"    - error: {result['error'][:200]}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(HONEST + MALICIOUS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="go on with an interrupted run: keep what its progress.jsonl holds",
    )
    parser.add_argument("--match", help="only the artifacts whose key (set/file) has this text")
    parser.add_argument(
        "--native",
        action="store_true",
        help="only the artifacts that carry compiled code (OS packages, images, jars, wheels "
        "and packages with a binary member, binaries): again after a binary analyzer change",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3600.0,
        help="wall-clock seconds one exam may take before it is stopped and reported with "
        "where it stood (default 3600: the machine may be shared)",
    )
    parser.add_argument(
        "--summary", action="store_true", help="only print the summary of the last results"
    )
    parser.add_argument("--out", type=Path, help="results folder (default bench/out/verdict)")
    parser.add_argument(
        "--src",
        type=Path,
        help="examine with the finalexam sources in this folder (e.g. `git archive HEAD src`)",
    )
    parser.add_argument(
        "--rerun-failed",
        action="store_true",
        help="examine again only what was wrong last time (an honest release that did not "
        "pass, malware that passed); keep the other results (as --match does)",
    )
    args = parser.parse_args()
    global SOURCE, OUT, DB
    SOURCE = args.src.resolve() if args.src else None
    OUT = args.out.resolve() if args.out else ROOT / "bench" / "out" / "verdict"
    DB = OUT / "osv.sqlite3"  # each results folder has the database of its code
    OUT.mkdir(parents=True, exist_ok=True)
    if args.summary:
        print(summarise(json.loads((OUT / "results.json").read_text())))
        return 0
    # built by the code under test (its schema), from the shared OSV exports: a few seconds
    DB.unlink(missing_ok=True)
    env = {**os.environ, **({"PYTHONPATH": str(SOURCE)} if SOURCE else {})}
    subprocess.run(
        [sys.executable, "-m", "finalexam", "db", "update", "--source", str(OSV), "--db", str(DB)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    items: list[Item] = []
    for name in args.sets.split(","):
        chosen = malware_items(name) if name in MALICIOUS else honest_items(name)
        items.extend(chosen[: args.limit] if args.limit else chosen)
    if args.match:
        items = [i for i in items if args.match in i.key]
    if args.native:
        items = [i for i in items if may_carry_native_code(i)]
    results_path = OUT / "results.json"
    previous: dict[str, dict[str, Any]] = {}
    if (args.rerun_failed or args.match or args.native or args.resume) and results_path.exists():
        previous = {r["key"]: r for r in json.loads(results_path.read_text())}
    if args.rerun_failed:
        items = [i for i in items if i.key not in previous or wrong(previous[i.key])]
    progress_path = OUT / "progress.jsonl"
    fresh = []
    if args.resume and progress_path.exists():
        # an interrupted run: what it finished counts, the rest is examined now
        fresh = [json.loads(line) for line in progress_path.read_text().splitlines() if line]
        finished = {r["key"] for r in fresh}
        items = [i for i in items if i.key not in finished]
    progress = progress_path.open("a" if args.resume else "w")
    # threads only wait: each exam is a process of its own
    with ThreadPoolExecutor(args.jobs) as pool:
        for done in as_completed([pool.submit(exam, item, args.timeout) for item in items]):
            result = done.result()
            fresh.append(result)
            progress.write(json.dumps(result) + "\n")
            progress.flush()
    merged = {**previous, **{r["key"]: r for r in fresh}}
    results = sorted(merged.values(), key=lambda r: r["key"])
    results_path.write_text(json.dumps(results, indent=1))
    text = summarise(results)
    (OUT / "summary.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
