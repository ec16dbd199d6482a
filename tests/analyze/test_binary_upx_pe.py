"""UPX-packed PE programs unpacked statically: mingw-built Windows programs (32 and 64-bit)
are put in UPX's PE container by ``upxpack.pack_pe`` (written from UPX's pefile.cpp: the
image compressed behind a ``UPX!`` pack header, the code call-filtered, the imports moved to
UPX's compressed import table, the original header and sections in the extra info); the
exam must read the original imports and strings. Neither ``upx`` nor the programs are run."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import lief
import pytest

from binbuild import compile_c, require
from binexam import analysis_of
from finalexam.analyze.binary import upx, upx_pe
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import IssueKind, Location
from upxpack import pack_pe

INJECTOR = r"""
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    if (argc > 3) {
        HANDLE p = OpenProcess(PROCESS_ALL_ACCESS, FALSE, (DWORD)atoi(argv[1]));
        void *m = VirtualAllocEx(p, 0, 4096, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
        WriteProcessMemory(p, m, argv[2], 64, 0);
        CreateRemoteThread(p, 0, 0, (LPTHREAD_START_ROUTINE)m, 0, 0, 0);
    }
    printf("%s\n", "stratum+tcp://pool.example:3333");
    return 0;
}
"""
# with ASLR (relocations, which UPX keeps and stores relative), or without (none to keep)
FIXED = ["-Wl,--disable-dynamicbase,--disable-reloc-section"]
CASES = [
    ("x86_64-w64-mingw32-gcc", 0x49, 14, True),
    ("x86_64-w64-mingw32-gcc", 0x49, 8, False),
    ("i686-w64-mingw32-gcc", 0x26, 14, True),
    ("i686-w64-mingw32-gcc", 0x26, 2, False),
]
IDS = ["win64-lzma-aslr", "win64-nrv2e", "win32-lzma-aslr", "win32-nrv2b"]


def _build(tmp_path: Path, compiler: str, relocatable: bool = False) -> bytes:
    flags = ["-O2", "-s", *([] if relocatable else FIXED)]
    return compile_c(tmp_path, "tool.exe", flags, INJECTOR, compiler=compiler).read_bytes()


def _imports(binary: lief.PE.Binary) -> set[tuple[str, str]]:
    """(library, name or #ordinal) of every import."""
    return {
        (lib.name.lower(), f"#{entry.ordinal}" if entry.is_ordinal else entry.name)
        for lib in binary.imports
        for entry in lib.entries
    }


def _section(binary: lief.PE.Binary, name: str) -> bytes:
    return bytes(next(s for s in binary.sections if s.name == name).content)


@pytest.mark.parametrize(("compiler", "filter_id", "method", "relocatable"), CASES, ids=IDS)
def test_a_upx_packed_pe_is_unpacked_and_its_imports_and_strings_read(
    tmp_path: Path, compiler: str, filter_id: int, method: int, relocatable: bool
) -> None:
    program = _build(tmp_path, compiler, relocatable)
    assert bool(lief.PE.parse(program).relocations) is relocatable
    packed = pack_pe(program, method, filter_id)
    # the packed file imports only what UPX's loader needs (and one function per library)
    assert ("kernel32.dll", "VirtualAllocEx") not in _imports(lief.PE.parse(packed))
    if method == 14:  # NRV keeps literal bytes in its stream, LZMA codes them
        assert b"VirtualAllocEx" not in packed and b"stratum+tcp://" not in packed
    found = upx_pe.header(packed)
    assert found is not None and found.filter_id == filter_id
    wide = compiler.startswith("x86_64")
    assert found.describe().startswith(
        f"UPX header at offset {found.offset}: format {'win64/pe' if wide else 'win32/pe'}, "
        f"method {upx.METHODS[method]}"
    )
    original = lief.PE.parse(program)
    unpacked = lief.PE.parse(upx_pe.unpack_pe(packed))
    # the imports as the program had them (UPX names kernel32 in capitals), the code with
    # its calls unfiltered, code and data with their absolute addresses as they were
    assert _imports(unpacked) == _imports(original)
    for name in (".text", ".rdata", ".data"):
        assert _section(unpacked, name) == _section(original, name), name
    assert unpacked.optional_header.addressof_entrypoint == (
        original.optional_header.addressof_entrypoint
    )
    path = tmp_path / "tool.upx.exe"
    path.write_bytes(packed)
    report = run_exam(path, Config(offline=True, disable=("vulnerabilities",)))
    assert report.complete and report.issues == (), report.issues
    assert report.status.value == "failed"
    (entry,) = report.binaries
    packer = entry["packer"]
    assert packer["name"] == "upx" and packer["unpacked"]["method"] == upx.METHODS[method]
    assert {"OpenProcess", "VirtualAllocEx", "WriteProcessMemory"} <= set(
        packer["unpacked"]["imports"]
    )
    assert any(e.startswith("UPX header at offset") for e in packer["evidence"])
    injection = next(c for c in entry["capabilities"] if c["id"] == "process-injection")
    assert {"VirtualAllocEx", "WriteProcessMemory", "CreateRemoteThread"} <= set(
        injection["evidence"]["imports"]
    )
    mining = next(f for f in report.findings if f.rule_id == "capability.mining")
    assert mining.severity.value == "high" and "stratum+tcp://" in mining.message


ORDINALS = r"""
#include <winsock2.h>
#include <windows.h>
int main(int argc, char **argv) {
    SOCKET s = socket(2, 1, 6);
    connect(s, 0, 0);
    Beep(750, 300);
    return argc;
}
"""


def test_imports_by_ordinal_are_read(tmp_path: Path) -> None:
    # import libraries that bind by ordinal only (NONAME), as some linkers do for ws2_32:
    # UPX keeps such an ordinal as FF and a number, and a kernel32 one as FE and the offset of
    # a thunk in the packed file's own import table
    dlltool = require("i686-w64-mingw32-dlltool")
    definitions = {
        "ws2ord": "LIBRARY WS2_32.dll\nEXPORTS\nsocket@12 @23 NONAME\nconnect@12 @4 NONAME\n",
        "k32ord": "LIBRARY KERNEL32.dll\nEXPORTS\nBeep@8 @17 NONAME\n",
    }
    for name, text in definitions.items():
        (tmp_path / f"{name}.def").write_text(text)
        command = [dlltool, "-k", "-d", str(tmp_path / f"{name}.def")]
        subprocess.run([*command, "-l", str(tmp_path / f"lib{name}.a")], check=True)
    source, program = tmp_path / "tool.c", tmp_path / "tool.exe"
    source.write_text(ORDINALS)
    compiler = [require("i686-w64-mingw32-gcc"), "-O2", "-s", *FIXED, "-o", str(program)]
    libraries = [f"-L{tmp_path}", "-lws2ord", "-lk32ord"]  # after the source that uses them
    subprocess.run([*compiler, str(source), *libraries], check=True, capture_output=True)
    original = lief.PE.parse(program.read_bytes())
    packed = pack_pe(program.read_bytes(), 14, 0x26)
    unpacked = lief.PE.parse(upx_pe.unpack_pe(packed))
    assert _imports(unpacked) == _imports(original)
    ordinals = {
        (lib.name.lower(), entry.ordinal)
        for lib in unpacked.imports
        for entry in lib.entries
        if entry.is_ordinal
    }
    assert ordinals == {("ws2_32.dll", 4), ("ws2_32.dll", 23), ("kernel32.dll", 17)}


def test_a_damaged_or_cut_pe_container_leaves_the_exam_incomplete(tmp_path: Path) -> None:
    program = _build(tmp_path, "i686-w64-mingw32-gcc")
    packed = pack_pe(program, 14, 0x26)
    found = upx_pe.header(packed)
    assert found is not None
    with pytest.raises(upx.UnpackError, match="cut short"):
        upx_pe.unpack_pe(packed[: found.offset + 32 + found.packed_size // 2])
    # a compressed size past the end of the file: the data is not there to unpack
    damaged = bytearray(packed)
    struct.pack_into("<I", damaged, found.offset + 20, len(packed))
    path = tmp_path / "tool.exe"
    path.write_bytes(bytes(damaged))
    analysis = analysis_of(path)
    (issue,) = analysis.issues
    assert issue.kind is IssueKind.CORRUPT and issue.location == Location(("tool.exe",))
    assert "was not examined" in issue.message and "cut short" in issue.message
    assert "capability.process-injection" not in {f.rule_id for f in analysis.findings}
    # a compressed size that stops early: the stream does not give the declared size
    struct.pack_into("<I", damaged, found.offset + 20, found.packed_size // 2)
    with pytest.raises(upx.UnpackError):
        upx_pe.unpack_pe(bytes(damaged))
    # a file cut inside its sections does not parse as a PE: corrupt, as any such file
    path.write_bytes(packed[: found.offset + 32 + found.packed_size // 2])
    report = run_exam(path, Config(offline=True, disable=("vulnerabilities",)))
    (issue,) = report.issues
    assert issue.kind is IssueKind.CORRUPT and "truncated" in issue.message
    assert not report.complete


def _naive_filter(code: bytes, filter_id: int, base: int) -> bytes:
    """UPX's naive call filters (0x11-0x16): every E8 (0x11, 0x14), E9 (0x12, 0x15) or both
    (0x13, 0x16) gets its rel32 made absolute (plus ``base``), little-endian or, from 0x14,
    big-endian."""
    opcodes = {0: (0xE8,), 1: (0xE9,), 2: (0xE8, 0xE9)}[(filter_id - 0x11) % 3]
    order = "big" if filter_id >= 0x14 else "little"
    out = bytearray(code)
    index = 0
    while index < len(out) - 5:
        if out[index] in opcodes:
            field = index + 1
            value = (int.from_bytes(out[field : field + 4], "little") + field + base) & 0xFFFFFFFF
            out[field : field + 4] = value.to_bytes(4, order)  # type: ignore[arg-type]
            index = field + 4
        else:
            index += 1
    return bytes(out)


@pytest.mark.parametrize("filter_id", [0x11, 0x12, 0x13, 0x14, 0x15, 0x16])
def test_the_naive_call_filters_are_undone(tmp_path: Path, filter_id: int) -> None:
    code = _section(lief.PE.parse(_build(tmp_path, "i686-w64-mingw32-gcc")), ".text")
    filtered = _naive_filter(code, filter_id, 0x1000)
    assert filtered != code
    assert upx.unfilter(filtered, filter_id, 0, 0x1000) == code
