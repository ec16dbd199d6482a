"""Functions that fetch content from a URL and run a command, read from their code: the
download-then-run shape of a dropper or of a backdoor that takes its orders from a web page.

A program that imports ``system`` and has the selector ``dataWithContentsOfURL:`` is as
ordinary as an app can be; what is not ordinary is one function that does both, and worse
one in which the fetched bytes are what reaches the command runner (Poseidon's trojanised
xib2storyboard: ``system([[NSString alloc] initWithData:[NSData dataWithContentsOfURL:...]
encoding:...].UTF8String)`` before ``NSApplicationMain``).

The calls are found the way ``facts.resolve`` finds resolver calls (byte search for calls to
stubs and slots; Objective-C messages by the selector reference loaded before
``objc_msgSend``, or by the selector stub ``objc_msgSend$sel`` called). Only a function holding
both a fetch and a run is then disassembled, from its start (function starts of Mach-O, the
ELF symbol table) or, where functions are unknown, from the fetch call on until a return. That
sweep names every call (imports, selectors) and follows the fetched value forward through
registers and stack slots: what a call returns is tainted when it is a fetch or when a
tainted value went into it (``initWithData:encoding:``, ``UTF8String``, ``objc_retain``); a
message with a tainted argument taints its receiver (``[task setArguments:fetched]``). The
run call that receives a tainted value is a direct flow. It is a linear sweep, not a control
flow graph: branches are read in address order, and memory other than the stack is not
followed (x86-64 and arm64; i386 passes arguments on the stack and gets the same-function
reading only).

Bounded: at most ``MAX_FUNCTIONS`` functions of ``MAX_SWEEP`` bytes each are swept.
"""

from __future__ import annotations

import bisect
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from finalexam.analyze.binary.facts import resolve
from finalexam.analyze.binary.facts.code import MAX_CODE, Instruction, Region, disassembler
from finalexam.analyze.binary.facts.common import FetchRun

MAX_FUNCTIONS = 64  # functions swept per binary
MAX_SWEEP = 64 * 1024  # bytes of one function swept
_WINDOW = 4096  # without function starts: a fetch this far before a run may share its function
_MAX_KEPT = 8

# Calls that bring content from a URL: C libraries and Windows functions, Objective-C selectors
FETCH_FUNCTIONS = frozenset(
    {
        "curl_easy_perform",
        "URLDownloadToFileA",
        "URLDownloadToFileW",
        "URLDownloadToCacheFileA",
        "URLDownloadToCacheFileW",
        "InternetReadFile",
        "InternetReadFileExA",
        "InternetReadFileExW",
        "WinHttpReadData",
    }
)
FETCH_SELECTORS = frozenset(
    {
        "dataWithContentsOfURL:",
        "dataWithContentsOfURL:options:error:",
        "initWithContentsOfURL:",
        "initWithContentsOfURL:options:error:",
        "initWithContentsOfURL:encoding:error:",
        "initWithContentsOfURL:usedEncoding:error:",
        "stringWithContentsOfURL:encoding:error:",
        "stringWithContentsOfURL:usedEncoding:error:",
        "sendSynchronousRequest:returningResponse:error:",
        "dataTaskWithURL:",
        "dataTaskWithURL:completionHandler:",
        "dataTaskWithRequest:completionHandler:",
        "downloadTaskWithURL:",
        "downloadTaskWithURL:completionHandler:",
    }
)
# Calls that run a command or a program
RUN_FUNCTIONS = frozenset(
    {
        "system",
        "popen",
        "execl",
        "execle",
        "execlp",
        "execv",
        "execve",
        "execvp",
        "execvpe",
        "posix_spawn",
        "posix_spawnp",
        "WinExec",
        "ShellExecuteA",
        "ShellExecuteW",
        "ShellExecuteExA",
        "ShellExecuteExW",
        "CreateProcessA",
        "CreateProcessW",
    }
)
RUN_SELECTORS = frozenset(
    {
        "launch",
        "launchAndReturnError:",
        "launchedTaskWithLaunchPath:arguments:",
        "launchedTaskWithExecutableURL:arguments:error:terminationHandler:",
        "executeAndReturnError:",
    }
)
FETCHES = FETCH_FUNCTIONS | FETCH_SELECTORS
RUNS = RUN_FUNCTIONS | RUN_SELECTORS
# Imported functions whose calls are read (stubs and slots the formats name for this reading)
FUNCTIONS = FETCH_FUNCTIONS | RUN_FUNCTIONS
MESSAGE_SENDS = frozenset({"objc_msgSend"})


def functions_read(names: set[str]) -> frozenset[str]:
    """The functions of ``FUNCTIONS`` worth finding calls of in a binary that imports (or
    defines) ``names``: none unless it has both a fetch and a run (without Objective-C, the
    functions are all there is to find)."""
    return FUNCTIONS if names & FETCH_FUNCTIONS and names & RUN_FUNCTIONS else frozenset()


# Objective-C's reference counting: evidence reads better without it
_RUNTIME = re.compile(r"objc_(retain|release|autorelease|storeStrong|unsafeClaim)\w*|swift_\w+")

_X86 = {
    "sysv": ("rdi", "rsi", "rdx", "rcx", "r8", "r9"),
    "win64": ("rcx", "rdx", "r8", "r9"),
}
_X86_SCRATCH = ("rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11")
_ARM64_ARGUMENTS = tuple(f"x{n}" for n in range(8))
_ARM64_SCRATCH = tuple(f"x{n}" for n in range(19))
_X86_NAMES = {
    **{f"e{r}": f"r{r}" for r in ("ax", "bx", "cx", "dx", "si", "di", "bp", "sp")},
    **{f"r{n}d": f"r{n}" for n in range(8, 16)},
}
_MEMORY = re.compile(r"(?:\w+ ptr )?\[(\w+)(?: ([+-]) (0x[0-9a-f]+|\d+))?\]")
_ARM64_MEMORY = re.compile(r"\[(\w+)(?:, #(-?0x[0-9a-f]+|-?\d+))?\]!?")
# a tainted value stored where the next call's stack arguments go (arm64 passes variadic
# arguments there: arrayWithObjects:, stringWithFormat:)
_STACK_ARGUMENTS = "stack-arguments"
_X86_REGISTER = re.compile(r"[re]?[a-z0-9]{2,3}")
_STACK = frozenset({"rbp", "rsp", "sp", "x29", "ebp", "esp"})


@dataclass
class _Value:
    tainted: bool = False
    origin: str | None = None  # the location it was copied from (a message's receiver)
    name: str | None = None  # a slot's function or a selector reference's selector
    address: int | None = None  # a constant address (adrp page, lea)


@dataclass
class _Sweep:
    """What one function's sweep found."""

    calls: list[str] = field(default_factory=list)
    fetch: str | None = None
    run: FetchRun | None = None


def fetch_runs(data: bytes, program: resolve.Program) -> list[FetchRun]:
    """The functions that call a fetch and then a run (with a direct flow first)."""
    if not resolve.supported(program.arch):
        return []
    named = {*program.stubs.values(), *program.slots.values(), *program.selectors.values()}
    if not named & FETCHES or not named & RUNS:
        return []
    sites = list(_sites(data, program))
    fetches = [(address, name) for address, name in sites if name in FETCHES]
    if not fetches or not any(name in RUNS for _, name in sites):
        return []
    decoder = disassembler(program.arch)
    found: list[FetchRun] = []
    for start, end, resets in _candidates(sites, program)[:MAX_FUNCTIONS]:
        region = _region(program.code, start)
        if region is None:
            continue
        stop = min(end, region.address + region.size, start + MAX_SWEEP)
        code = data[region.offset + start - region.address : region.offset + stop - region.address]
        run = _sweep(decoder, code, start, region, program, resets)
        if run is not None:
            found.append(run)
    found.sort(key=lambda run: (not run.flows, run.offset))
    return found[:_MAX_KEPT]


def _sites(data: bytes, program: resolve.Program) -> Iterator[tuple[int, str]]:
    """(address, name) of each fetch or run call found by byte search."""
    selectors = {
        address: name for address, name in program.selectors.items() if name in FETCHES | RUNS
    }
    for region in program.code:
        code = data[region.offset : region.offset + min(region.size, MAX_CODE)]
        for at, name in resolve.calls(code, region.address, program):
            if name in FETCHES or name in RUNS:
                yield region.address + at, name
        if selectors:
            for address, name in _selector_loads(code, region.address, program.arch, selectors):
                yield address, name


def _selector_loads(
    code: bytes, address: int, arch: str, selectors: dict[int, str]
) -> Iterator[tuple[int, str]]:
    """Where the code loads a selector reference of interest (before its ``objc_msgSend``):
    ``mov reg, [rip + d]`` on x86-64, ``ldr xN, [xM, #page offset]`` on arm64 (the page's
    ``adrp`` is checked by the sweep, not here)."""
    if arch == "x86_64":
        for end, _, name in resolve.slot_loads(code, address, arch, selectors):
            yield address + end - 7, name
        return
    if arch != "aarch64":
        return
    words = struct.Struct("<I").unpack_from
    # ldr x1, [xN, #offset]: the selector goes to x1; the base register's field masked off
    wanted: dict[int, str] = {}
    for selector_ref, found in selectors.items():
        if selector_ref % 8 == 0:
            wanted[0xF9400001 | ((selector_ref & 0xFFF) // 8) << 10] = found
    if not wanted:
        return
    high = sorted({(word >> 16) & 0xFF for word in wanted})  # the upper half: xx f9
    pattern = re.compile(b"[" + b"".join(re.escape(bytes([b])) for b in high) + b"]\xf9")
    for hit in pattern.finditer(code):
        at = hit.start() - 2
        if at >= 0 and at % 4 == 0 and (address + at) % 4 == 0:
            loaded = wanted.get(words(code, at)[0] & 0xFFFFFC1F)
            if loaded is not None:
                yield address + at, loaded


def _candidates(
    sites: list[tuple[int, str]], program: resolve.Program
) -> list[tuple[int, int, bool]]:
    """(sweep start, sweep end, whether a return ends the function) of each function that
    holds a fetch and a run."""
    functions = program.functions
    if functions:
        holds: dict[int, set[str]] = {}
        for address, name in sites:
            index = bisect.bisect_right(functions, address) - 1
            if index >= 0:
                kind = "fetch" if name in FETCHES else "run"
                holds.setdefault(index, set()).add(kind)
        out = []
        for index, kinds in sorted(holds.items()):
            if kinds == {"fetch", "run"}:
                start = functions[index]
                end = functions[index + 1] if index + 1 < len(functions) else start + MAX_SWEEP
                out.append((start, end, False))
        return out
    # no function starts: from the first fetch that precedes a run closely, up to that run
    fetches = sorted(address for address, name in sites if name in FETCHES)
    runs = sorted(address for address, name in sites if name in RUNS)
    out = []
    last_end = -1
    for run in runs:
        index = bisect.bisect_left(fetches, run - _WINDOW)
        if index < len(fetches) and fetches[index] < run and fetches[index] > last_end:
            out.append((fetches[index], run + 16, True))
            last_end = run
    return out


def _region(regions: list[Region], address: int) -> Region | None:
    for region in regions:
        if region.address <= address < region.address + region.size:
            return region
    return None


def _sweep(
    decoder: Any,
    code: bytes,
    start: int,
    region: Region,
    program: resolve.Program,
    resets: bool,
) -> FetchRun | None:
    arm = program.arch == "aarch64"
    if arm:
        arguments, scratch, result = _ARM64_ARGUMENTS, _ARM64_SCRATCH, "x0"
    elif program.arch == "x86_64":
        arguments, scratch, result = _X86[program.abi], _X86_SCRATCH, "rax"
    else:
        arguments, scratch, result = (), ("eax", "ecx", "edx"), "eax"
    state: dict[str, _Value] = {}
    sweep = _Sweep()
    recent: list[Instruction] = []
    best: FetchRun | None = None
    for instruction in decoder.disasm_lite(code, start):
        address, size, mnemonic, operands = instruction
        recent = [*recent[-5:], instruction]
        if mnemonic in ("ret", "retq", "retn") and resets:
            state, sweep = {}, _Sweep()
            continue
        called = _called(mnemonic, operands, address + size, state, program, arm)
        if called is None:
            if arm:
                _arm64_step(mnemonic, operands, state, program)
            else:
                _x86_step(mnemonic, operands, address + size, state, program)
            continue
        if called in MESSAGE_SENDS:
            selector = state.get("x1" if arm else "rsi", _Value()).name
            called = selector if selector is not None else called
        receiver = state.get(arguments[0]) if arguments else None
        tainted = [
            register
            for register in (*arguments, _STACK_ARGUMENTS)
            if state.get(register, _Value()).tainted
        ]
        if called and not _RUNTIME.fullmatch(called):
            sweep.calls.append(called)
        if called in RUNS and sweep.fetch is not None:
            flows = bool(tainted)
            if best is None or (flows and not best.flows):
                best = FetchRun(
                    fetch=sweep.fetch,
                    run=called,
                    flows=flows,
                    start=start if not resets else None,
                    offset=region.offset + address - region.address,
                    calls=tuple(sweep.calls[-12:]),
                    disassembly=f"calls {', '.join(sweep.calls[-12:])} | "
                    + "; ".join(f"{m} {o}".strip() for _, _, m, o in recent),
                )
            if flows:
                return best
        if receiver is not None and receiver.origin and any(r != arguments[0] for r in tainted):
            state.setdefault(receiver.origin, _Value()).tainted = True  # [task setArguments:x]
        for register in (*scratch, _STACK_ARGUMENTS):
            state.pop(register, None)
        if called in FETCHES:
            sweep.fetch = called
            state[result] = _Value(tainted=True)
        elif tainted:
            state[result] = _Value(tainted=True)
        if mnemonic in ("jmp", "b") and resets:  # a tail call ends the function
            state, sweep = {}, _Sweep()
    return best


def _called(
    mnemonic: str,
    operands: str,
    next_address: int,
    state: dict[str, _Value],
    program: resolve.Program,
    arm: bool,
) -> str | None:
    """The function a call (or a tail call to a stub) reaches, when it is known; "" for a
    call to something unknown (it still clobbers registers)."""
    if arm:
        if mnemonic in ("bl", "b"):
            target = _number(operands.lstrip("#"))
            name = program.stubs.get(target) if target is not None else None
            return name if name is not None else ("" if mnemonic == "bl" else None)
        if mnemonic in ("blr", "blraa", "blraaz", "blrab", "blrabz"):
            return state.get(_arm64_register(operands.split(",")[0]), _Value()).name or ""
        return None
    if mnemonic not in ("call", "jmp"):
        return None
    target = _number(operands)
    if target is not None:
        name = program.stubs.get(target)
        return name if name is not None else ("" if mnemonic == "call" else None)
    register = _X86_NAMES.get(operands, operands)
    if register in state:
        return state[register].name or ""
    memory = _MEMORY.fullmatch(operands)
    if memory is not None and memory.group(1) == "rip":
        displacement = int(memory.group(3) or "0", 0) * (-1 if memory.group(2) == "-" else 1)
        name = program.slots.get(next_address + displacement)
        if name is not None:
            return name
    return "" if mnemonic == "call" else None


def _x86_step(
    mnemonic: str,
    operands: str,
    next_address: int,
    state: dict[str, _Value],
    program: resolve.Program,
) -> None:
    target, _, source = operands.partition(", ")
    target = _X86_NAMES.get(target, target)
    if mnemonic == "xor" and source == operands.partition(", ")[0]:
        state.pop(target, None)
        return
    if mnemonic == "pop":
        state.pop(target, None)
        return
    if not mnemonic.startswith(("mov", "lea", "cmov")) or not source:
        return
    value = _x86_value(mnemonic, source, next_address, state, program)
    key = _x86_location(target)
    if key is None:
        return
    if key.startswith(("rsp", "esp")) and value is not None and value.tainted:
        state[_STACK_ARGUMENTS] = _Value(tainted=True)
    if value is None:
        state.pop(key, None)
    else:
        state[key] = value


def _x86_location(operand: str) -> str | None:
    """A register or a stack slot written to (other memory is not followed)."""
    memory = _MEMORY.fullmatch(operand)
    if memory is None:
        return operand if _X86_REGISTER.fullmatch(operand) else None
    base, sign, number = memory.groups()
    if base in _STACK:
        return f"{base}{sign or '+'}{number or 0}"
    return None


def _x86_value(
    mnemonic: str,
    source: str,
    next_address: int,
    state: dict[str, _Value],
    program: resolve.Program,
) -> _Value | None:
    source = _X86_NAMES.get(source, source)
    memory = _MEMORY.fullmatch(source)
    if memory is None:
        if not _X86_REGISTER.fullmatch(source):
            return None  # an immediate
        held = state.get(source, _Value())  # a copy keeps where it came from
        return _Value(held.tainted, source, held.name, held.address)
    base, sign, number = memory.groups()
    displacement = int(number, 0) if number else 0
    if sign == "-":
        displacement = -displacement
    if base == "rip":
        address = next_address + displacement
        if mnemonic == "lea":
            return _Value(address=address)
        name = program.slots.get(address) or program.selectors.get(address)
        return _Value(name=name) if name is not None else None
    if mnemonic == "lea":
        return None
    if base in _STACK:
        slot = f"{base}{sign or '+'}{number or 0}"
        held = state.get(slot, _Value())
        return _Value(held.tainted, slot, held.name)
    # a field of a tainted object is tainted
    return _Value(tainted=True) if state.get(base, _Value()).tainted else None


def _arm64_register(operand: str) -> str:
    operand = operand.strip()
    if operand[:1] == "w" and operand[1:].isdigit():
        return f"x{operand[1:]}"
    return operand


def _arm64_step(
    mnemonic: str, operands: str, state: dict[str, _Value], program: resolve.Program
) -> None:
    parts = [part.strip() for part in operands.split(", ", 1)]
    if len(parts) != 2:
        return
    target, source = _arm64_register(parts[0]), parts[1]
    if mnemonic in ("adrp", "adr"):
        state[target] = _Value(address=_number(source.lstrip("#")))
        return
    if mnemonic == "mov":
        if source.startswith("#"):
            state.pop(target, None)
            return
        copied = _arm64_register(source)
        held = state.get(copied, _Value())  # a copy keeps where it came from
        state[target] = _Value(held.tainted, copied, held.name)
        return
    if mnemonic == "add":
        base, _, immediate = source.partition(", #")
        added = state.get(_arm64_register(base), _Value())
        if added.address is not None and immediate:
            state[target] = _Value(address=added.address + (_number(immediate) or 0))
        elif added.tainted:
            state[target] = _Value(tainted=True)
        else:
            state.pop(target, None)
        return
    if mnemonic == "stp":
        second, _, memory_operand = source.partition(", ")
        memory = _ARM64_MEMORY.match(memory_operand)
        if memory is not None and memory.group(1) in _STACK:
            offset = _number(memory.group(2) or "0") or 0
            for index, register in enumerate((target, _arm64_register(second))):
                _arm64_store(state, register, memory.group(1), offset + 8 * index)
        return
    if mnemonic in ("ldr", "ldur", "str", "stur"):
        memory = _ARM64_MEMORY.match(source)
        if memory is None:
            return
        base, offset = memory.group(1), _number(memory.group(2) or "0") or 0
        if mnemonic.startswith("st"):
            if base in _STACK:
                _arm64_store(state, target, base, offset)
            return
        loaded = state.get(base, _Value())  # read before the write: ldr x16, [x16, #8]
        state.pop(target, None)
        if base in _STACK:
            slot = f"{base}{offset:+}"
            slot_value = state.get(slot, _Value())
            state[target] = _Value(slot_value.tainted, slot, slot_value.name)
        elif loaded.address is not None:
            address = loaded.address + offset
            name = program.slots.get(address) or program.selectors.get(address)
            if name is not None:
                state[target] = _Value(name=name)
        elif loaded.tainted:
            state[target] = _Value(tainted=True)
        return
    if mnemonic.startswith(("mov", "orr", "ldp", "cset", "csel")):
        state.pop(target, None)


def _arm64_store(state: dict[str, _Value], register: str, base: str, offset: int) -> None:
    held = state.get(register)
    slot = f"{base}{offset:+}"
    if held is None:
        state.pop(slot, None)
        return
    state[slot] = _Value(held.tainted, slot, held.name)
    if base == "sp" and held.tainted:
        state[_STACK_ARGUMENTS] = _Value(tainted=True)


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None
