"""Runs one hostile case: ``finalexam scan`` in a child process, with limits, measured.

The child gets its own working directory and TMPDIR (the scratch space), an address-space
limit as a safety net and a wall-clock budget. Afterwards the harness checks what every case
must hold: no crash (no traceback, no internal error, a JSON report), no hang past the
budget, peak RSS under the case's bound, nothing written outside the scratch space (which
must be empty again), plus the case's own expectations on files, issues and findings.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADDRESS_SPACE = 3 * 1024**3  # a safety net: the bound that counts is the measured peak RSS

# A small launcher starts the exam and reports its exit code and peak RSS. Measured straight
# from a big parent, a child's peak RSS would start at the parent's own (Linux carries the
# high-water mark over fork and exec).
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, flush=True)
"""


@dataclass(frozen=True)
class Case:
    """One hostile input and what the exam must make of it.

    ``build(directory)`` writes the input inside ``directory`` and returns the target path.
    ``files``: locations that must be in the report (the installer's view was examined).
    ``issues``: substrings that must each appear in some issue message (``a|b``: either).
    ``findings``: rule ids (or prefixes ending in ``*``) that must be reported; ``rule=severity``
    also fixes the severity.
    ``absent``: strings that must not appear anywhere in the report (canaries, raw control
    characters), as written or as decoded.
    ``components``: names of components that must be in the report (the document was read).
    """

    name: str
    build: Callable[[Path], Path]
    files: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    no_issues: bool = False
    args: tuple[str, ...] = ()
    budget: float = 60.0  # seconds
    max_rss_mb: int = 400
    area: str = "unpack"  # who owns the case: unpack, exam, budget


@dataclass
class Outcome:
    case: str
    exit_code: int
    wall: float
    rss_mb: float
    timed_out: bool
    report: dict[str, Any] | None
    raw_report: str
    stderr: str
    outside_writes: list[str] = field(default_factory=list)
    scratch_left: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.timed_out:
            return "HANG"
        if self.report is None:
            return "CRASH"
        verdict = self.report.get("verdict") or {}
        status = verdict.get("status")
        if isinstance(status, str):
            return status.upper()
        return "PASSED" if verdict.get("passed") else "FAILED"

    def issue_messages(self) -> list[str]:
        return [f"{i.get('location')}: {i.get('message')}" for i in self._list("issues")]

    def file_locations(self) -> set[str]:
        return {str(f.get("location")) for f in self._list("files")}

    def rule_ids(self) -> set[str]:
        found = self._list("findings")
        return {str(f.get("rule_id")) for f in found} | {
            f"{f.get('rule_id')}={f.get('severity')}" for f in found
        }

    def _list(self, key: str) -> list[dict[str, Any]]:
        value = (self.report or {}).get(key) or []
        return [v for v in value if isinstance(v, dict)]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")} if root.exists() else set()


def run(case: Case, workdir: Path, command: Sequence[str] | None = None) -> Outcome:
    """Build the case under ``workdir`` and scan it with ``command`` (default: this venv)."""
    inputs, scratch, cwd = workdir / "input", workdir / "scratch", workdir / "cwd"
    for directory in (inputs, scratch, cwd):
        directory.mkdir(parents=True, exist_ok=True)
    target = case.build(inputs)
    report_path = workdir / "report.json"
    before = _tree(workdir)
    program = list(command or [sys.executable, "-m", "finalexam"])
    argv = [*program, "scan", str(target), "--files", "-o", f"json={report_path}", *case.args]
    env = {**os.environ, "TMPDIR": str(scratch), "NO_COLOR": "1"}
    env.pop("FINALEXAM_STRICT", None)

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        os.setsid()

    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-S", "-c", _LAUNCHER, *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=limits,
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)

    timer = threading.Timer(case.budget, kill)
    timer.start()
    stdout, stderr_bytes = child.communicate()
    wall = time.monotonic() - start
    timer.cancel()
    stderr = stderr_bytes.decode("utf-8", "replace")
    exit_code, rss_kb = (int(v) for v in (stdout.split() or [b"-9", b"0"])[:2])
    report = None
    raw_report = ""
    if report_path.exists():
        raw_report = report_path.read_text(encoding="utf-8", errors="replace")
        try:
            report = json.loads(raw_report)
        except ValueError:
            report = None
    after = _tree(workdir)
    outside = sorted(
        p
        for p in after - before
        if not p.startswith("scratch") and p != "report.json" and not p.startswith("report.json")
    )
    outcome = Outcome(
        case=case.name,
        exit_code=exit_code,
        wall=wall,
        rss_mb=rss_kb / 1024,
        timed_out=timed_out.is_set(),
        report=report,
        raw_report=raw_report,
        stderr=stderr,
        outside_writes=outside,
        scratch_left=sorted(_tree(scratch)),
    )
    shutil.rmtree(scratch, ignore_errors=True)
    return outcome


def problems(case: Case, outcome: Outcome) -> list[str]:
    """What the outcome gets wrong; empty when the case holds."""
    out: list[str] = []
    if outcome.timed_out:
        return [f"no result within its budget of {case.budget:.0f} s"]
    if "Traceback" in outcome.stderr or "internal error" in outcome.stderr:
        out.append(f"crashed: {outcome.stderr.strip()[-400:]}")
    if outcome.report is None:
        return [*out, f"no JSON report (exit {outcome.exit_code}): {outcome.stderr[-300:]}"]
    if outcome.exit_code not in (0, 1, 3):
        out.append(f"exit code {outcome.exit_code}")
    if outcome.rss_mb > case.max_rss_mb:
        out.append(f"peak RSS {outcome.rss_mb:.0f} MB over {case.max_rss_mb} MB")
    if outcome.outside_writes:
        out.append(f"wrote outside the scratch space: {outcome.outside_writes[:5]}")
    if outcome.scratch_left:
        out.append(f"left scratch files behind: {outcome.scratch_left[:5]}")
    gaps = [i for i in outcome._list("issues") if i.get("gap")]
    if gaps and outcome.verdict == "PASSED":
        out.append(f"PASSED with content left unexamined: {gaps[0].get('message')}")
    locations = outcome.file_locations()
    out += [f"not examined: {f}" for f in case.files if f not in locations]
    messages = outcome.issue_messages()
    out += [
        f"no issue mentions {needle!r} (issues: {messages[:6]})"
        for needle in case.issues
        if not any(part in m for part in needle.split("|") for m in messages)
    ]
    if case.no_issues and messages:
        out.append(f"unexpected issues: {messages[:6]}")
    rules = outcome.rule_ids()
    for wanted in case.findings:
        prefix = wanted.rstrip("*")
        hit = any(r.startswith(prefix) for r in rules) if wanted.endswith("*") else wanted in rules
        if not hit:
            out.append(f"no finding {wanted} (found: {sorted(rules)[:10]})")
    names = {str(c.get("name")) for c in outcome._list("components")}
    out += [f"component {c!r} not in the report" for c in case.components if c not in names]
    decoded = json.dumps(outcome.report, ensure_ascii=False)
    out += [
        f"{a!r} reached the report" for a in case.absent if a in decoded or a in outcome.raw_report
    ]
    return out
