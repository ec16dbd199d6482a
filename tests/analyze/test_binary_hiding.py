"""Packers, overlays, embedded executables, Mach-O facts, and broken binaries as Issues."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from binbuild import (
    WIN_INJECTOR,
    adhoc_code_signature,
    compile_c,
    minimal_macho,
)
from finalexam.analyze.base import Analysis
from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.analyze.binary.facts.common import BinaryFacts, Section
from finalexam.analyze.binary.facts.parse import examine
from finalexam.analyze.binary.packers import embedded_executables, packer
from finalexam.config import Config
from finalexam.model import FileEntry, IssueKind, Location
from finalexam.unpack.filetype import detect


def run(data: bytes, name: str = "tool") -> Analysis:
    entry = FileEntry(
        location=Location(("artifact.tar", name)),
        size=len(data),
        sha256="0" * 64,
        sha1="0" * 40,
        file_type=detect(data[:4096], name, len(data)),
        _loader=lambda: data,
    )
    analyzer = BinaryAnalyzer(Config())
    return analyzer.analyze(entry) if analyzer.accepts(entry) else Analysis()


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    directory = tmp_path_factory.mktemp("hiding")
    return compile_c(
        directory, "w.exe", ["-O2"], WIN_INJECTOR, "x86_64-w64-mingw32-gcc"
    ).read_bytes()


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return compile_c(tmp_path_factory.mktemp("elf"), "tool", ["-O2"]).read_bytes()


def rename_sections(data: bytes, names: dict[bytes, bytes]) -> bytes:
    out = bytearray(data)
    for old, new in names.items():
        at = out.find(old.ljust(8, b"\0"), 0, 4096)
        assert at > 0
        out[at : at + 8] = new.ljust(8, b"\0")
    return bytes(out)


def test_upx_section_names_and_magic(exe: bytes) -> None:
    packed = rename_sections(exe, {b".text": b"UPX0", b".data": b"UPX1"})
    packed = packed[:0x3E0] + b"UPX!" + packed[0x3E4:]  # loader header in the PE header slack
    analysis = run(packed, "packed.exe")
    entry = analysis.binaries[0]
    assert entry["packer"]["name"] == "upx"
    assert "section 'UPX0'" in entry["packer"]["evidence"]
    packed_finding = next(f for f in analysis.findings if f.rule_id == "binary.packed-upx")
    assert packed_finding.title == "Packed with UPX"
    # UPX on PE is detected, not unpacked: the program inside was not examined
    (gap,) = analysis.issues
    assert gap.kind is IssueKind.UNSUPPORTED and "detected, not unpacked" in gap.message
    plain = run(exe, "plain.exe")
    assert plain.binaries[0]["packer"] is None and plain.issues == []


def test_high_entropy_code_with_tiny_import_table_looks_packed() -> None:
    sections = [Section(".text", 1024, 65536, 7.9, executable=True)]
    facts = BinaryFacts("pe", "x86_64", "executable", sections=sections, imports={"LoadLibraryA"})
    verdict = packer(facts, b"MZ" + b"\0" * 100)
    assert verdict is not None and verdict["name"] == "unknown"
    facts.imports = {f"Import{i}" for i in range(50)}
    assert packer(facts, b"MZ" + b"\0" * 100) is None


def test_executable_in_overlay(exe: bytes, elf: bytes) -> None:
    dropper = exe + elf
    analysis = run(dropper, "dropper.exe")
    entry = analysis.binaries[0]
    assert entry["overlay"]["offset"] == len(exe)
    assert entry["overlay"]["kind"] == "elf"
    assert {"format": "elf", "offset": len(exe)} in entry["embedded"]
    rules = {f.rule_id for f in analysis.findings}
    assert {"binary.overlay-executable", "binary.embedded-executable"} <= rules
    assert "overlay" not in run(exe).binaries[0]


def test_embedded_pe_inside_data() -> None:
    data = b"\0" * 100 + b"MZ" + b"\0" * 58 + (64).to_bytes(4, "little") + b"PE\0\0" + b"\0" * 64
    assert embedded_executables(data) == [{"format": "pe", "offset": 100}]
    assert embedded_executables(b'if (!memcmp(p, "\\x7fELF", 4))' + b"\x7fELF" + b"\0" * 60) == []


def test_truncated_and_garbage_binaries_are_issues(elf: bytes, exe: bytes) -> None:
    for data, name in (
        (elf[: len(elf) // 2], "cut"),
        (exe[:600], "cut.exe"),
        (b"\x7fELF" + b"\xff" * 60, "garbage"),
    ):
        analysis = run(data, name)
        assert not analysis.binaries, name
        assert len(analysis.issues) == 1, name
        assert analysis.issues[0].message.startswith("corrupt binary"), name
        assert analysis.issues[0].plugin == "binary"
    not_pe = run(b"MZ is a text that starts like DOS\n" * 10, "notes.txt")
    assert not not_pe.binaries and not not_pe.issues


def test_a_header_only_elf_is_a_note_and_a_cut_loadable_one_a_gap(elf: bytes) -> None:
    """The first bytes of an ELF kept as a fixture (packaging's tests keep 52-byte headers of
    ARM executables) cannot be loaded: nothing was left unexamined. Cut after the program
    headers, a loader would still map it: that stays a gap."""
    header_only = run(elf[:64], "hello-world-armv7l")
    [note] = header_only.issues
    assert note.kind is IssueKind.NOTE and not note.kind.gap
    assert note.message.startswith("not loadable: program headers end at")
    [cut] = run(elf[:4096], "cut").issues
    assert cut.kind is IssueKind.CORRUPT and cut.message.startswith("corrupt binary: truncated")


def test_macho_facts_signature_and_keys() -> None:
    signed = examine(minimal_macho(pie=True, signature=adhoc_code_signature()))
    assert (signed.format, signed.arch, signed.type) == ("macho", "x86_64", "executable")
    assert signed.hardening["pie"] is True and signed.hardening["nx"] is True
    assert signed.hardening["code_signature"] is True
    assert signed.signature == {
        "signed": True,
        "kind": "macho-code-signature",
        "adhoc": True,
        "identifier": "com.example.tool",
    }
    assert "aslr" not in signed.hardening and "relro" not in signed.hardening
    loose = run(minimal_macho(pie=False, exec_stack=True), "tool")
    assert loose.binaries[0]["signature"] == {"signed": False, "kind": "macho-code-signature"}
    assert {"binary.exec-stack", "binary.no-pie"} <= {f.rule_id for f in loose.findings}


def test_identical_report_for_identical_input(elf: bytes) -> None:
    assert run(elf).binaries == run(elf).binaries


def test_an_elf_for_no_machine_has_no_hardening_to_lack(tmp_path: Path) -> None:
    """lilypond ships Guile's compiled ``.go`` files: ELF containers of bytecode for no
    machine (EM_NONE) without PT_GNU_STACK, which Guile maps itself. The same library built
    for x86-64 with an executable stack is still reported."""
    native = compile_c(
        tmp_path,
        "libx.so",
        ["-shared", "-fPIC", "-z", "execstack"],
        source="int f(void) { return 1; }\n",
    )
    assert "binary.exec-stack" in {f.rule_id for f in run(native.read_bytes(), "libx.so").findings}
    objcopy = shutil.which("objcopy")
    if objcopy is None:
        pytest.skip("objcopy (binutils) is not installed")
    generic = tmp_path / "accreg.go"
    subprocess.run([objcopy, "-O", "elf64-little", str(native), str(generic)], check=True)
    analysis = run(generic.read_bytes(), "usr/lib/lilypond/ccache/lily/accreg.go")
    assert analysis.binaries[0]["arch"] == "none"
    assert not [f for f in analysis.findings if f.rule_id.startswith("binary.")]


def _retyped_stack(elf: bytes, os_abi: int, segment_type: int, flags: int) -> bytes:
    """The 64-bit ELF with its PT_GNU_STACK header given another type and flags, and another
    OS/ABI byte: how the Go linker writes programs for other systems."""
    data = bytearray(elf)
    data[7] = os_abi
    phoff, phentsize, phnum = (
        int.from_bytes(data[32:40], "little"),
        int.from_bytes(data[54:56], "little"),
        int.from_bytes(data[56:58], "little"),
    )
    for index in range(phnum):
        at = phoff + index * phentsize
        if int.from_bytes(data[at : at + 4], "little") == 0x6474E551:  # PT_GNU_STACK
            data[at : at + 4] = segment_type.to_bytes(4, "little")
            data[at + 4 : at + 8] = flags.to_bytes(4, "little")
    return bytes(data)


def test_the_stack_of_a_program_for_openbsd_netbsd_or_solaris(tmp_path: Path) -> None:
    """esbuild's @esbuild/openbsd-x64 and netbsd-x64 carry Go programs without PT_GNU_STACK:
    those systems never map a stack executable. Its sunos-x64 program states the stack in
    PT_SUNWSTACK, read as PT_GNU_STACK is. Without either, a Linux program's stack runs."""
    elf = compile_c(tmp_path, "tool", [], source="int main(void) { return 0; }\n").read_bytes()
    pt_null, pt_sunwstack, rw, rwx = 0, 0x6FFFFFFB, 6, 7
    cases = {
        "linux, none": (_retyped_stack(elf, 0, pt_null, 0), True),
        "netbsd, none": (_retyped_stack(elf, 2, pt_null, 0), False),
        "openbsd, none": (_retyped_stack(elf, 12, pt_null, 0), False),
        "solaris, rw": (_retyped_stack(elf, 0, pt_sunwstack, rw), False),
        "solaris, rwx": (_retyped_stack(elf, 0, pt_sunwstack, rwx), True),
    }
    for case, (data, executable) in cases.items():
        found = "binary.exec-stack" in {f.rule_id for f in run(data).findings}
        assert found is executable, case
