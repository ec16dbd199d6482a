"""Binary types (kernel module, .NET), the signed → unsigned change, and hostile headers."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binbuild import WIN_INJECTOR, compile_c, require, self_signed
from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.analyze.binary.facts.parse import examine
from finalexam.config import Config
from finalexam.model import FileEntry, FileType, Location

MODULE = (
    'char modinfo[] __attribute__((section(".modinfo"))) = "license=GPL";\n'
    "int init_module(void) { return 0; }\n"
)


def test_kernel_module_is_recognised(tmp_path: Path) -> None:
    facts = examine(compile_c(tmp_path, "mod.ko", ["-c"], MODULE).read_bytes())
    assert facts.type == "kernel-module"
    assert "pie" not in facts.hardening and "relro" not in facts.hardening


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("kinds")
    return compile_c(directory, "w.exe", ["-O2"], WIN_INJECTOR, "x86_64-w64-mingw32-gcc")


def test_dotnet_assembly_by_clr_directory(exe: Path) -> None:
    data = bytearray(exe.read_bytes())
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    clr_entry = pe + 24 + 112 + 14 * 8  # data directory 14 of a PE32+ optional header
    text_rva = examine(bytes(data)).entrypoint or 0x1000
    struct.pack_into("<II", data, clr_entry, text_rva, 72)
    facts = examine(bytes(data))
    assert facts.type == "dotnet-assembly"
    assert "cfg" not in facts.hardening and "gs" not in facts.hardening


def test_signed_then_unsigned_changes_one_stable_key(exe: Path, tmp_path: Path) -> None:
    tool = require("osslsigncode")
    key, cert = self_signed(tmp_path)
    signed = tmp_path / "signed.exe"
    subprocess.run(
        [tool, "sign", "-certs", str(cert), "-key", str(key), "-in", str(exe), "-out", str(signed)],
        check=True,
        capture_output=True,
    )
    unsigned = tmp_path / "unsigned.exe"
    subprocess.run(
        [tool, "remove-signature", "-in", str(signed), "-out", str(unsigned)],
        check=True,
        capture_output=True,
    )
    before, after = describe(signed.read_bytes()), describe(unsigned.read_bytes())
    assert before["signature"]["signed"] is True and after["signature"]["signed"] is False
    assert before["hardening"]["code_signature"] is True
    assert after["hardening"]["code_signature"] is False
    assert set(before) - {"overlay"} == set(after) - {"overlay"}


def describe(data: bytes) -> dict[str, object]:
    entry = FileEntry(
        Location(("a", "x.exe")), len(data), "0" * 64, "0" * 40, FileType.PE, _loader=lambda: data
    )
    return dict(BinaryAnalyzer(Config()).analyze(entry).binaries[0])


@pytest.fixture(scope="module")
def small_elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return compile_c(tmp_path_factory.mktemp("fuzz"), "t", ["-O2", "-s"]).read_bytes()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 1023), st.integers(0, 255)), min_size=1, max_size=8))
def test_mutated_headers_never_break_the_analyzer(
    small_elf: bytes, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(small_elf)
    for offset, value in flips:
        data[offset] = value
    raw = bytes(data)
    entry = FileEntry(
        Location(("a", "t")), len(raw), "0" * 64, "0" * 40, FileType.ELF, _loader=lambda: raw
    )
    analysis = BinaryAnalyzer(Config()).analyze(entry)  # must not raise
    assert len(analysis.binaries) + len(analysis.issues) <= 1
