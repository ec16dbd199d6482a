"""The system calls a statically linked ELF makes by itself, read from its code with capstone.

A static (or stripped) binary has no imports: what it asks of the kernel is in its code, at
each instruction that enters the kernel (``syscall``, ``int 0x80``, i386's ``call gs:[0x10]``,
``svc #0``, MIPS ``syscall``). The number is in a register (rax/eax, x8/w8, r7, v0) loaded a
few instructions before: each site is disassembled backwards within its basic block and the
nearest load of that register resolved when it is an immediate. Go programs enter the kernel
through ``syscall.Syscall``-style wrappers that take the number as their first argument
(rax on amd64): calls to those wrappers, found through the symbol table, are read the same way.

Bounded: candidate sites are found by byte search (no linear sweep of the whole code), at most
``MAX_CODE`` bytes of code and ``MAX_SITES`` sites are read, and the whole runs inside the
supervised child (its CPU limit) with LIEF. This runs only there: capstone is native code
(imported on the first static binary, so that an exam without one does not load it).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.binary.facts.common import SyscallSite

MAX_CODE = 64 * 1024 * 1024  # bytes of executable code searched for sites
MAX_SITES = 20_000  # sites disassembled
_BACK = 48  # bytes before an x86 site that are disassembled (a few instructions)
_TRIES = 16  # x86 start offsets tried per site
_WINDOW = 4  # instructions shown before the site as evidence
_TABLES = Path(__file__).resolve().parents[1] / "syscalls.json"
# i386 socketcall(2): the socket operation is its first argument (ebx)
_SOCKETCALL = [
    "socket",
    "bind",
    "connect",
    "listen",
    "accept",
    "getsockname",
    "getpeername",
    "socketpair",
    "send",
    "recv",
    "sendto",
    "recvfrom",
    "shutdown",
    "setsockopt",
    "getsockopt",
    "sendmsg",
    "recvmsg",
    "accept4",
    "recvmmsg",
    "sendmmsg",
]
# Functions taking the call's number as their first argument, and where it is on x86-64:
# the C library's syscall(2) (rdi), Go's wrappers (rax, Go's register ABI)
C_WRAPPERS: dict[str, tuple[str, ...]] = {"syscall": ("rdi", "edi", "di", "dil")}
GO_WRAPPERS: dict[str, tuple[str, ...]] = dict.fromkeys(
    (
        f"{package}.{name}"
        for package in (
            "syscall",
            "golang.org/x/sys/unix",
            "internal/runtime/syscall",
            "runtime/internal/syscall",
        )
        for name in (
            "Syscall",
            "Syscall6",
            "RawSyscall",
            "RawSyscall6",
            "rawSyscallNoError",
            "rawVforkSyscall",
            "RawSyscallNoError",
            "SyscallNoError",
        )
    ),
    ("rax", "eax", "ax", "al"),
)
WRAPPERS = {**C_WRAPPERS, **GO_WRAPPERS}
# Go's child set-up between fork and exec (descriptors, credentials, namespaces, PTRACE_TRACEME)
# is in every program that runs a command: its other calls are plumbing of os/exec, not the
# program's own, so only the fork and exec themselves are kept from there.
CHILD_SETUP = frozenset({"syscall.forkAndExecInChild1", "syscall.forkAndExecInChild"})
_CHILD_SETUP_KEEPS = frozenset({"execve", "execveat", "clone", "clone3", "vfork", "fork"})
# capstone's lite tuple: address, size, mnemonic, operands
Instruction = tuple[int, int, str, str]
_Instruction = Instruction


@dataclass(frozen=True)
class Region:
    """Executable code: where it is in the file and where it is loaded."""

    offset: int
    size: int
    address: int


@dataclass
class SyscallScan:
    calls: dict[str, SyscallSite] = field(default_factory=dict)  # name -> its first site
    sites: int = 0
    unresolved: int = 0
    truncated: bool = False  # a budget stopped the scan

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sites": self.sites, "unresolved": self.unresolved}
        if self.truncated:
            out["truncated"] = True
        return out


@dataclass(frozen=True)
class _Arch:
    family: str  # x86, arm64, arm, mips (capstone's CS_ARCH_<family>)
    mode: tuple[str, ...]  # capstone's CS_MODE_ flags
    sites: tuple[tuple[re.Pattern[bytes], str], ...]  # instruction bytes -> syscall table
    number: tuple[str, ...]  # registers holding the call's number
    align: int = 1  # fixed-width instruction sets: sites are aligned


def _x86_sites(*pairs: tuple[bytes, str]) -> tuple[tuple[re.Pattern[bytes], str], ...]:
    return tuple((re.compile(re.escape(raw)), table) for raw, table in pairs)


_ARCHES: dict[tuple[str, bool], _Arch] = {
    ("x86_64", True): _Arch(
        "x86",
        ("CS_MODE_64",),
        _x86_sites((b"\x0f\x05", "x86_64"), (b"\xcd\x80", "i386")),
        ("rax", "eax", "ax", "al"),
    ),
    ("i386", True): _Arch(
        "x86",
        ("CS_MODE_32",),
        _x86_sites((b"\xcd\x80", "i386"), (b"\x65\xff\x15\x10\x00\x00\x00", "i386")),
        ("eax", "ax", "al"),
    ),
    ("aarch64", True): _Arch(
        "arm64",
        ("CS_MODE_ARM",),
        ((re.compile(re.escape(b"\x01\x00\x00\xd4")), "aarch64"),),
        ("x8", "w8"),
        4,
    ),
    ("arm", True): _Arch(
        "arm",
        ("CS_MODE_ARM",),
        # EABI ``svc #0``, and the old ABI's ``swi #0x9000NN`` that carries the number
        ((re.compile(b"\x00\x00\x00\xef|..\x90\xef", re.DOTALL), "arm"),),
        ("r7",),
        4,
    ),
    ("mips", True): _Arch(
        "mips",
        ("CS_MODE_MIPS32", "CS_MODE_LITTLE_ENDIAN"),
        ((re.compile(re.escape(b"\x0c\x00\x00\x00")), "mips"),),
        ("$v0",),
        4,
    ),
    ("mips", False): _Arch(
        "mips",
        ("CS_MODE_MIPS32", "CS_MODE_BIG_ENDIAN"),
        ((re.compile(re.escape(b"\x00\x00\x00\x0c")), "mips"),),
        ("$v0",),
        4,
    ),
}
_ARM_BRANCH = re.compile(r"b(l|x|lx)?(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?(\.w)?")
_X86_FLOW = ("j", "call", "ret", "syscall", "int", "hlt", "ud2", "iret", "sysenter", "loop")
_ARM64_FLOW = ("b", "bl", "br", "blr", "ret", "cbz", "cbnz", "tbz", "tbnz", "svc", "eret")


@cache
def syscall_names() -> dict[str, dict[int, str]]:
    """The Linux syscall numbers per table (x86_64, i386, aarch64, arm, mips), generated from
    the kernel's headers by scripts/syscall_tables.py."""
    tables: dict[str, dict[str, str]] = json.loads(_TABLES.read_text(encoding="utf-8"))
    return {arch: {int(n): name for n, name in names.items()} for arch, names in tables.items()}


def supported(arch: str, little_endian: bool) -> bool:
    return (arch, little_endian) in _ARCHES


def scan(
    data: bytes,
    arch: str,
    regions: list[Region],
    little_endian: bool = True,
    wrappers: dict[int, tuple[str, ...]] | None = None,
    child_setup: tuple[tuple[int, int], ...] = (),
) -> SyscallScan:
    """Every system call the code in ``regions`` makes with a number it loads itself, plus the
    numbers it passes to functions that take the number as an argument (``wrappers``: their
    address -> the registers holding it; x86-64 only). In ``child_setup`` (address ranges of
    Go's child set-up code) only the fork and exec count."""
    spec = _ARCHES.get((arch, little_endian))
    result = SyscallScan()
    if spec is None:
        return result
    disassembler = _disassembler(spec)
    budget = MAX_CODE
    for region in regions:
        code = data[region.offset : region.offset + min(region.size, budget)]
        result.truncated |= len(code) < region.size
        budget -= len(code)
        calls = wrappers if arch == "x86_64" else None
        for at, table, registers in _sites(code, region.address, spec, calls):
            if result.sites >= MAX_SITES:
                result.truncated = True
                return result
            result.sites += 1
            site = _read_site(disassembler, spec, code, region, at, table, registers)
            if site is None or not site.name:
                result.unresolved += 1
                continue
            address = region.address + at
            if site.name not in _CHILD_SETUP_KEEPS and any(
                start <= address < end for start, end in child_setup
            ):
                continue
            result.calls.setdefault(site.name, site)
        if budget <= 0:
            result.truncated = True
            break
    return result


def disassembler(arch: str, little_endian: bool = True) -> Any:
    """capstone's disassembler for one of the supported architectures."""
    return _disassembler(_ARCHES[(arch, little_endian)])


def _disassembler(spec: _Arch) -> Any:
    import capstone

    mode = sum(getattr(capstone, flag) for flag in spec.mode)
    return capstone.Cs(getattr(capstone, f"CS_ARCH_{spec.family.upper()}"), mode)


def _sites(
    code: bytes, address: int, spec: _Arch, wrappers: dict[int, tuple[str, ...]] | None
) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    for pattern, table in spec.sites:
        for found in pattern.finditer(code):
            if found.start() % spec.align == 0 and (address + found.start()) % spec.align == 0:
                yield found.start(), table, spec.number
    if wrappers:
        # ``call rel32`` whose target is a wrapper, read like a ``syscall`` site
        unpack = struct.Struct("<i").unpack_from
        for found in re.finditer(b"\xe8", code):
            at = found.start()
            if at + 5 <= len(code):
                registers = wrappers.get(address + at + 5 + unpack(code, at + 1)[0])
                if registers is not None:
                    yield at, "x86_64", registers


def _read_site(
    disassembler: Any,
    spec: _Arch,
    code: bytes,
    region: Region,
    at: int,
    table: str,
    registers: tuple[str, ...],
) -> SyscallSite | None:
    block = _block(disassembler, spec, code, region.address, at)
    if block is None:
        return None
    *before, site = block
    number = _number(before, registers)
    if site[2] == "svc" and site[3].startswith("#0x9000"):  # ARM old ABI: the number is inline
        number = int(site[3][1:], 16) - 0x900000
    names = syscall_names().get(table, {})
    name = names.get(number, "") if number is not None else ""
    if name == "socketcall" and table == "i386":
        operation = _number(before, ("ebx", "bx", "bl"))
        if operation is not None and 1 <= operation <= len(_SOCKETCALL):
            name = _SOCKETCALL[operation - 1]
    window = [f"{mnemonic} {operands}".strip() for _, _, mnemonic, operands in block]
    return SyscallSite(name, number, region.offset + at, "; ".join(window[-_WINDOW - 1 :]))


def block(
    disassembler: Any, arch: str, code: bytes, address: int, at: int, back: int = _BACK
) -> list[Instruction] | None:
    """The basic block of the instruction at ``at`` up to and including it, as far back as
    ``back`` bytes reach (x86), or None when no decoding lands on it."""
    return _block(disassembler, _ARCHES[(arch, True)], code, address, at, back)


def _block(
    disassembler: Any, spec: _Arch, code: bytes, address: int, at: int, back: int = _BACK
) -> list[_Instruction] | None:
    """The instructions of the site's basic block up to and including the site (as far back
    as the window reaches), or None when no decoding lands on the site."""
    site_end = at + (4 if spec.align == 4 else 8)
    if spec.align == 4:
        starts: Iterator[int] = iter((max(at - 4 * 12, 0) // 4 * 4,))
    else:
        # x86 has no fixed width: start a little earlier each time until the decoding lands
        # on the site (x86 decoding re-synchronises within a few instructions)
        first = max(at - back, 0)
        starts = iter(range(first, min(first + _TRIES, at + 1)))
    for start in starts:
        decoded: list[_Instruction] = []
        for instruction in disassembler.disasm_lite(code[start:site_end], address + start):
            decoded.append(instruction)
            if instruction[0] >= address + at:
                break
        if decoded and decoded[-1][0] == address + at:
            block: list[_Instruction] = []
            for instruction in decoded[:-1]:
                block = [] if _ends_block(spec, instruction[2]) else [*block, instruction]
            return [*block, decoded[-1]]
    return None


def _ends_block(spec: _Arch, mnemonic: str) -> bool:
    if spec.family == "x86":
        return mnemonic.startswith(_X86_FLOW)
    if spec.family == "arm64":
        return mnemonic in _ARM64_FLOW or mnemonic.startswith("b.")
    if spec.family == "arm":
        return bool(_ARM_BRANCH.fullmatch(mnemonic)) or mnemonic in ("svc", "pop", "ldm")
    return mnemonic.startswith(("b", "j")) or mnemonic in ("syscall", "eret")  # MIPS


def _number(before: list[_Instruction], registers: tuple[str, ...]) -> int | None:
    """The value the nearest write to ``registers`` leaves there, when it is a constant."""
    for index in range(len(before) - 1, -1, -1):
        mnemonic, operands = before[index][2], before[index][3]
        parts = [part.strip() for part in operands.split(",")]
        if not parts or parts[0] not in registers:
            continue
        if mnemonic in ("mov", "movz", "movw", "movs", "li") and len(parts) == 2:
            return _immediate(parts[1])
        if mnemonic in ("addiu", "ori", "addi") and len(parts) == 3 and parts[1] == "$zero":
            return _immediate(parts[2])
        if mnemonic == "xor" and len(parts) == 2 and parts[1] == parts[0]:
            return 0
        if mnemonic == "pop" and index > 0 and before[index - 1][2] == "push":
            return _immediate(before[index - 1][3])  # push 0x29; pop rax
        return None  # loaded from memory or computed: not known without running it
    return None


def _immediate(operand: str) -> int | None:
    try:
        return int(operand.lstrip("#"), 0)
    except ValueError:
        return None
