"""Functions and libraries a program resolves at run time by name, read from its code with
capstone: the string constant loaded into the name argument of each call to ``dlsym``/
``dlopen`` (ELF, Mach-O) or ``GetProcAddress``/``LoadLibrary`` (PE), x86-64, i386 and arm64
(``bl`` to a stub; its argument from ``adrp``/``add``, ``mov`` or ``adr``). The same
reading gives the integer constants passed to the functions of ``CONSTANT_CALLS``: a
``socket(AF_INET, SOCK_RAW, ...)`` or ``setsockopt(s, IPPROTO_IP, IP_HDRINCL, ...)`` is
a raw socket, which the import table (``socket``, ``setsockopt``) cannot tell.

A program that resolves ``ptrace`` with ``dlsym`` is able to trace as much as one that imports
it, but its import table says only ``dlsym``. Each call to a resolver is found by byte search
(no linear sweep of the code): direct calls to its PLT stub (``call rel32``), calls through its
GOT or IAT slot (``call [rip + d]``, ``call [abs]``), and calls through a register loaded from
that slot a few instructions before (``mov rsi, [GetProcAddress]; ...; call rsi``); on arm64,
``bl``/``b`` to a stub. Mach-O stubs and slots are named by its indirect symbol table
(``facts.macho``); Objective-C selector stubs (``objc_msgSend$sel``) by the selector. The call's
basic block is disassembled backwards and the nearest load of the argument (a register on
x86-64, a ``push`` or ``[esp + n]`` store on i386) resolved when it is the address of a string
in the file (``lea rsi, [rip + d]``, ``mov edi, imm``, ``lea eax, [ebx - d]`` with ebx the GOT
of position-independent i386 code).

Bounded like the system-call scan (``facts.code``): at most ``MAX_CODE`` bytes of code and
``MAX_SITES`` calls are read, inside the supervised child.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from finalexam.analyze.binary.facts.code import MAX_CODE, Instruction, Region, disassembler
from finalexam.analyze.binary.facts.code import block as code_block
from finalexam.analyze.binary.facts.common import ConstantCall, ResolvedName

MAX_SITES = 4_000  # resolver calls read per binary
_BACK = 64  # bytes before a call disassembled for its arguments
_WINDOW = 5  # instructions shown as evidence
_REGISTER_REACH = 256  # bytes between a register load from a slot and the call through it
_MAX_NAME = 256


@dataclass(frozen=True)
class Resolver:
    argument: int  # which argument is the name (0-based)
    library: bool  # the name is a library's, not a function's
    wide: bool = False  # UTF-16LE name (the W functions)


RESOLVERS: dict[str, Resolver] = {
    "dlsym": Resolver(1, False),
    "dlvsym": Resolver(1, False),
    "__libc_dlsym": Resolver(1, False),
    "dlopen": Resolver(0, True),
    "dlmopen": Resolver(1, True),
    "__libc_dlopen_mode": Resolver(0, True),
    "GetProcAddress": Resolver(1, False),
    "LoadLibraryA": Resolver(0, True),
    "LoadLibraryExA": Resolver(0, True),
    "LoadLibraryW": Resolver(0, True, wide=True),
    "LoadLibraryExW": Resolver(0, True, wide=True),
    "GetModuleHandleA": Resolver(0, True),
    "GetModuleHandleW": Resolver(0, True, wide=True),
}
# Functions whose integer arguments are read at each call, and which (0-based): a socket's
# domain, type and protocol; setsockopt's level and option.
CONSTANT_CALLS: dict[str, tuple[int, ...]] = {
    "socket": (0, 1, 2),
    "WSASocketA": (0, 1, 2),
    "WSASocketW": (0, 1, 2),
    "setsockopt": (1, 2),
}
# Every function whose calls are read
READ_CALLS = frozenset(RESOLVERS) | frozenset(CONSTANT_CALLS)

# Argument registers of the x86-64 calling conventions, each with its narrower names
_SYSV = (("rdi", "edi"), ("rsi", "esi"), ("rdx", "edx"))
_WIN64 = (("rcx", "ecx"), ("rdx", "edx"), ("r8", "r8d"))
_FUNCTION_NAME = re.compile(rb"[A-Za-z_?@][A-Za-z0-9_@?$.]{1,254}")
_LIBRARY_NAME = re.compile(rb"[A-Za-z0-9_./+-]{2,255}")
_MEMORY = re.compile(r"(?:(?:dword|qword) ptr )?\[(?:(\w+) )?(?:([+-]) )?(0x[0-9a-f]+|\d+)?\]")
_FLOW = ("j", "call", "ret", "int", "hlt", "ud2", "iret", "syscall", "sysenter", "loop")
_CALL_REGISTER_64 = re.compile(rb"(\x41)?\xff([\xd0-\xd7])")
_CALL_REGISTER_32 = re.compile(rb"\xff([\xd0-\xd7])")
_LOAD_SLOT_64 = re.compile(rb"([\x48\x4c])\x8b([\x05\x0d\x15\x1d\x25\x2d\x35\x3d])", re.DOTALL)
_LOAD_SLOT_32 = re.compile(rb"\x8b([\x05\x0d\x15\x1d\x25\x2d\x35\x3d])|\xa1", re.DOTALL)
_ARM64_BRANCH = re.compile(rb"[\x14-\x17\x94-\x97]")  # the top byte of b/bl
_REGISTERS_64 = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi")
_REGISTERS_32 = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")


@dataclass
class Program:
    """What the scan needs to know about one binary."""

    arch: str  # x86_64 or i386
    abi: str  # sysv or win64 (x86-64); i386 passes arguments on the stack
    code: list[Region]  # executable code
    mapped: list[Region]  # every part of the file that is loaded (to read strings)
    stubs: dict[int, str]  # PLT/Mach-O stub address -> function called
    slots: dict[int, str]  # GOT/IAT slot address -> function whose address it holds
    got: int | None = None  # i386 PIC: the value ebx holds (the .got.plt address)
    selectors: dict[int, str] = field(default_factory=dict)  # Mach-O selector ref -> selector
    functions: list[int] = field(default_factory=list)  # sorted function starts, when known
    offset: int = 0  # where the binary starts in the file (a slice of a fat Mach-O)


def supported(arch: str) -> bool:
    return arch in ("x86_64", "i386", "aarch64")


@dataclass
class CallReading:
    """What the calls of a program's code say."""

    resolved: dict[str, ResolvedName]  # name -> its first call
    resolver_calls: int  # calls to a resolver read (resolved or not)
    constant_calls: list[ConstantCall]


def read_calls(data: bytes, program: Program) -> CallReading:
    """Names resolved at run time, and the constants passed to ``CONSTANT_CALLS``."""
    reading = CallReading({}, 0, [])
    if not supported(program.arch) or not (program.stubs or program.slots):
        return reading
    decoder = disassembler(program.arch)
    sites = 0
    budget = MAX_CODE
    for region in program.code:
        code = data[region.offset : region.offset + min(region.size, budget)]
        budget -= len(code)
        for at, function in calls(code, region.address, program):
            if function not in READ_CALLS:
                continue
            sites += 1
            if sites > MAX_SITES:
                return reading
            if function in CONSTANT_CALLS:
                constants = _read_constants(code, region, at, function, program, decoder)
                if constants is not None:
                    reading.constant_calls.append(constants)
                continue
            reading.resolver_calls += 1
            name = _read_call(data, code, region, at, function, program, decoder)
            if name is not None:
                reading.resolved.setdefault(name.name, name)
        if budget <= 0:
            break
    return reading


def plt_stubs(data: bytes, program: Program, plt: list[Region]) -> dict[int, str]:
    """ELF: the PLT stubs that jump through a resolver's GOT slot (``jmp [rip + d]``,
    ``jmp [ebx + d]``, ``jmp [abs]``), by their entry address (an ``endbr`` before the jump
    starts the stub)."""
    if not program.slots or not supported(program.arch):
        return {}
    decoder = disassembler(program.arch)
    stubs: dict[int, str] = {}
    for region in plt:
        previous: Instruction | None = None
        code = data[region.offset : region.offset + min(region.size, 1 << 20)]
        for instruction in decoder.disasm_lite(code, region.address):
            address, size, mnemonic, operands = instruction
            if mnemonic in ("jmp", "bnd jmp") and "[" in operands:
                slot = _memory_address(operands.replace("qword ptr ", ""), address + size, program)
                resolver = program.slots.get(slot) if slot is not None else None
                if resolver is not None:
                    stubs[address] = resolver
                    if previous is not None and previous[2].startswith("endbr"):
                        stubs[previous[0]] = resolver
            previous = instruction
    return stubs


def calls(code: bytes, address: int, program: Program) -> Iterator[tuple[int, str]]:
    """(offset in ``code``, function) of each call to a function of ``program.stubs`` or
    ``program.slots``."""
    if program.arch == "aarch64":
        yield from _arm64_calls(code, address, program.stubs)
        return
    wide = program.arch == "x86_64"
    unpack = struct.Struct("<i").unpack_from
    unpack_unsigned = struct.Struct("<I").unpack_from
    if program.stubs:
        for found in re.finditer(b"[\xe8\xe9]", code):  # call, and jmp (a tail call)
            at = found.start()
            if at + 5 <= len(code):
                target = (address + at + 5 + unpack(code, at + 1)[0]) & 0xFFFFFFFFFFFFFFFF
                if target in program.stubs:
                    yield at, program.stubs[target]
    if not program.slots:
        return
    # call [slot], and jmp [slot]: a tail call, unless it is a stub's own jump (ELF PLT, PE thunk)
    for found in re.finditer(b"\xff[\x15\x25]", code):
        at = found.start()
        if at + 6 <= len(code) and address + at not in program.stubs:
            if wide:
                slot = address + at + 6 + unpack(code, at + 2)[0]
            else:
                slot = unpack_unsigned(code, at + 2)[0]
            if slot in program.slots:
                yield at, program.slots[slot]
    # a register loaded from a slot, then called
    loaded: dict[int, tuple[str, str]] = {}  # end of the load -> (register, resolver)
    for end, register, resolver in slot_loads(code, address, program.arch, program.slots):
        loaded[end] = (register, resolver)
    if not loaded:
        return
    pattern = _CALL_REGISTER_64 if wide else _CALL_REGISTER_32
    names = _REGISTERS_64 if wide else _REGISTERS_32
    for found in pattern.finditer(code):
        at = found.start()
        extended = wide and found.group(1) is not None
        if extended:
            register = f"r{8 + found.group(2)[0] - 0xD0}"
        else:
            register = names[found.group(found.lastindex or 1)[0] - 0xD0]
        for end, (held, resolver) in loaded.items():
            if held == register and 0 <= at - end <= _REGISTER_REACH:
                yield at, resolver
                break


def thunks(data: bytes, program: Program) -> dict[int, str]:
    """PE import thunks: a ``jmp [slot]`` that is a function of its own (MinGW calls the
    functions it does not declare ``dllimport`` through one), by its address, so that calls
    to it count as calls of the import."""
    found: dict[int, str] = {}
    if program.arch not in ("x86_64", "i386") or not program.slots:
        return found
    unpack = struct.Struct("<i" if program.arch == "x86_64" else "<I").unpack_from
    for region in program.code:
        code = data[region.offset : region.offset + min(region.size, MAX_CODE)]
        for hit in re.finditer(b"\xff\x25", code):
            at = hit.start()
            if at + 6 > len(code) or (at and code[at - 1] == 0x48):  # rex.W: a tail call
                continue
            slot = unpack(code, at + 2)[0]
            if program.arch == "x86_64":
                slot += region.address + at + 6
            if slot in program.slots:
                found[region.address + at] = program.slots[slot]
    return found


def _arm64_calls(code: bytes, address: int, stubs: dict[int, str]) -> Iterator[tuple[int, str]]:
    """``bl`` (and ``b``, a tail call) to a stub: the top six bits are 100101 (000101)."""
    if not stubs:
        return
    low, high = min(stubs), max(stubs)
    words = struct.Struct("<I").unpack_from
    for found in _ARM64_BRANCH.finditer(code):
        at = found.start() - 3
        if at < 0 or at % 4 or (address + at) % 4:
            continue
        word = words(code, at)[0]
        offset = (word & 0x3FFFFFF) << 2
        if offset & 0x8000000:
            offset -= 1 << 28
        target = address + at + offset
        if low <= target <= high and target in stubs:
            yield at, stubs[target]


def slot_loads(
    code: bytes, address: int, arch: str, slots: dict[int, str]
) -> Iterator[tuple[int, str, str]]:
    """(end offset, register, name) of each ``mov reg, [slot]`` of one of ``slots`` (an import's
    GOT/IAT slot; a Mach-O selector reference)."""
    unpack = struct.Struct("<i").unpack_from
    unpack_unsigned = struct.Struct("<I").unpack_from
    if arch == "x86_64":
        for found in _LOAD_SLOT_64.finditer(code):
            at = found.start()
            if at + 7 > len(code):
                continue
            slot = address + at + 7 + unpack(code, at + 3)[0]
            resolver = slots.get(slot)
            if resolver is not None:
                number = (code[at + 2] >> 3) & 7
                extended = found.group(1) == b"\x4c"
                register = f"r{8 + number}" if extended else _REGISTERS_64[number]
                yield at + 7, register, resolver
        return
    for found in _LOAD_SLOT_32.finditer(code):
        at = found.start()
        if found.group(0) == b"\xa1":
            if at + 5 <= len(code):
                resolver = slots.get(unpack_unsigned(code, at + 1)[0])
                if resolver is not None:
                    yield at + 5, "eax", resolver
            continue
        if at + 6 <= len(code):
            resolver = slots.get(unpack_unsigned(code, at + 2)[0])
            if resolver is not None:
                yield at + 6, _REGISTERS_32[(code[at + 1] >> 3) & 7], resolver


def _read_call(
    data: bytes,
    code: bytes,
    region: Region,
    at: int,
    resolver_name: str,
    program: Program,
    decoder: Any,
) -> ResolvedName | None:
    block = code_block(decoder, program.arch, code, region.address, at, _BACK)
    if block is None:
        return None
    before = block[:-1]
    resolver = RESOLVERS[resolver_name]
    address = _argument(before, resolver.argument, program)
    if address is None:
        return None
    located = _file_offset(program.mapped, address)
    if located is None:
        return None
    name = _read_name(data, located, resolver)
    if name is None:
        return None
    window = [f"{mnemonic} {operands}".strip() for _, _, mnemonic, operands in block]
    return ResolvedName(
        name=name,
        via=resolver_name,
        library=resolver.library,
        offset=region.offset + at,
        string_offset=located,
        disassembly="; ".join(window[-_WINDOW - 1 :]),
    )


def _read_constants(
    code: bytes, region: Region, at: int, function: str, program: Program, decoder: Any
) -> ConstantCall | None:
    block = code_block(decoder, program.arch, code, region.address, at, _BACK)
    if block is None:
        return None
    before = block[:-1]
    arguments: list[int | None] = []
    for argument in CONSTANT_CALLS[function]:
        arguments.append(_argument(before, argument, program))
    window = [f"{mnemonic} {operands}".strip() for _, _, mnemonic, operands in block]
    return ConstantCall(
        function=function,
        arguments=tuple(arguments),
        offset=region.offset + at,
        disassembly="; ".join(window[-_WINDOW - 1 :]),
    )


def _argument(before: list[Instruction], argument: int, program: Program) -> int | None:
    """The constant the code passes as ``argument`` (0-based) of the call after ``before``."""
    if program.arch == "x86_64":
        registers = (_WIN64 if program.abi == "win64" else _SYSV)[argument]
        return _register_value(before, registers, program)
    if program.arch == "aarch64":
        return _arm64_value(before, argument)
    return _stack_argument(before, argument, program)


def _arm64_value(before: list[Instruction], number: int) -> int | None:
    """arm64: the value the nearest write to x<number> (or w<number>) leaves there, when it is
    a constant: ``mov``/``movz`` of an immediate, ``adr``, or ``adrp`` plus ``add``."""
    names = (f"x{number}", f"w{number}")
    for index in range(len(before) - 1, -1, -1):
        _, _, mnemonic, operands = before[index]
        parts = operands.split(", ")
        if parts[0] not in names:
            continue
        if mnemonic in ("mov", "movz") and len(parts) == 2:
            if parts[1] in ("xzr", "wzr"):
                return 0
            if parts[1].startswith("#"):
                return _immediate(parts[1][1:])
            if parts[1][0] in "xw" and parts[1][1:].isdigit():  # a copy: follow it
                return _arm64_value(before[:index], int(parts[1][1:]))
            return None
        if mnemonic in ("adr", "adrp") and len(parts) == 2:
            return _immediate(parts[1].lstrip("#"))
        if mnemonic == "add" and len(parts) == 3 and parts[2].startswith("#"):
            base = parts[1]
            if base[0] in "xw" and base[1:].isdigit():
                page = _arm64_value(before[:index], int(base[1:]))
                offset = _immediate(parts[2][1:])
                return page + offset if page is not None and offset is not None else None
        return None
    return None


def _register_value(
    before: list[Instruction], registers: tuple[str, ...], program: Program
) -> int | None:
    """The address the nearest write to ``registers`` leaves there, when it is a constant."""
    for index in range(len(before) - 1, -1, -1):
        address, size, mnemonic, operands = before[index]
        target, _, source = operands.partition(", ")
        if target not in registers:
            if target in _ALIASES and _ALIASES[target] & set(registers):
                return None  # written in part: not a plain address
            continue
        if mnemonic == "xor" and source == target:  # the compilers' way of writing 0
            return 0
        if mnemonic == "mov" and source in _ALIASES:  # a copy (unoptimised code): follow it
            return _register_value(before[:index], tuple(_ALIASES[source]), program)
        if mnemonic == "mov" and source:
            return _immediate(source)
        if mnemonic == "lea" and source:
            return _memory_address(source, address + size, program)
        return None
    return None


def _stack_argument(before: list[Instruction], argument: int, program: Program) -> int | None:
    """i386: the value pushed as ``argument`` (the last push is the first argument) or stored
    at ``[esp + 4 * argument]``."""
    pushes = 0
    for index in range(len(before) - 1, -1, -1):
        _, _, mnemonic, operands = before[index]
        if mnemonic == "push":
            if pushes == argument:
                return _value(before[:index], operands, program)
            pushes += 1
        elif mnemonic == "mov" and pushes == 0 and operands.startswith("dword ptr [esp"):
            slot, _, source = operands.partition(", ")
            offset = 0 if slot == "dword ptr [esp]" else _slot_offset(slot)
            if offset == 4 * argument:
                return _value(before[:index], source, program)
    return None


def _slot_offset(slot: str) -> int | None:
    found = re.fullmatch(r"dword ptr \[esp \+ (0x[0-9a-f]+|\d+)\]", slot)
    return int(found.group(1), 0) if found else None


def _value(before: list[Instruction], operand: str, program: Program) -> int | None:
    """An i386 operand's value: an immediate, or a register's nearest constant load."""
    value = _immediate(operand)
    if value is not None:
        return value
    if operand in _REGISTERS_32:
        return _register_value(before, (operand,), program)
    return None


def _memory_address(operand: str, next_address: int, program: Program) -> int | None:
    found = _MEMORY.fullmatch(operand)
    if found is None:
        return None
    base, sign, number = found.groups()
    displacement = int(number, 0) if number else 0
    if sign == "-":
        displacement = -displacement
    if base is None:
        return displacement
    if base == "rip":
        return next_address + displacement
    if base == "ebx" and program.got is not None:
        return (program.got + displacement) & 0xFFFFFFFF
    return None


def _immediate(operand: str) -> int | None:
    try:
        return int(operand, 0)
    except ValueError:
        return None


def _file_offset(mapped: list[Region], address: int) -> int | None:
    for region in mapped:
        if region.address <= address < region.address + region.size:
            return region.offset + address - region.address
    return None


def _read_name(data: bytes, offset: int, resolver: Resolver) -> str | None:
    if resolver.wide:
        raw = data[offset : offset + 2 * _MAX_NAME]
        end = next((i for i in range(0, len(raw) - 1, 2) if raw[i : i + 2] == b"\0\0"), -1)
        if end <= 0:
            return None
        try:
            name = raw[:end].decode("utf-16-le").encode("ascii")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return None
    else:
        end = data.find(b"\0", offset, offset + _MAX_NAME + 1)
        if end <= offset:
            return None
        name = data[offset:end]
    pattern = _LIBRARY_NAME if resolver.library else _FUNCTION_NAME
    return name.decode("ascii") if pattern.fullmatch(name) else None


# A write to one of these registers changes the other names of the same register
_FAMILIES = (
    ("rax", "eax", "ax", "al"),
    ("rbx", "ebx", "bx", "bl"),
    ("rcx", "ecx", "cx", "cl"),
    ("rdx", "edx", "dx", "dl"),
    ("rsi", "esi", "si", "sil"),
    ("rdi", "edi", "di", "dil"),
    ("r8", "r8d", "r8w", "r8b"),
    ("r9", "r9d", "r9w", "r9b"),
)
_ALIASES = {name: set(family) for family in _FAMILIES for name in family}
