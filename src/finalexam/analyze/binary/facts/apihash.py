"""Imports resolved by a hash of their name: shellcode and loaders walk a library's export
table, hash each name and compare it with a constant, so that no API name appears in the file.

The constants are computed here, when first needed, from the names in ``api_names.toml``
under each algorithm in ``ALGORITHMS`` (the ROR-13 add of Metasploit's ``block_api``, which
also hashes the library's name, plain ROR-13, CRC-32, djb2, FNV-1a). One Hyperscan pass finds
them in the file; a value counts when it is an instruction's immediate (``push imm32``,
``mov r32, imm32``, ``cmp r32, imm32``...) or sits beside another in a table, and a binary is
said to resolve by hash only when at least ``MIN_NAMES`` different names of one algorithm are
found: a single 32-bit value is a coincidence in a large file, several of one scheme are not.
"""

from __future__ import annotations

import tomllib
import zlib
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from finalexam.analyze.binary.facts.common import ResolvedName

NAMES = Path(__file__).resolve().parents[1] / "api_names.toml"
MIN_NAMES = 2
MAX_HITS = 4_096  # candidate constants examined per file
SCAN_LIMIT = 64 * 1024 * 1024
_TABLE_REACH = 16  # two known values this close are a table of hashes


def _ror(value: int, bits: int) -> int:
    return ((value >> bits) | (value << (32 - bits))) & 0xFFFFFFFF


def ror13(data: bytes) -> int:
    value = 0
    for byte in data:
        value = (_ror(value, 13) + byte) & 0xFFFFFFFF
    return value


def metasploit(library: str, name: str) -> int:
    """``block_api``: ROR-13 over the library's name (UTF-16LE, upper case, with its
    terminator) plus ROR-13 over the function's name with its terminator."""
    module = ror13((library.upper() + "\0").encode("utf-16-le"))
    return (module + ror13(name.encode("ascii") + b"\0")) & 0xFFFFFFFF


def djb2(data: bytes) -> int:
    value = 5381
    for byte in data:
        value = (value * 33 + byte) & 0xFFFFFFFF
    return value


def fnv1a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


ALGORITHMS: dict[str, Callable[[str, str], int]] = {
    "ror13-block-api": metasploit,
    "ror13": lambda library, name: ror13(name.encode("ascii")),
    "crc32": lambda library, name: zlib.crc32(name.encode("ascii")),
    "djb2": lambda library, name: djb2(name.encode("ascii")),
    "fnv1a": lambda library, name: fnv1a(name.encode("ascii")),
}


@cache
def known_hashes() -> dict[int, tuple[str, str]]:
    """Hash value -> (algorithm, function name), for every name under every algorithm."""
    libraries: dict[str, list[str]] = tomllib.loads(NAMES.read_text(encoding="utf-8"))
    table: dict[int, tuple[str, str]] = {}
    for algorithm, function in ALGORITHMS.items():
        for library, names in libraries.items():
            for name in names:
                table.setdefault(function(library, name), (algorithm, name))
    return table


@cache
def _database() -> tuple[object, list[int]] | None:
    try:
        import hyperscan
    except ImportError:
        return None
    values = sorted(known_hashes())
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[
            "".join(f"\\x{b:02x}" for b in v.to_bytes(4, "little")).encode() for v in values
        ],
        ids=list(range(len(values))),
        elements=len(values),
        flags=[0] * len(values),
    )
    return database, values


def _immediate(data: bytes, at: int) -> bool:
    """Whether the four bytes at ``at`` are the immediate of a push, mov, cmp or and."""
    before = data[max(at - 2, 0) : at]
    if len(before) < 2:
        return False
    last = before[-1]
    if last == 0x68 or 0xB8 <= last <= 0xBF or last == 0x3D:  # push, mov r32, cmp eax
        return True
    # cmp/xor/add/sub r32, imm32 (81 /7 ...), mov r/m32, imm32 (c7 /0)
    return before[0] in (0x81, 0xC7) and last >= 0xC0


def hashed_imports(
    data: bytes, bits: int, posix_code: Sequence[tuple[int, int]] = ()
) -> dict[str, ResolvedName]:
    """Functions the code names only by a hash: name -> the first constant found.
    ``posix_code``: file ranges (start, end) of a Linux or macOS program's own code, which can
    call no Windows-only function (capitalised: ReadFile, VirtualAlloc); hashes of those
    names compared there are hashes of the program's own strings. The BSD socket names
    (connect, send) stay: a Linux implant may resolve libc's by hash."""
    compiled = _database()
    if compiled is None:
        return {}
    database, values = compiled
    table = known_hashes()
    hits: list[tuple[int, int]] = []  # (offset, value)

    def on_match(index: int, start: int, end: int, flags: int, context: object) -> None:
        at = end - 4
        if len(hits) >= MAX_HITS:
            return
        if table[values[index]][1][:1].isupper() and any(lo <= at < hi for lo, hi in posix_code):
            return
        hits.append((at, values[index]))

    head = data[:SCAN_LIMIT]
    database.scan(head, match_event_handler=on_match)  # type: ignore[attr-defined]
    hits.sort()
    kept: list[tuple[int, int]] = []
    for index, (at, value) in enumerate(hits):
        beside = any(
            0 < abs(other - at) <= _TABLE_REACH and other_value != value
            for other, other_value in hits[max(index - 2, 0) : index + 3]
        )
        if beside or _immediate(head, at):
            kept.append((at, value))
    per_algorithm: dict[str, dict[str, int]] = {}
    for at, value in kept:
        algorithm, name = table[value]
        per_algorithm.setdefault(algorithm, {}).setdefault(name, at)
    found: dict[str, ResolvedName] = {}
    for algorithm, names in sorted(per_algorithm.items()):
        if len(names) < MIN_NAMES:
            continue
        for name, at in names.items():
            if name not in found:
                found[name] = ResolvedName(
                    name=name,
                    via=algorithm,
                    offset=at,
                    disassembly=_instruction(head, at, bits)
                    or f"dd {int.from_bytes(head[at : at + 4], 'little'):#x}",
                )
    return found


def _instruction(data: bytes, at: int, bits: int) -> str:
    """The instruction whose immediate is at ``at`` (tried from each start that could hold
    an opcode and a ModRM byte before it)."""
    import capstone

    disassembler = capstone.Cs(
        capstone.CS_ARCH_X86, capstone.CS_MODE_64 if bits == 64 else capstone.CS_MODE_32
    )
    for back in (1, 2, 3, 4):
        start = at - back
        if start < 0:
            break
        for address, size, mnemonic, operands in disassembler.disasm_lite(
            data[start : at + 4], start
        ):
            if address == start and size == back + 4:
                return f"{mnemonic} {operands}".strip()
            break
    return ""
