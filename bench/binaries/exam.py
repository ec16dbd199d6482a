"""finalexam as a user runs it: ``finalexam scan FILE`` (default exam) and ``finalexam diff``.

Each result is summarised into a small JSON record, cached by the examined file's SHA-256
and a fingerprint of the finalexam sources, so a re-run only examines what is new or what
changed code would answer differently.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common.timing import run_timed  # noqa: E402

OUTCOME = {0: "passed", 1: "failed", 3: "incomplete"}
FLAG_KINDS = ("behavior", "malicious")
FLAG_SEVERITIES = ("high", "critical")


def code_fingerprint(source: Path) -> str:
    """A hash of every file of the finalexam package: the cache key of its answers."""
    digest = hashlib.sha256()
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _environment(db: Path, source: Path | None) -> dict[str, str]:
    env = {**os.environ, "FINALEXAM_DB": str(db), "FINALEXAM_OFFLINE": "1"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    return env


def scan(
    path: Path, sha256: str, cache: Path, db: Path, source: Path | None, timeout: int = 3600
) -> dict[str, Any]:
    """The default exam of one file: verdict, exit code, findings, time."""
    cached = cache / f"{sha256}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    with tempfile.TemporaryDirectory(prefix="finalexam-bench-") as scratch:
        report_path = Path(scratch) / "report.json"
        done = run_timed(
            [sys.executable, "-m", "finalexam", "scan", str(path), "--timings",
             "-o", f"json={report_path}"],
            timeout, _environment(db, source),
        )  # fmt: skip
        if done.returncode is None:
            return {
                "outcome": "timeout",
                "exit": None,
                "seconds": done.wall,
                "cpu_seconds": done.cpu,
            }
        result: dict[str, Any] = {
            "exit": done.returncode,
            "outcome": OUTCOME.get(done.returncode, "error"),
            "seconds": done.wall,
            "cpu_seconds": done.cpu,
        }
        if done.returncode not in OUTCOME or not report_path.exists():
            result["error"] = done.stderr.strip()[-400:]
        else:
            result.update(summarise_report(json.loads(report_path.read_text(encoding="utf-8"))))
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def summarise_report(report: dict[str, Any]) -> dict[str, Any]:
    findings = report.get("findings", [])
    by_fingerprint = {f["fingerprint"]: f for f in findings}
    flagged = [
        {"rule": f["rule_id"], "severity": f["severity"], "title": f["title"],
         "location": f.get("location", "")}
        for f in findings
        if f["kind"] in FLAG_KINDS and f["severity"] in FLAG_SEVERITIES
    ]  # fmt: skip
    blocking = []
    for violation in report["verdict"]["violations"]:
        finding = by_fingerprint.get(violation.get("fingerprint", ""), {})
        blocking.append(
            {"policy": violation["rule"], "rule": finding.get("rule_id", ""),
             "kind": finding.get("kind", ""), "severity": finding.get("severity", ""),
             "location": finding.get("location", "")}
        )  # fmt: skip
    capabilities = sorted(
        {c["id"] for b in report.get("binaries", []) for c in b.get("capabilities", [])}
    )
    timings = report.get("timings", {})
    return {
        "findings": dict(Counter(f"{f['kind']}/{f['severity']}" for f in findings)),
        "rules": dict(Counter(f["rule_id"] for f in findings)),
        "flagged": flagged,
        "blocking": blocking,
        "capabilities": capabilities,
        "binaries": len(report.get("binaries", [])),
        "issues": [i.get("message", "")[:200] for i in report.get("issues", [])],
        "exam_seconds": round(sum(v for v in timings.values() if isinstance(v, int | float)), 3),
    }


def diff(
    old: Path, new: Path, cache: Path, db: Path, source: Path | None, timeout: int = 3600
) -> dict[str, Any]:
    """``finalexam diff OLD NEW``: the overall risk and the changes ranked above info."""
    key = hashlib.sha256(_digest(old).encode() + _digest(new).encode()).hexdigest()
    cached = cache / "diff" / f"{key}.json"
    if cached.exists():
        return dict(json.loads(cached.read_text()))
    result = _diff(old, new, db, source, timeout)
    if result["risk"] != "error":
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _diff(old: Path, new: Path, db: Path, source: Path | None, timeout: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="finalexam-bench-") as scratch:
        out = Path(scratch) / "diff.json"
        done = run_timed(
            [sys.executable, "-m", "finalexam", "diff", str(old), str(new), "-o", f"json={out}"],
            timeout, _environment(db, source),
        )  # fmt: skip
        seconds = done.wall
        if not out.exists():
            return {"exit": done.returncode, "risk": "error", "seconds": seconds,
                    "error": done.stderr.strip()[-400:], "changes": []}  # fmt: skip
        document = json.loads(out.read_text(encoding="utf-8"))
    changes = [
        {"severity": c["severity"], "kind": c["kind"], "title": c["title"]}
        for c in document.get("changes", [])
        if c["severity"] != "info"
    ]
    return {"exit": done.returncode, "risk": document["risk"], "seconds": seconds,
            "changes": changes}  # fmt: skip
