"""Benchmark: hardening verdicts vs. independent references, and capabilities/time vs. capa.

Inputs (downloaded into bench/.work/binary, never committed, never executed):
- Debian packages (``apt-get download``), unpacked with ``dpkg-deb -x``: every ELF inside;
  reference: ``hardening-check`` (devscripts) for PIE, stack protector, FORTIFY, RELRO, BIND_NOW.
- Windows wheels from PyPI (``pip download --platform win_amd64``): every PE inside;
  reference: ``pefile`` flags (DYNAMIC_BASE and relocations, HIGH_ENTROPY_VA, NX_COMPAT,
  GUARD_CF, SafeSEH/NO_SEH for x86).
- capa (``/opt/peers/bin/capa``) on a sample of both: time per binary and capability overlap.

Usage: PYTHONPATH=src python bench/binary/run.py [--capa-sample N]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pefile

from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.config import Config
from finalexam.model import FileEntry, Location
from finalexam.unpack.filetype import detect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common.fetch import (  # noqa: E402
    ELF_MAGIC,
    apt_download,
    extract_members,
    magic,
    pip_download,
    unpack_deb,
)

WORK = ROOT / "bench" / ".work" / "binary"
DEBIAN = [
    "coreutils",
    "openssh-client",
    "curl",
    "libcurl4",
    "busybox",
    "procps",
    "libssl3",
    "nginx-core",
    "gdb-minimal",
    "strace",
    "tar",
    "zstd",
    "sudo",
    "wget",
]
WHEELS = [
    "psutil",
    "cffi",
    "pywin32",
    "pyyaml",
    "markupsafe",
    "charset-normalizer",
    "pillow",
    "lxml",
    "pyzmq",
    "cryptography",
    "onnxruntime",  # Microsoft-signed DLLs: real Authenticode
]
CAPA = Path("/opt/peers/bin/capa")
CAPA_TIMEOUT = 600
CAPA_RULES = Path("/opt/peers/capa-rules")
CAPA_SIGS = Path("/opt/peers/capa-sigs")
# capa rule namespaces (prefixes) that correspond to a finalexam capability.
CAPA_MAP = {
    "communication/http/client": "network-client",
    "communication/socket/tcp/send": "network-client",
    "communication/socket/connect": "network-client",
    "communication/tcp/client": "network-client",
    "communication/tcp/serve": "network-server",
    "communication/socket/listen": "network-server",
    "communication/dns": "dns-resolution",
    "host-interaction/process/create": "process-creation",
    "linking/runtime-linking": "dynamic-loading",
    "host-interaction/process/inject": "process-injection",
    "collection/keylog": "keylogging",
    "collection/screenshot": "screen-capture",
    "anti-analysis/anti-debugging": "anti-debug",
    "anti-analysis/anti-vm": "anti-vm",
    "host-interaction/process/modify": "token-manipulation",
    "host-interaction/session": "token-manipulation",
    "persistence/registry": "registry-persistence",
    "persistence/service": "service-persistence",
    "persistence/scheduled-tasks": "service-persistence",
    "data-manipulation/encryption": "crypto",
    "data-manipulation/compression": "compression",
    "impact/wipe-disk": "disk-wiping",
    "impact/inhibit-system-recovery": "disk-wiping",
}


def fetch_debian() -> list[Path]:
    debs = apt_download(DEBIAN, WORK / "debs")
    for deb in sorted(p for p in debs.values() if p):
        unpack_deb(deb, WORK / "debian" / deb.name.split("_")[0])
    return [p for p in sorted((WORK / "debian").rglob("*")) if magic(p) == ELF_MAGIC]


def fetch_wheels() -> list[Path]:
    tree = WORK / "windows"
    for name in WHEELS:
        for wheel in pip_download(name, WORK / "wheels", ["win_amd64"]):
            extract_members(wheel, tree / wheel.stem, (b"MZ",))
    return [p for p in sorted(tree.rglob("*")) if magic(p)[:2] == b"MZ"]


def hardening_check(path: Path) -> dict[str, str]:
    out = subprocess.run(["hardening-check", str(path)], capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, v in re.findall(r"^ ([^:]+):\s*(.*)$", out, re.MULTILINE)}


def elf_agreement(path: Path, ours: dict[str, Any], stats: Counter[str], notes: list[str]) -> None:
    ref = hardening_check(path)
    pairs = {
        "pie": (ours.get("pie"), _ref_pie(ref.get("Position Independent Executable", ""))),
        "canary": (ours.get("canary"), ref.get("Stack protected", "").startswith("yes")),
        "fortify": (ours.get("fortify"), ref.get("Fortify Source functions", "").startswith("yes")),
        "relro": (
            ours.get("relro", "none") != "none",
            ref.get("Read-only relocations", "").startswith("yes"),
        ),
        "bind_now": (
            ours.get("relro") == "full",
            ref.get("Immediate binding", "").startswith("yes"),
        ),
    }
    for key, (mine, theirs) in pairs.items():
        if theirs is None:
            continue  # the reference ignores it (e.g. PIE of a shared library)
        stats[f"elf.{key}.total"] += 1
        if bool(mine) == theirs:
            stats[f"elf.{key}.agree"] += 1
        else:
            notes.append(f"{path.relative_to(WORK)}: {key} ours={mine} hardening-check={theirs}")


def _ref_pie(text: str) -> bool | None:
    if "ignored" in text:
        return None
    return text.startswith("yes")


def pe_reference(path: Path) -> dict[str, bool]:
    pe = pefile.PE(str(path), fast_load=True)
    pe.parse_data_directories(
        directories=[pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_LOAD_CONFIG"]]
    )
    flags = pe.OPTIONAL_HEADER.DllCharacteristics
    aslr = bool(flags & 0x40) and not pe.FILE_HEADER.Characteristics & 0x1
    out = {
        "aslr": aslr,
        "dep": bool(flags & 0x100),
        "cfg": bool(flags & 0x4000),
        "force_integrity": bool(flags & 0x80),
    }
    if pe.OPTIONAL_HEADER.Magic == 0x20B:
        out["high_entropy_va"] = aslr and bool(flags & 0x20)
    config = getattr(pe, "DIRECTORY_ENTRY_LOAD_CONFIG", None)
    if config is not None:
        out["gs"] = bool(getattr(config.struct, "SecurityCookie", 0))
    else:
        out["gs"] = False
    return out


def pe_agreement(path: Path, ours: dict[str, Any], stats: Counter[str], notes: list[str]) -> None:
    for key, theirs in pe_reference(path).items():
        if key not in ours:
            continue
        stats[f"pe.{key}.total"] += 1
        if ours[key] is theirs:
            stats[f"pe.{key}.agree"] += 1
        else:
            notes.append(f"{path.relative_to(WORK)}: {key} ours={ours[key]} pefile={theirs}")


def osslsigncode_digest(path: Path) -> str | None:
    """The Authenticode digest osslsigncode calculates (independent implementation)."""
    out = subprocess.run(
        ["osslsigncode", "verify", "-in", str(path)], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"Calculated message digest\s*:\s*([0-9A-Fa-f]+)", out)
    return found.group(1).lower() if found else None


def run_capa(path: Path) -> tuple[set[str], float, str]:
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [str(CAPA), "-q", "-j", "-r", str(CAPA_RULES), "-s", str(CAPA_SIGS), str(path)],
            capture_output=True,
            text=True,
            timeout=CAPA_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return set(), time.perf_counter() - start, f"timed out after {CAPA_TIMEOUT} s"
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        return set(), seconds, result.stderr.strip().splitlines()[-1:][0] if result.stderr else "?"
    document = json.loads(result.stdout)
    mapped = set()
    for rule in document.get("rules", {}).values():
        namespace = rule.get("meta", {}).get("namespace") or ""
        for prefix, capability in CAPA_MAP.items():
            if namespace.startswith(prefix):
                mapped.add(capability)
    return mapped, seconds, ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--capa-sample", type=int, default=4, help="binaries per format for capa")
    parser.add_argument(
        "--capa-max-size", type=int, default=3_000_000, help="largest binary given to capa"
    )
    args = parser.parse_args()
    elves, pes = fetch_debian(), fetch_wheels()
    stats: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    notes: list[str] = []
    ours_caps: dict[Path, set[str]] = {}
    times: dict[Path, float] = {}
    issues = 0
    analyzer = BinaryAnalyzer(Config())
    for path in elves + pes:
        data = path.read_bytes()
        entry = FileEntry(
            Location(("bench", path.name)),
            len(data),
            "",
            "",
            detect(data[:4096], path.name, len(data)),
            _loader=lambda data=data: data,  # type: ignore[misc]
        )
        start = time.perf_counter()  # the whole analyzer: parse, hardening, signing, packers, rules
        analysis = analyzer.analyze(entry)
        seconds = time.perf_counter() - start
        if analysis.issues or not analysis.binaries:
            issues += 1
            notes.append(f"{path.relative_to(WORK)}: {[i.message for i in analysis.issues]}")
            continue
        described = analysis.binaries[0]
        signature = described.get("signature") or {}
        stats["signed"] += bool(signature.get("signed"))
        stats["digest_matches"] += bool(signature.get("digest_matches"))
        if signature.get("signed") and shutil.which("osslsigncode"):
            stats["pe.authenticode_digest.total"] += 1
            if signature.get("computed_digest") == osslsigncode_digest(path):
                stats["pe.authenticode_digest.agree"] += 1
            else:
                notes.append(f"{path.relative_to(WORK)}: Authenticode digest differs")
        stats["packed"] += described["packer"] is not None
        for finding in analysis.findings:
            severities[finding.severity.value] += 1
            rules[finding.rule_id] += 1
        ours_caps[path] = {c["id"] for c in described["capabilities"]}
        times[path] = seconds
        if described["format"] == "elf":
            elf_agreement(path, described["hardening"], stats, notes)
        else:
            pe_agreement(path, described["hardening"], stats, notes)
    print(f"binaries: {len(elves)} ELF, {len(pes)} PE; parse failures {issues}")
    print(
        f"finalexam total {sum(times.values()):.2f}s, "
        f"mean {sum(times.values()) / max(1, len(times)) * 1000:.1f} ms/binary"
    )
    print(
        f"signed {stats['signed']} (digest matches {stats['digest_matches']}), "
        f"packed {stats['packed']}; findings by severity {dict(sorted(severities.items()))}"
    )
    print("findings by rule:", dict(rules.most_common()))
    print("| flag | binaries compared | agreement |")
    print("|---|---:|---:|")
    for key in sorted({k.rsplit(".", 1)[0] for k in stats if "." in k}):
        total, agree = stats[f"{key}.total"], stats[f"{key}.agree"]
        print(f"| {key} | {total} | {agree / total:.1%} ({agree}/{total}) |")
    for note in notes[:40]:
        print("  disagreement:", note)
    if not CAPA.exists():
        print("capa not installed: skipped")
        return 0

    def candidates(paths: list[Path]) -> list[Path]:
        return [p for p in paths if p in times and p.stat().st_size <= args.capa_max_size]

    sample = _sample(candidates(elves), args.capa_sample) + _sample(
        candidates(pes), args.capa_sample
    )
    print(
        "\n| binary | size | finalexam ms | capa s | speed-up | finalexam ∩ capa "
        "| only finalexam | only capa |"
    )
    print("|---|---:|---:|---:|---:|---|---|---|")
    ratios = []
    both = only_ours = only_capa = 0
    for path in sample:
        theirs, seconds, error = run_capa(path)
        ours = ours_caps[path]
        size, ours_ms = path.stat().st_size, times[path] * 1000
        if error:
            print(
                f"| {path.name} | {size} | {ours_ms:.1f} | {seconds:.1f} | - "
                f"| capa failed: {error[:60]} | | |"
            )
            continue
        ratios.append(seconds / times[path])
        both += len(ours & theirs)
        only_ours += len(ours - theirs)
        only_capa += len(theirs - ours)
        print(
            f"| {path.relative_to(WORK)} | {size} | {ours_ms:.1f} | {seconds:.1f} | "
            f"{seconds / times[path]:.0f}x | {', '.join(sorted(ours & theirs))} | "
            f"{', '.join(sorted(ours - theirs))} | {', '.join(sorted(theirs - ours))} |"
        )
    if ratios:
        ratios.sort()
        print(
            f"\nmedian speed-up vs capa: {ratios[len(ratios) // 2]:.0f}x "
            f"over {len(ratios)} binaries"
        )
        print(f"capabilities: both {both}, only finalexam {only_ours}, only capa {only_capa}")
    return 0


def _sample(paths: list[Path], count: int) -> list[Path]:
    """Spread over sizes: the smallest, the largest and some in between."""
    ordered = sorted(paths, key=lambda p: p.stat().st_size)
    if len(ordered) <= count:
        return ordered
    step = (len(ordered) - 1) / (count - 1)
    return [ordered[round(i * step)] for i in range(count)]


if __name__ == "__main__":
    raise SystemExit(main())
