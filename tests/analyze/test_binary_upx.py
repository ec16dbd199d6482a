"""UPX-packed ELF programs unpacked statically: a gcc-built static program is put in UPX's
container (l_info, p_info, b_info blocks: the ELF and program headers first, then each
loadable segment) by the code below, compressed with LZMA (the standard library's encoder,
or ``lzmaenc``'s for the lc = 7 liblzma cannot write; UPX's two-byte properties header) or
NRV2B (an encoder written here from the format), with UPX's x86 call filter on the code; the
exam must read the original program's capabilities. ``upx`` itself is never run (Debian
bookworm has no ``upx-ucl``)."""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from binbuild import compile_c
from binexam import analysis_of
from finalexam.analyze.binary import upx
from finalexam.analyze.binary.analyzer import UnpackFailed
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import IssueKind, Location
from upxpack import filtered, nrv, nrv2b, upx_lzma

PROGRAM = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc > 5) {
        int fd = memfd_create("x", 0);
        write(fd, argv[1], 64);
        fexecve(fd, argv, argv);
    }
    puts("an ordinary tool");
    return 0;
}
"""


def pack(program: bytes, method: int, lc: int = 3) -> bytes:
    """``program`` in UPX's ELF container, behind a loader-shaped ELF header (LZMA blocks
    with ``lc`` literal context bits)."""
    phoff, phentsize, phnum = (
        struct.unpack_from("<Q", program, 32)[0],
        *struct.unpack_from("<HH", program, 54),
    )
    header_size = phoff + phentsize * phnum
    loads = []
    for index in range(phnum):
        kind, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", program, phoff + index * 56)
        if kind == 1 and filesz:
            start = max(offset, header_size)
            loads.append((start, offset + filesz))
    blocks = [(program[:header_size], 0)]
    blocks += [
        (program[start:end], 0x49 if index == 1 else 0) for index, (start, end) in enumerate(loads)
    ]
    body = bytearray()
    for block, filter_id in blocks:
        raw, cto = filtered(block) if filter_id else (block, 0)
        packed = upx_lzma(raw, lc) if method == 14 else nrv2b(raw)
        body += struct.pack("<IIBBBB", len(block), len(packed), method, filter_id, cto, 0)
        body += packed
    body += struct.pack("<IIBBBB", 0, len(b"UPX!"), 0, 0, 0, 0) + b"UPX!"
    # the loader's own ELF header: one PT_LOAD over the file and a non-executable stack
    # (PT_GNU_STACK, as UPX writes it), no sections
    ehdr = bytearray(program[:64])
    struct.pack_into("<HHIQQQIHHHHHH", ehdr, 16, 2, 62, 1, 0x400000 + 232, 64, 0, 0, 64, 56,
                     2, 64, 0, 0)  # fmt: skip
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0, 0, 0x1000)
    phdr += struct.pack("<IIQQQQQQ", 0x6474E551, 6, 0, 0, 0, 0, 0, 16)
    l_info = struct.pack("<I4sHBB", 0, b"UPX!", 0, 14, 22)
    p_info = struct.pack("<III", 0, len(program), len(program))
    head = bytes(ehdr) + phdr
    head += b"\0" * (232 - len(head))
    out = bytearray(head + l_info + p_info + body)
    struct.pack_into("<QQ", out, 64 + 32, len(out), len(out))  # p_filesz, p_memsz
    return bytes(out)


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory = tmp_path_factory.mktemp("upx")
    return compile_c(directory, "tool", ["-O2", "-static"], PROGRAM).read_bytes()


@pytest.mark.parametrize("method", [14, 2], ids=["lzma", "nrv2b"])
def test_a_upx_packed_program_is_unpacked_and_its_capabilities_read(
    tmp_path: Path, program: bytes, method: int
) -> None:
    packed = pack(program, method)
    assert b"memfd_create" not in packed  # the symbol table is compressed
    path = tmp_path / "tool.upx"
    path.write_bytes(packed)
    unpacked = upx.unpack_elf(packed)
    for start, end in _loads(program):
        start = max(start, 64)  # the ELF header's section-table fields are cleared
        assert unpacked[start:end] == program[start:end]  # code unfiltered, data as it was
    assert unpacked[:40] == program[:40]
    assert struct.unpack_from("<Q", unpacked, 40)[0] == 0  # no section headers were kept
    analysis = analysis_of(path)
    entry = analysis.binaries[0]
    packer = entry["packer"]
    assert packer["name"] == "upx"
    assert any("UPX header at offset 232: format linux/amd64" in e for e in packer["evidence"])
    assert packer["unpacked"]["method"] == upx.METHODS[method]
    assert packer["unpacked"]["type"] == "executable"
    capabilities = {c["id"]: c for c in entry["capabilities"]}
    # the symbol table is not in a loadable segment, so UPX does not keep it: the code's
    # own system calls say what the program does
    fileless = capabilities["evasion-fileless-exec"]
    assert fileless["evidence"] == {"syscalls": ["execveat", "memfd_create"]}
    assert "syscall" in fileless["disassembly"]["memfd_create"]
    finding = next(f for f in analysis.findings if f.rule_id == "binary.packed-upx")
    assert "unpacked statically" in finding.message
    assert "capability.evasion-fileless-exec" in {f.rule_id for f in analysis.findings}


def test_a_damaged_upx_container_is_reported_not_guessed(tmp_path: Path, program: bytes) -> None:
    packed = bytearray(pack(program, 14))
    first_block = 232 + 12 + 12
    struct.pack_into("<I", packed, first_block + 4, 10**9)  # a compressed size past the end
    path = tmp_path / "tool.upx"
    path.write_bytes(bytes(packed))
    with pytest.raises(upx.UnpackError):
        upx.unpack_elf(bytes(packed))
    analysis = analysis_of(path)
    packer = analysis.binaries[0]["packer"]
    assert packer["name"] == "upx" and "unpack_error" in packer
    finding = next(f for f in analysis.findings if f.rule_id == "binary.packed-upx")
    assert "could not be unpacked" in finding.message
    assert "capability.evasion-fileless-exec" not in {f.rule_id for f in analysis.findings}
    # the packed code is the program and it was not read: a gap, not a pass
    (issue,) = analysis.issues
    assert issue.kind is IssueKind.CORRUPT and issue.location == Location(("tool.upx",))
    assert "was not examined" in issue.message and "impossible sizes" in issue.message


def test_a_packed_program_that_could_not_be_unpacked_leaves_the_exam_incomplete(
    tmp_path: Path, program: bytes
) -> None:
    # an LZMA stream written with lc=3 relabelled lc=7 (read by the pure-Python decoder) is
    # damaged data: its first block does not decode, so the program inside was never examined
    packed = bytearray(pack(program, 14))
    first_data = 232 + 12 + 12 + 12
    lc, lp, pb = 7, 0, 2
    packed[first_data : first_data + 2] = bytes([((lc + lp) << 3) | pb, (lp << 4) | lc])
    path = tmp_path / "tool"
    path.write_bytes(bytes(packed))
    with pytest.raises(upx.UnpackError):
        upx.unpack_elf(bytes(packed))
    (issue,) = analysis_of(path).issues
    assert issue.kind is IssueKind.CORRUPT and "LZMA block (lc=7, lp=0)" in issue.message
    out = tmp_path / "report.json"
    command = [sys.executable, "-m", "finalexam", "scan", str(path), "-o", f"json={out}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 3, result.stderr
    report = json.loads(out.read_text())
    assert report["complete"] is False and report["verdict"]["status"] == "incomplete"
    assert [i["kind"] for i in report["issues"]] == ["corrupt"]
    # the user who accepts corrupt content gets the verdict of what was examined
    result = subprocess.run(
        [*command, "--allow-incomplete", "corrupt"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    # an intact container of the same program is examined in full
    intact = tmp_path / "intact"
    intact.write_bytes(pack(program, 14))
    assert analysis_of(intact).issues == []


def test_a_program_packed_with_lzma_lc7_is_unpacked_and_examined(tmp_path: Path) -> None:
    # lc=7 (as ``upx --brute`` may choose) is valid LZMA that liblzma refuses: the blocks go
    # through the pure-Python decoder. A dynamically linked build keeps the test fast; its
    # imports are in its loadable segments, so only the unpacked code shows them
    program = compile_c(tmp_path, "tool", ["-O2"], PROGRAM).read_bytes()
    packed = pack(program, 14, lc=7)
    first_data = 232 + 12 + 12 + 12
    assert packed[first_data : first_data + 2] == bytes([(7 << 3) | 2, 7])
    assert b"memfd_create" not in packed and b"an ordinary tool" not in packed
    unpacked = upx.unpack_elf(packed)
    for start, end in _loads(program):
        start = max(start, 64)
        assert unpacked[start:end] == program[start:end]
    path = tmp_path / "tool.upx"
    path.write_bytes(packed)
    report = run_exam(path, Config(offline=True, disable=("vulnerabilities",)))
    assert report.complete and report.issues == (), report.issues
    (entry,) = report.binaries
    assert entry["packer"]["unpacked"]["method"] == "lzma"
    assert {"memfd_create", "fexecve"} <= set(entry["packer"]["unpacked"]["imports"])
    fileless = next(c for c in entry["capabilities"] if c["id"] == "evasion-fileless-exec")
    assert set(fileless["evidence"]["imports"]) == {"memfd_create", "fexecve"}
    assert "capability.evasion-fileless-exec" in {f.rule_id for f in report.findings}


def test_lzma_past_the_pure_python_bound_is_reported_as_a_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = compile_c(tmp_path, "tool", ["-O2"], PROGRAM).read_bytes()
    packed = pack(program, 14, lc=7)
    monkeypatch.setattr(upx, "MAX_PYTHON_LZMA", 1000)
    with pytest.raises(upx.UnpackLimit, match=r"lc=7, lp=0 .* over the") as raised:
        upx.unpack_elf(packed)
    failed = UnpackFailed.of(raised.value)
    assert failed.kind is IssueKind.LIMIT and "pure-Python decoder" in failed.reason


def test_the_lzma_properties_header_of_upx() -> None:
    # UPX's own decoder test: 9 bytes of LZMA (lc 3, lp 0, pb 2) make 16 bytes of 0xff
    assert upx.decompress(b"\x1a\x03\x00\x7f\xed\x3c\x00\x00\x00", 14, 16) == b"\xff" * 16
    with pytest.raises(upx.UnpackError):
        upx.decompress(b"\x1a\x03\x00\x7f\xed\x3c\x00\x00\x00", 14, 17)


@pytest.mark.parametrize("method", [2, 5, 8], ids=["nrv2b", "nrv2d", "nrv2e"])
def test_nrv_round_trip_with_long_and_repeated_matches(method: int) -> None:
    data = (b"abcabcabcabc" * 300 + bytes(range(256)) * 8 + b"x" * 5000 + b"abcd") * 3
    data += b"".join(bytes([i % 251, i % 7, 3]) * (i % 5 + 1) for i in range(3000))
    packed = nrv(data, upx.METHODS[method])
    assert len(packed) < len(data) // 3
    assert upx.decompress(packed, method, len(data)) == data
    with pytest.raises(upx.UnpackError):
        upx.decompress(packed[: len(packed) // 2], method, len(data))


def miner_source() -> str:
    """A program that names a mining pool (a high capability, read from its strings) and
    carries 64 KiB of random data (4 bits a byte: it compresses by half, and evenly) in its
    last segment, where the file is cut."""
    noise = random.Random(16).randbytes(65536)
    table = ",".join(str(byte & 15) for byte in noise)
    return (
        "#include <stdio.h>\n"
        f"unsigned char table[65536] = {{{table}}};\n"
        "int main(int argc, char **argv) {\n"
        '    printf("%s %d\\n", "stratum+tcp://pool.example:3333", table[argc]);\n'
        "    return 0;\n"
        "}\n"
    )


def _blocks(packed: bytes) -> list[tuple[int, int, int]]:
    """(offset of the b_info, declared size, packed size) of each block of a container."""
    out, position = [], 232 + 12 + 12
    while True:
        unpacked_size, packed_size = struct.unpack_from("<II", packed, position)
        if unpacked_size == 0:
            return out
        out.append((position, unpacked_size, packed_size))
        position += 12 + packed_size


@pytest.mark.parametrize("method", [14, 2], ids=["lzma", "nrv2b"])
def test_a_truncated_container_is_examined_as_far_as_it_goes(tmp_path: Path, method: int) -> None:
    program = compile_c(tmp_path, "miner", ["-O2", "-no-pie"], miner_source()).read_bytes()
    packed = pack(program, method)
    blocks = _blocks(packed)
    last, declared, packed_size = blocks[-1]
    cut = packed[: last + 12 + packed_size * 3 // 4]  # a copy that stops in the last block
    unpacking = upx.read_elf(cut)
    assert unpacking.partial is not None
    assert f"block {len(blocks)} of {len(blocks)}: decoded " in unpacking.partial
    decoded = int(unpacking.partial.split("decoded ")[1].split()[0])
    assert declared // 2 < decoded < declared
    # what decoded is the program's own, at its place; the rest reads as zeros
    start, end = _loads(program)[-1]
    assert unpacking.image[start : start + decoded] == program[start : start + decoded]
    assert not any(unpacking.image[start + decoded : end])
    with pytest.raises(upx.UnpackError, match="the file ends inside the packed data"):
        upx.unpack_elf(cut)
    path = tmp_path / "miner.upx"
    path.write_bytes(cut)
    report = run_exam(path, Config(offline=True, disable=("vulnerabilities",)))
    # the partial program's high capability fails the exam; the rest stays a gap
    (issue,) = report.issues
    assert issue.kind is IssueKind.CORRUPT and "only the part that decoded" in issue.message
    assert not report.complete and report.status.value == "failed"
    (entry,) = report.binaries
    assert entry["packer"]["unpacked"]["partial"] == unpacking.partial
    mining = next(f for f in report.findings if f.rule_id == "capability.mining")
    assert mining.severity.value == "high" and "stratum+tcp://" in mining.message
    packed_finding = next(f for f in report.findings if f.rule_id == "binary.packed-upx")
    assert "only in part: the file ends inside the packed data" in packed_finding.message
    # the same file whole: complete, and failed for the same reason
    path.write_bytes(packed)
    whole = run_exam(path, Config(offline=True, disable=("vulnerabilities",)))
    assert whole.complete and "capability.mining" in {f.rule_id for f in whole.findings}


def test_a_container_cut_between_blocks_lays_out_the_blocks_before(tmp_path: Path) -> None:
    program = compile_c(tmp_path, "miner", ["-O2", "-no-pie"], miner_source()).read_bytes()
    packed = pack(program, 14)
    blocks = _blocks(packed)
    unpacking = upx.read_elf(packed[: blocks[-1][0]])
    assert unpacking.partial is not None
    assert unpacking.partial.endswith(f"block {len(blocks)} of {len(blocks)} is missing")
    start, end = _loads(program)[-2]
    assert unpacking.image[start:end] == program[start:end]
    # a cut inside the first block (the original headers) leaves nothing to lay out
    with pytest.raises(upx.UnpackError, match="cut short"):
        upx.read_elf(packed[: blocks[0][0] + 20])


def _loads(program: bytes) -> list[tuple[int, int]]:
    phoff = struct.unpack_from("<Q", program, 32)[0]
    phnum = struct.unpack_from("<H", program, 56)[0]
    out = []
    for index in range(phnum):
        kind, _, offset, _, _, filesz = struct.unpack_from("<IIQQQQ", program, phoff + index * 56)
        if kind == 1 and filesz:
            out.append((offset, offset + filesz))
    return out
