"""Native parsers run where a crash, a hang or a runaway allocation cannot take the exam down."""

from __future__ import annotations

import os
import signal
import struct
import time
from dataclasses import replace
from pathlib import Path

import pytest

from binbuild import minimal_macho
from builders import write, zip_bytes
from finalexam.analyze.binary import analyzer as binary
from finalexam.budget import BudgetExceeded, Supervisor, WorkerCrashed
from finalexam.config import Config
from finalexam.exam import run_exam


def _segfault(data: bytes) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def _allocate(size: int) -> int:
    return len(bytearray(size))


def test_a_crash_in_the_child_is_an_exception_and_the_next_call_works() -> None:
    supervisor = Supervisor()
    try:
        with pytest.raises(WorkerCrashed, match="SIGSEGV"):
            supervisor.call(_segfault, b"x", timeout=10)
        assert supervisor.call(len, b"abc", timeout=10) == 3
    finally:
        supervisor.stop()


def test_a_hang_is_killed_at_its_deadline_and_the_worker_replaced() -> None:
    supervisor = Supervisor()
    try:
        started = time.monotonic()
        with pytest.raises(BudgetExceeded):
            supervisor.call(time.sleep, 60, timeout=0.5)
        assert time.monotonic() - started < 10
        assert supervisor.call(len, b"ab", timeout=10) == 2
    finally:
        supervisor.stop()


def _spin(seconds: float) -> int:
    end, count = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        count += 1
    return count


def test_a_busy_child_is_stopped_at_its_cpu_budget() -> None:
    supervisor = Supervisor()
    try:
        started = time.monotonic()
        with pytest.raises(BudgetExceeded):
            supervisor.call(_spin, 60, timeout=0.5)
        assert time.monotonic() - started < 30
    finally:
        supervisor.stop()


def test_the_deadline_counts_the_childs_cpu_time_not_the_wall_clock() -> None:
    """A child that waits (on a loaded machine: for a CPU) is not cut off at the budget in
    wall time: only its own CPU time counts, up to WALL_FACTOR times the budget."""
    supervisor = Supervisor()
    try:
        assert supervisor.call(time.sleep, 1.0, timeout=0.3) is None
    finally:
        supervisor.stop()


def test_a_runaway_allocation_hits_the_memory_limit() -> None:
    supervisor = Supervisor()
    try:
        with pytest.raises(WorkerCrashed, match="memory"):
            supervisor.call(_allocate, 64 * 1024**3, timeout=30)
        assert supervisor.call(_allocate, 1024, timeout=10) == 1024
    finally:
        supervisor.stop()


def _elf_header(**fields: int) -> bytes:
    values = {"shoff": 64, "phoff": 64, "phnum": 0, "shnum": 0, "shstrndx": 0, **fields}
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\x00" * 9
    return ident + struct.pack(
        "<HHIQQQIHHHHHH",
        2,
        62,
        1,
        0x401000,
        values["phoff"],
        values["shoff"],
        0,
        64,
        56,
        values["phnum"],
        64,
        values["shnum"],
        values["shstrndx"],
    )


def _pe(sections: int) -> bytes:
    dos = b"MZ" + b"\x00" * 58 + struct.pack("<I", 0x40)
    coff = struct.pack("<HHIIIHH", 0x8664, sections, 0, 0, 0, 0xF0, 0x22)
    return dos + b"PE\x00\x00" + coff + struct.pack("<H", 0x20B) + b"\x00" * 200


def _macho(ncmds: int, sizeofcmds: int) -> bytes:
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, ncmds, sizeofcmds, 0, 0)
    return header + struct.pack("<II", 0x19, 72) + b"\x00" * 64


MALFORMED = {
    "elf/truncated-header": _elf_header()[:40],
    "elf/section-table-past-the-end": _elf_header(shoff=0xFFFFFFFF00, shnum=0xFFFF),
    "elf/huge-section-count": _elf_header(shnum=0xFFFF) + b"\x00" * 4096,
    "elf/huge-segment-count": _elf_header(phnum=0xFFFF) + b"\x00" * 4096,
    "elf/sections-cut-short": _elf_header(shoff=128, shnum=3, shstrndx=2) + b"\x00" * 100,
    "pe/huge-section-count": _pe(0xFFFF),
    "pe/truncated": _pe(3)[:70],
    "macho/huge-command-count": _macho(0xFFFFFFFF, 0xFFFFFFF0),
    "macho/commands-past-the-end": _macho(4, 0x10000),
    "macho/truncated": minimal_macho(pie=True)[:48],
}


def test_malformed_binaries_end_as_issues_or_facts_never_as_a_crash(tmp_path: Path) -> None:
    target = write(tmp_path / "malformed.zip", zip_bytes(MALFORMED))
    config = replace(Config(), only=("binary",), time_budget=20)
    started = time.monotonic()
    report = run_exam(target, config)
    assert time.monotonic() - started < 60
    seen = {b["location"] for b in report.binaries}
    seen |= {str(i.location) for i in report.issues if i.plugin == "binary"}
    assert seen == {f"malformed.zip!/{name}" for name in MALFORMED}
    assert all(p.status == "ok" for p in report.plugins if p.name == "binary")


def test_a_crash_of_the_binary_parser_is_an_issue_and_the_exam_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binary, "examine", _segfault)
    members = {"lib/x.so": _elf_header() + b"\x00" * 256, "a.txt": "token"}
    target = write(tmp_path / "crash.zip", zip_bytes(members))
    report = run_exam(target, replace(Config(), only=("binary", "secrets")))
    [issue] = [i for i in report.issues if i.plugin == "binary"]
    assert "binary parser crashed" in issue.message
    assert "SIGSEGV" in issue.message
    assert {p.name for p in report.plugins if p.status == "ok"} >= {"binary", "secrets"}
