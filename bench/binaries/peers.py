"""Peer tools on the same files: capa (capabilities) and YARA with public rule sets.

Results are cached per file content (SHA-256) under ``bench/.work/binaries/``, so a re-run
only examines what is new; a capa run that timed out is cached too (re-run with a longer
``--capa-timeout`` to try again).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common.timing import run_timed  # noqa: E402

PEERS = Path(os.environ.get("FINALEXAM_PEERS", "/opt/peers"))
CAPA = PEERS / "bin" / "capa"
CAPA_RULES = PEERS / "capa-rules"
CAPA_SIGS = PEERS / "capa-sigs"
YARA_JSON = PEERS / "bin" / "yara-json"

# Public YARA rule files that reachable registries ship inside packages (PyPI wheels): no
# package of PyPI, npm or Debian ships signature-base, YARA Forge or malcontent's rules.
YARA_SOURCES = {
    # Yara-Rules project (PDF), Didier Stevens (maldoc), lprat's static file analysis rules
    "pdfalyzer": ("pdfalyzer/yara_rules/", (".yara", ".yar")),
    # a PE triage tool's own packer and behaviour string rules
    "gokdogan-triage": ("gokdogan/rules/", (".yara", ".yar")),
}

# capa namespaces that mean "this binary does something a reviewer must look at", the
# counterpart of a finalexam behavior/malicious finding of high or critical severity.
CAPA_SUSPICIOUS = (
    "anti-analysis/",
    "collection/",
    "communication/c2/",
    "impact/",
    "persistence/",
    "host-interaction/process/inject",
    "host-interaction/bootloader",
    "host-interaction/driver",
    "host-interaction/kernel",
    "host-interaction/file-system/delete",  # self-deletion
    "linking/runtime-linking",
    "load-code/",
    "malware-family/",
    "targeting/",
    "communication/socket/",
    "communication/http/",
    "communication/tcp/",
    "host-interaction/process/create",
)


def capa(path: Path, sha256: str, cache: Path, timeout: int) -> dict[str, Any]:
    """capa's capabilities of one file, timed as its command line (rule cache already built)."""
    cached = cache / "capa" / f"{sha256}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    done = run_timed(
        [str(CAPA), "-q", "-j", "-r", str(CAPA_RULES), "-s", str(CAPA_SIGS), str(path)], timeout
    )
    result: dict[str, Any] = {"seconds": done.wall, "cpu_seconds": done.cpu, "rules": {}}
    if done.returncode is None:
        result["status"] = "timeout"
    elif done.returncode != 0:
        result["status"] = "error"
        result["error"] = _capa_error(done.stderr or done.stdout) or f"exit {done.returncode}"
    else:
        result["status"] = "ok"
        result["rules"] = {
            name: (rule.get("meta", {}).get("namespace") or "")
            for name, rule in json.loads(done.stdout).get("rules", {}).items()
        }
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def _capa_error(text: str) -> str:
    """capa's log lines without their level, logger and source columns, in one line."""
    words = []
    for line in text.splitlines():
        line = re.sub(r"\s+\S+\.py:\d+\s*$", "", line)
        line = re.sub(r"^(ERROR|WARNING|INFO|CRITICAL)\s+[\w.]+:\s*", "", line).strip()
        if re.search(r"[A-Za-z]", line):
            words.append(line)
    return " ".join(words)[:300]


def capa_suspicious(rules: dict[str, str]) -> list[str]:
    """The capa rules whose namespace is one a reviewer acts on (see CAPA_SUSPICIOUS)."""
    return sorted(
        name
        for name, namespace in rules.items()
        if namespace.startswith(CAPA_SUSPICIOUS) or name.startswith("malware-family")
    )


def yara_rules(work: Path, wheels: dict[str, list[Path]]) -> dict[str, Path]:
    """The rule files of each YARA source, copied out of its wheel (never installed)."""
    out: dict[str, Path] = {}
    for source, (prefix, suffixes) in YARA_SOURCES.items():
        target = work / "yara-rules" / source
        for wheel in wheels.get(source, [])[-1:]:
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.startswith(prefix) and name.endswith(suffixes):
                        dest = target / Path(name).name
                        if not dest.exists():
                            target.mkdir(parents=True, exist_ok=True)
                            dest.write_bytes(archive.read(name))
        if target.is_dir() and any(target.iterdir()):
            out[source] = target
    return out


def yara_scan(
    rules: Path, paths: list[Path], timeout: int = 3600
) -> tuple[dict[str, list[str]], float, str]:
    """Rule names matched per path, with ``yara-json`` (yara-python) in one process."""
    if not paths:
        return {}, 0.0, ""
    start = time.perf_counter()
    done = subprocess.run(
        [str(YARA_JSON), str(rules), *map(str, paths)],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    matches: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        matches[record["path"]] = sorted({m["rule"] for m in record.get("matches", [])})
    error = "" if done.returncode == 0 else done.stderr.strip()[-300:]
    return matches, seconds, error
