"""Secrets benchmark: precision, recall, F1 and MB/s of finalexam beside gitleaks,
detect-secrets and CredSweeper, all run on the same labelled tree.

    PYTHONPATH=src python bench/secrets/run.py            # build the set, run every tool
    PYTHONPATH=src python bench/secrets/run.py --tools finalexam

Inputs go to bench/.work/secrets/ (git-ignored):
- positives: every rule's match examples with the secret re-drawn shape for shape (upper,
  lower, digit kept; checksums recomputed; PEM keys freshly generated), one file each;
- binaries: C programs compiled with gcc with planted tokens, plus a .pyc of a planted module;
- hard negatives: popular PyPI wheels and npm tarballs (unpacked), where every finding is
  counted as a false positive.
"""

from __future__ import annotations

import argparse
import json
import os
import py_compile
import random
import resource
import shutil
import string
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "secrets"
TREE = WORK / "tree"
PEERS = Path(os.environ.get("PEERS_BIN", "/opt/peers/bin"))
PYPI = ["requests", "django", "botocore", "flask", "pyjwt", "paramiko", "urllib3", "sqlalchemy"]
NPM = ["express", "lodash", "jsonwebtoken", "axios", "moment", "dotenv"]

sys.path.insert(0, str(ROOT / "src"))
from finalexam.analyze.secrets.rules import RULES_DIR, load_rules  # noqa: E402
from finalexam.analyze.secrets.scan import example_path  # noqa: E402
from finalexam.analyze.secrets.validate import base62_encode, is_placeholder  # noqa: E402

RNG = random.Random(20261126)


def redraw(secret: str, keep: int) -> str:
    """Same shape, new characters: the provider prefix and character classes are kept."""
    out = [secret[:keep]]
    hexy = all(c in string.hexdigits + "-." for c in secret[keep:])
    for c in secret[keep:]:
        if hexy and c in "abcdef":
            out.append(RNG.choice("abcdef"))
        elif hexy and c in "ABCDEF":
            out.append(RNG.choice("ABCDEF"))
        elif hexy and c.isdigit():
            out.append(RNG.choice(string.digits))
        elif c.isdigit():
            out.append(RNG.choice("234567"))
        elif c.isupper():
            out.append(RNG.choice(string.ascii_uppercase))
        elif c.islower():
            out.append(RNG.choice(string.ascii_lowercase))
        else:
            out.append(c)
    text = "".join(out)
    for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"):
        if secret.startswith(prefix):
            text = secret[:4] + text[4:34]
            text += base62_encode(zlib.crc32(text[4:34].encode()))
    return text


def positives() -> list[tuple[str, bytes, str]]:
    """(relative path, content, secret) for every re-drawn match example."""
    out: list[tuple[str, bytes, str]] = []
    for rule in load_rules(RULES_DIR):
        as_written = rule.example_encoding != "utf-8" or rule.validator in (
            "pem",
            "pgp",
            "putty",
            "pypi",
            "jwt",
            "gcp-service-account",
        )  # structured values are used as written (keys, macaroons, JWTs, keystores)
        secrets = []
        for example in rule.examples_match:
            found = rule.regex.search(example.encode(rule.example_encoding))
            secrets.append(found.group("secret").decode("latin-1") if found else "")
        keep = len(os.path.commonprefix(secrets)) if len(secrets) > 1 else 0  # noqa: RUF071
        for index, example in enumerate(rule.examples_match):
            data = example.encode(rule.example_encoding)
            match = rule.regex.search(data)
            if match is None:
                continue
            secret = match.group("secret").decode("latin-1")
            if not as_written:
                for _ in range(20):
                    new = redraw(secret, keep)
                    if not is_placeholder(new):
                        break
                example = example.replace(secret, new)
                secret = new
                data = example.encode(rule.example_encoding)
            path = example_path(rule)
            name = path.rsplit("/", 1)[-1]
            out.append((f"positives/{rule.id}-{index}/{name}", data, secret))
    return out


C_TEMPLATE = "#include <stdio.h>\n%s\nint main(void) { %s return 0; }\n"


def binaries(items: list[tuple[str, bytes, str]]) -> list[tuple[str, bytes, list[str]]]:
    """ELF programs with 4 planted single-line secrets each, and one .pyc with 4."""
    if shutil.which("gcc") is None:
        return []
    # Only self-identifying tokens: a bare password in a binary has no context to find it by.
    from finalexam.analyze.secrets.scan import scan_bytes

    single = [
        s
        for _, _, s in items
        if "\n" not in s
        and '"' not in s
        and "\\" not in s
        and len(s) < 300
        and any(h.secret == s for h in scan_bytes(s.encode(), "x.bin", binary=True))
    ]
    RNG.shuffle(single)
    single = single[:80]
    out: list[tuple[str, bytes, list[str]]] = []
    build = WORK / "build"
    build.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(single), 4):
        group = single[n : n + 4]
        decls = "\n".join(f'static const char *s{i} = "{s}";' for i, s in enumerate(group))
        uses = " ".join(f"puts(s{i});" for i in range(len(group)))
        source = build / f"prog{n}.c"
        source.write_text(C_TEMPLATE % (decls, uses))
        target = build / f"prog{n}"
        subprocess.run(["gcc", "-O2", "-o", str(target), str(source)], check=True)
        out.append((f"binaries/prog{n}", target.read_bytes(), group))
    group = single[:4]
    module = build / "planted.py"
    module.write_text("".join(f"VALUE_{i} = {s!r}\n" for i, s in enumerate(group)))
    compiled = py_compile.compile(str(module), cfile=str(build / "planted.pyc"))
    out.append(("binaries/planted.pyc", Path(compiled).read_bytes(), group))
    return out


def fetch_negatives() -> None:
    dl = WORK / "dl"
    (dl / "pypi").mkdir(parents=True, exist_ok=True)
    (dl / "npm").mkdir(parents=True, exist_ok=True)
    if not any((dl / "pypi").iterdir()):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(dl / "pypi"),
                *PYPI,
            ],
            check=True,
        )
    if not any((dl / "npm").iterdir()):
        for name in NPM:
            subprocess.run(
                ["npm", "pack", "-q", name], cwd=dl / "npm", check=True, capture_output=True
            )
    for wheel in sorted((dl / "pypi").glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(TREE / "negatives" / "pypi" / wheel.name.split("-")[0])
    for tgz in sorted((dl / "npm").glob("*.tgz")):
        with tarfile.open(tgz) as archive:
            archive.extractall(
                TREE / "negatives" / "npm" / tgz.name.rsplit("-", 1)[0], filter="data"
            )


def build() -> dict[str, list[str]]:
    if TREE.exists():
        shutil.rmtree(TREE)
    truth: dict[str, list[str]] = {}
    items = positives()
    for rel, data, secret in items:
        target = TREE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        truth[rel] = [secret]
    for rel, data, group in binaries(items):
        target = TREE / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        truth[rel] = group
    fetch_negatives()
    (WORK / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True))
    return truth


# ------------------------------------------------------------------ running one tool

_PEAK = {"threads": 0}


def _tree_threads(root: int) -> int:
    """OS threads of ``root`` and every process below it (worker pools included)."""
    parents: dict[int, int] = {}
    threads: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        threads[int(entry.name)] = int(fields[17])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += threads.get(pid, 0)
        stack.extend(child for child, parent in parents.items() if parent == pid)
    return total


def _spawn(command: list[str], env: dict[str, str] | None = None) -> None:
    """Run a tool to completion, sampling the peak number of threads it runs."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while process.poll() is None:
        _PEAK["threads"] = max(_PEAK["threads"], _tree_threads(process.pid))
        time.sleep(0.25)


# ------------------------------------------------------------------ tools -> {file: n_found}


def _rel(path: str) -> str:
    text = path.replace("\\", "/")
    marker = "/tree/"
    return text.split(marker, 1)[1] if marker in text else text.removeprefix("tree/")


# Sources of an earlier finalexam to run beside this one (--before-src), e.g. extracted with
# `git archive COMMIT src | tar -x -C DIR`; "finalexam-before*" rows run it.
BEFORE: dict[str, Path] = {}
# Every plug-in but the secret scan: the same exam as `--only secrets`, for code without it.
NOT_SECRETS = (
    "binary,yara,behavior,indicators,typosquat,vulnerabilities,python,npm,java,dotnet,dpkg,"
    "apk,rpm,declared,conda,sbom-input,dotnet-pe,golang,jsbundle,native,rust"
)


def _finalexam_env(src: Path = ROOT / "src") -> dict[str, str]:
    # Byte-compiled modules, as an installed package has them (pip compiles on install): kept
    # under bench/.work rather than beside the sources.
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / "pycache")
    env["FINALEXAM_CONFIG"] = os.devnull  # no config file from the working directory
    return env


def warm_up(src: Path = ROOT / "src") -> None:
    """One small scan first: byte-compiles the modules and caches the Hyperscan databases
    (both once per installation), so the timed runs measure scanning, not installing."""
    subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(TREE / "binaries"), "-o", "json"],
        env=_finalexam_env(src),
        check=False,
        capture_output=True,
    )


def run_finalexam(out: Path, *options: str, src: Path = ROOT / "src") -> dict[str, set[str]]:
    _spawn(
        [sys.executable, "-m", "finalexam", "scan", str(TREE), "-o", f"json={out}", *options],
        env=_finalexam_env(src),
    )
    found: dict[str, set[str]] = {}
    for finding in json.loads(out.read_text())["findings"]:
        if finding["kind"] != "secret":
            continue
        location = finding["location"].split("!/")
        rel = "/".join(location[1:]) if len(location) > 1 else location[0]
        evidence = finding["evidence"]
        found.setdefault(rel, set()).add(str(evidence.get("line", evidence.get("secret_sha256"))))
    return found


def run_gitleaks(out: Path, *options: str) -> dict[str, set[str]]:
    _spawn(
        [
            str(PEERS / "gitleaks"),
            "dir",
            str(TREE),
            "--report-format",
            "json",
            "--report-path",
            str(out),
            "--no-banner",
            "--exit-code",
            "0",
            "--log-level",
            "error",
            *options,
        ]
    )
    found: dict[str, set[str]] = {}
    for item in json.loads(out.read_text() or "[]"):
        found.setdefault(_rel(item["File"].split("!")[0]), set()).add(str(item["StartLine"]))
    return found


def run_detect_secrets(out: Path) -> dict[str, set[str]]:
    result = subprocess.run(
        [str(PEERS / "detect-secrets"), "scan", "--all-files", "."],
        cwd=TREE,
        check=False,
        capture_output=True,
        text=True,
    )
    out.write_text(result.stdout)
    found: dict[str, set[str]] = {}
    for rel, items in json.loads(result.stdout or "{}").get("results", {}).items():
        for item in items:
            found.setdefault(_rel(rel), set()).add(str(item["line_number"]))
    return found


def run_credsweeper(out: Path) -> dict[str, set[str]]:
    subprocess.run(
        [
            str(PEERS / "credsweeper"),
            "--path",
            str(TREE),
            "--save-json",
            str(out),
            "--log",
            "error",
        ],
        check=False,
        capture_output=True,
    )
    found: dict[str, set[str]] = {}
    for item in json.loads(out.read_text() or "[]"):
        for line in item.get("line_data_list", []):
            found.setdefault(_rel(line["path"]), set()).add(str(line.get("line_num")))
    return found


TOOLS: dict[str, Callable[[Path], dict[str, set[str]]]] = {
    "finalexam": run_finalexam,
    "finalexam-j0": lambda out: run_finalexam(out, "--jobs", "0"),
    "finalexam-secrets": lambda out: run_finalexam(out, "--only", "secrets"),
    "finalexam-secrets-j0": lambda out: run_finalexam(out, "--only", "secrets", "--jobs", "0"),
    "finalexam-before": lambda out: run_finalexam(out, src=BEFORE["src"]),
    "finalexam-before-secrets": lambda out: run_finalexam(
        out, "--disable", NOT_SECRETS, src=BEFORE["src"]
    ),
    "gitleaks": run_gitleaks,
    # gitleaks into archives as well (finalexam always opens them): botocore's .json.gz.
    "gitleaks-archives": lambda out: run_gitleaks(out, "--max-archive-depth", "4"),
    "detect-secrets": run_detect_secrets,
    "credsweeper": run_credsweeper,
}


def score(truth: dict[str, list[str]], found: dict[str, set[str]]) -> dict[str, float]:
    """Per file: up to len(truth) distinct findings are true positives, the rest false."""
    tp = fp = 0
    tp_bin = 0
    for rel, hits in found.items():
        planted = len(truth.get(rel, []))
        tp += min(planted, len(hits))
        fp += max(0, len(hits) - planted)
        if rel.startswith("binaries/"):
            tp_bin += min(planted, len(hits))
    total = sum(len(v) for v in truth.values())
    total_bin = sum(len(v) for k, v in truth.items() if k.startswith("binaries/"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "tp": tp,
        "fp": fp,
        "fn": total - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "binary_recall": tp_bin / total_bin if total_bin else 0.0,
    }


def tree_bytes() -> int:
    return sum(p.stat().st_size for p in TREE.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--reuse", action="store_true", help="keep an existing tree")
    parser.add_argument("--tag", default="", help="suffix for output files (parallel runs)")
    parser.add_argument("--before-src", type=Path, help="an earlier finalexam's src directory")
    args = parser.parse_args()
    if args.before_src:
        BEFORE["src"] = args.before_src.resolve()
    truth = (
        json.loads((WORK / "truth.json").read_text()) if args.reuse and TREE.exists() else build()
    )
    size = tree_bytes()
    files = sum(1 for p in TREE.rglob("*") if p.is_file())
    rows = []
    names = args.tools.split(",")
    if any(name.startswith("finalexam") for name in names):
        warm_up()
    if "src" in BEFORE:
        warm_up(BEFORE["src"])
    for name in names:
        _PEAK["threads"] = 0
        out = WORK / f"{name}{args.tag}.json"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        found = TOOLS[name](out)
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        row = {
            "tool": name,
            "seconds": round(seconds, 2),
            "mb_per_s": round(size / 1e6 / seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "mb_per_cpu_s": round(size / 1e6 / cpu, 2) if cpu else 0.0,
            "cores_used": round(cpu / seconds, 2),
            "peak_threads": _PEAK["threads"],
            **score(truth, found),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    (WORK / f"results{args.tag}.json").write_text(
        json.dumps(
            {
                "bytes": size,
                "files": files,
                "planted": sum(len(v) for v in truth.values()),
                "rows": rows,
            },
            indent=1,
        )
    )
    print(
        f"\n{files} files, {size / 1e6:.1f} MB, "
        f"{sum(len(v) for v in truth.values())} planted secrets\n"
    )
    print(
        "| tool | precision | recall | F1 | recall in binaries | TP | FP | FN "
        "| wall s | MB/s wall | CPU s | MB/CPU-s | CPU/wall | peak threads |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['tool']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
            f"| {r['binary_recall']:.3f} | {r['tp']} | {r['fp']} | {r['fn']} "
            f"| {r['seconds']} | {r['mb_per_s']} | {r['cpu_seconds']} | {r['mb_per_cpu_s']} "
            f"| {r['cores_used']} | {r['peak_threads']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
