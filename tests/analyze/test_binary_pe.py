"""PE facts, mitigations (checked against pefile) and Authenticode (signed with osslsigncode)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import lief
import pefile
import pytest

from binbuild import WIN_INJECTOR, compile_c, require, self_signed
from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.analyze.binary.facts.parse import examine
from finalexam.analyze.binary.signing import authenticode_digest
from finalexam.config import Config
from finalexam.model import FileEntry, FileType, Location

MINGW64 = "x86_64-w64-mingw32-gcc"
MINGW32 = "i686-w64-mingw32-gcc"


@pytest.fixture(scope="module")
def pes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("pe")
    return {
        "x64": compile_c(directory, "x64.exe", ["-O2"], WIN_INJECTOR, MINGW64),
        "x86": compile_c(directory, "x86.exe", ["-O2"], WIN_INJECTOR, MINGW32),
        "weak": compile_c(
            directory,
            "weak.exe",
            ["-O2", "-Wl,--disable-dynamicbase,--disable-nxcompat,--disable-high-entropy-va"],
            WIN_INJECTOR,
            MINGW64,
        ),
        "dll": compile_c(
            directory,
            "x.dll",
            ["-shared"],
            "__declspec(dllexport) int answer(void){return 42;}\n",
            MINGW64,
        ),
    }


def pefile_reference(path: Path) -> dict[str, bool]:
    pe = pefile.PE(str(path), fast_load=True)
    flags = pe.OPTIONAL_HEADER.DllCharacteristics
    aslr = bool(flags & 0x40) and not pe.FILE_HEADER.Characteristics & 0x1
    out = {"aslr": aslr, "dep": bool(flags & 0x100), "cfg": bool(flags & 0x4000)}
    if pe.OPTIONAL_HEADER.Magic == 0x20B:
        out["high_entropy_va"] = aslr and bool(flags & 0x20)
    return out


@pytest.mark.parametrize("name", ["x64", "x86", "weak", "dll"])
def test_mitigations_agree_with_pefile(pes: dict[str, Path], name: str) -> None:
    ours = examine(pes[name].read_bytes()).hardening
    for key, value in pefile_reference(pes[name]).items():
        assert ours[key] is value, key


def test_facts_and_keys_per_architecture(pes: dict[str, Path]) -> None:
    x64 = examine(pes["x64"].read_bytes())
    assert (x64.format, x64.arch, x64.type, x64.bits) == ("pe", "x86_64", "executable", 64)
    assert "kernel32.dll" in x64.libraries
    assert {"VirtualAllocEx", "WriteProcessMemory", "CreateRemoteThread"} <= x64.imports
    assert "safe_seh" not in x64.hardening  # x86 only
    x86 = examine(pes["x86"].read_bytes())
    assert x86.arch == "i386" and "safe_seh" in x86.hardening
    assert "high_entropy_va" not in x86.hardening  # PE32+ only
    weak = examine(pes["weak"].read_bytes()).hardening
    assert weak["aslr"] is False and weak["dep"] is False
    dll = examine(pes["dll"].read_bytes())
    assert dll.type == "shared-library" and "answer" in dll.exports


def analyze(path: Path, data: bytes | None = None) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    raw = path.read_bytes() if data is None else data
    entry = FileEntry(
        location=Location(("artifact.zip", path.name)),
        size=len(raw),
        sha256="0" * 64,
        sha1="0" * 40,
        file_type=FileType.PE,
        _loader=lambda: raw,
    )
    analysis = BinaryAnalyzer(Config()).analyze(entry)
    assert not analysis.issues, analysis.issues
    return dict(analysis.binaries[0]), sorted(f.rule_id for f in analysis.findings)


def test_findings_for_an_unsigned_injector(pes: dict[str, Path]) -> None:
    entry, rules = analyze(pes["weak"])
    assert "capability.process-injection" in rules
    assert "binary.unsigned-windows-executable" in rules
    assert {"binary.no-dep", "binary.no-aslr"} <= set(rules)
    injection = next(c for c in entry["capabilities"] if c["id"] == "process-injection")
    assert "WriteProcessMemory" in injection["evidence"]["imports"]
    assert entry["signature"] == {"signed": False, "kind": "authenticode"}
    _, dll_rules = analyze(pes["dll"])
    assert "binary.unsigned-windows-executable" not in dll_rules  # libraries: a fact only


@pytest.fixture(scope="module")
def signed(pes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool = require("osslsigncode")
    directory = tmp_path_factory.mktemp("signed")
    key, cert = self_signed(directory)
    out = directory / "signed.exe"
    subprocess.run(
        [
            tool,
            "sign",
            "-certs",
            str(cert),
            "-key",
            str(key),
            "-h",
            "sha256",
            "-n",
            "x",
            "-in",
            str(pes["x64"]),
            "-out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


def test_authenticode_digest_matches_lief(signed: Path) -> None:
    data = signed.read_bytes()
    binary = lief.PE.parse(data)
    assert binary is not None
    assert (
        authenticode_digest(data, "sha256")
        == bytes(binary.authentihash(lief.PE.ALGORITHMS.SHA_256)).hex()
    )


def test_signed_file_facts_and_tampering(signed: Path) -> None:
    entry, rules = analyze(signed)
    signature = entry["signature"]
    assert signature["signed"] is True and signature["digest_matches"] is True
    assert signature["digest_algorithm"] == "sha256"
    assert "Example Test Signer" in signature["subject"]
    assert signature["self_signed"] is True
    assert signature["not_before"] == "2024-01-01T00:00:00Z"
    assert entry["hardening"]["code_signature"] is True
    assert "binary.unsigned-windows-executable" not in rules
    assert "binary.signature-mismatch" not in rules
    data = bytearray(signed.read_bytes())
    text = examine(bytes(data)).sections[0]
    data[text.offset + 100] ^= 0xFF  # one byte of code changed after signing
    tampered, tampered_rules = analyze(signed, bytes(data))
    assert tampered["signature"]["digest_matches"] is False
    assert "binary.signature-mismatch" in tampered_rules


def test_digest_agrees_with_osslsigncode(signed: Path) -> None:
    tool = require("osslsigncode")
    result = subprocess.run([tool, "verify", "-in", str(signed)], capture_output=True, text=True)
    match = re.search(r"Calculated message digest\s*:\s*([0-9A-F]+)", result.stdout)
    assert match is not None, result.stdout
    assert authenticode_digest(signed.read_bytes(), "sha256") == match.group(1).lower()


# The shape of distlib's launcher (pip's t64.exe): a stub that runs the archive appended to it
LAUNCHER = r"""
#include <stdio.h>
static const char *messages[] = {
    "Fatal error in launcher: %s",
    "Unable to find an appended archive.",
    "Expected to find terminator in shebang line",
};
int main(int argc, char **argv) { puts(messages[argc % 3]); return 0; }
"""


# The shape of uv's trampoline (pex ships uv-trampoline-x86_64-console.exe): the Python path
# and the script's zip are appended behind a magic number
UV_TRAMPOLINE = r"""
#include <stdio.h>
static const char *messages[] = {
    "Magic number 'UVSC' or 'UVPY' not found at the end of the file.",
    "Failed to spawn the python child process",
};
int main(int argc, char **argv) { puts(messages[argc % 2]); return 0; }
"""


@pytest.mark.parametrize("source", [LAUNCHER, UV_TRAMPOLINE], ids=["distlib", "uv"])
def test_unsigned_build_tool_launchers_are_reported_without_blocking(
    tmp_path: Path, source: str
) -> None:
    from builders import write, zip_bytes
    from finalexam.exam import run_exam

    launcher = compile_c(tmp_path, "t64.exe", ["-O2"], source, MINGW64)
    tool = compile_c(tmp_path, "tool.exe", ["-O2"], WIN_INJECTOR, MINGW64)
    members = {
        "tool-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n",
        "tool/_vendor/t64.exe": launcher.read_bytes(),
    }
    wheel = write(tmp_path / "tool-1.0-py3-none-any.whl", zip_bytes(members))
    report = run_exam(wheel, Config(only=("binary",)))
    unsigned = [f for f in report.findings if f.rule_id == "binary.unsigned-windows-executable"]
    assert [str(f.context) for f in unsigned] == ["launcher"]
    assert report.verdict.passed
    members["tool/helper.exe"] = tool.read_bytes()  # the package's own program still counts
    wheel = write(tmp_path / "tool-1.1-py3-none-any.whl", zip_bytes(members))
    report = run_exam(wheel, Config(only=("binary",)))
    assert not report.verdict.passed
    assert all("helper.exe" in v.message for v in report.verdict.violations)


def test_a_uefi_application_has_no_windows_process_mitigations_to_lack(
    pes: dict[str, Path],
) -> None:
    """grub's and shim's signed EFI loaders (Debian's grub-efi-amd64-signed, shim-signed) are
    loaded by firmware, not by Windows, whose DEP and ASLR flags they do not set. The same
    image as a Windows program still lacks them."""
    data = bytearray(pes["weak"].read_bytes())
    optional = int.from_bytes(data[0x3C:0x40], "little") + 24
    data[optional + 68 : optional + 70] = (10).to_bytes(2, "little")  # EFI_APPLICATION
    entry, rules = analyze(pes["weak"], bytes(data))
    assert entry["details"]["subsystem"] == "efi_application"
    assert not {"binary.no-dep", "binary.no-aslr"} & set(rules)
    _, windows = analyze(pes["weak"])
    assert {"binary.no-dep", "binary.no-aslr"} <= set(windows)


def test_an_unsigned_uefi_image_is_reported_as_one_without_blocking(
    pes: dict[str, Path],
) -> None:
    """refind's file-system drivers and efitools' KeyTool.efi ship unsigned for the machine's
    owner to sign with keys they enrol: firmware with Secure Boot on refuses them until then,
    and Windows never runs them. The same image as a Windows program is an unsigned one."""
    data = bytearray(pes["weak"].read_bytes())
    optional = int.from_bytes(data[0x3C:0x40], "little") + 24
    data[optional + 68 : optional + 70] = (11).to_bytes(2, "little")  # EFI_BOOT_SERVICE_DRIVER
    _, rules = analyze(pes["weak"], bytes(data))
    assert "binary.unsigned-uefi-image" in rules
    assert "binary.unsigned-windows-executable" not in rules
    _, windows = analyze(pes["weak"])
    assert "binary.unsigned-windows-executable" in windows
    assert "binary.unsigned-uefi-image" not in windows
