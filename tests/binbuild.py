"""Real binaries for tests, built by the system toolchains (tests skip when one is absent)."""

from __future__ import annotations

import datetime
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

C_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char buffer[64];
    strcpy(buffer, argv[0]);
    printf("%s\n", buffer);
    return (int)strlen(buffer);
}
"""

WIN_INJECTOR = r"""
#include <windows.h>
int main(void) {
    HANDLE p = OpenProcess(PROCESS_ALL_ACCESS, FALSE, 1234);
    void *m = VirtualAllocEx(p, 0, 4096, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    WriteProcessMemory(p, m, "x", 1, 0);
    CreateRemoteThread(p, 0, 0, (LPTHREAD_START_ROUTINE)m, 0, 0, 0);
    return 0;
}
"""


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (see .ci/system-packages)")
    return path


def compile_c(
    directory: Path, name: str, flags: list[str], source: str = C_PROGRAM, compiler: str = "gcc"
) -> Path:
    require(compiler)
    src = directory / f"{name}.c"
    src.write_text(source)
    out = directory / name
    subprocess.run([compiler, *flags, "-o", str(out), str(src)], check=True, capture_output=True)
    return out


def build_macho(
    directory: Path,
    name: str,
    source: str,
    arches: tuple[str, ...] = ("x86_64",),
    flags: tuple[str, ...] = ("-O2",),
    language: str = "objective-c",
) -> Path:
    """A macOS executable built by clang and lld (ld64.lld) without an SDK: the source declares
    what it calls, and the imports stay undefined, bound by dyld at run time
    (``-undefined dynamic_lookup``). Several ``arches`` make a universal (fat) file
    (llvm-lipo)."""
    clang = require("clang")
    _llvm_tool(clang, "ld64.lld")
    suffix = {"objective-c": "m", "c": "c"}[language]
    src = directory / f"{name}.{suffix}"
    src.write_text(source)
    slices = []
    for arch in arches:
        if arch == arches[0] and len(arches) == 1:
            out = directory / name
        else:
            out = directory / f"{name}.{arch}"
        command = [clang, "-target", f"{arch}-apple-macos11", *flags, "-fuse-ld=lld", "-nostdlib"]
        command += ["-Wl,-undefined,dynamic_lookup", "-o", str(out), str(src)]
        subprocess.run(command, check=True, capture_output=True)
        slices.append(out)
    if len(slices) == 1:
        return slices[0]
    lipo = _llvm_tool(clang, "llvm-lipo")
    out = directory / name
    command = [lipo, "-create", *map(str, slices), "-output", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    return out


def _llvm_tool(clang: str, tool: str) -> str:
    """A tool of clang's own LLVM (Debian installs it under /usr/lib/llvm-N/bin)."""
    found = subprocess.run([clang, f"-print-prog-name={tool}"], capture_output=True, text=True)
    path = found.stdout.strip()
    if not Path(path).is_absolute():
        path = shutil.which(tool) or ""
    if not path:
        pytest.skip(f"{tool} is not installed (see .ci/system-packages)")
    return path


def build_go(
    directory: Path, name: str, source: str, flags: tuple[str, ...] = (), output: str = ""
) -> Path:
    """A program of one file (``name.go``) built by the system's go into ``output`` (default
    ``name``), offline: GOPATH mode, no modules."""
    go = require("go")
    (directory / f"{name}.go").write_text(source)
    env = {
        **os.environ,
        "GOCACHE": str(directory / "gocache"),
        "GOPATH": str(directory / "gopath"),
        "GOTOOLCHAIN": "local",
        "GOFLAGS": "",
        "GO111MODULE": "off",
    }
    out = directory / (output or name)
    command = [go, "build", *flags, "-o", str(out), f"{name}.go"]
    subprocess.run(command, cwd=directory, env=env, check=True, capture_output=True)
    return out


def minimal_macho(*, pie: bool, exec_stack: bool = False, signature: bytes | None = None) -> bytes:
    """A 64-bit x86_64 MH_EXECUTE with __TEXT, __LINKEDIT and optionally LC_CODE_SIGNATURE."""
    flags = 0x85 | (0x200000 if pie else 0) | (0x20000 if exec_stack else 0)
    commands: list[bytes] = []
    linkedit_offset = 0x1000
    sig = signature or b""

    def segment(name: bytes, vmaddr: int, vmsize: int, fileoff: int, filesize: int) -> bytes:
        return struct.pack(
            "<II16sQQQQiiII",
            0x19,
            72,
            name.ljust(16, b"\0"),
            vmaddr,
            vmsize,
            fileoff,
            filesize,
            7,
            5,
            0,
            0,
        )

    commands.append(segment(b"__PAGEZERO", 0, 0x100000000, 0, 0))
    commands.append(segment(b"__TEXT", 0x100000000, 0x1000, 0, 0x1000))
    commands.append(segment(b"__LINKEDIT", 0x100001000, 0x1000, linkedit_offset, len(sig)))
    commands.append(struct.pack("<IIQQ", 0x80000028, 24, 0x800, 0))  # LC_MAIN
    if signature is not None:
        commands.append(struct.pack("<IIII", 0x1D, 16, linkedit_offset, len(sig)))
    body = b"".join(commands)
    header = struct.pack(
        "<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, len(commands), len(body), flags, 0
    )
    image = (header + body).ljust(linkedit_offset, b"\0") + sig
    return image


def adhoc_code_signature(identifier: bytes = b"com.example.tool") -> bytes:
    """An embedded-signature SuperBlob with one CodeDirectory and no CMS blob (ad-hoc)."""
    ident_offset = 88
    directory = struct.pack(">II", 0xFADE0C02, 0)  # length patched below
    directory += struct.pack(">IIIII", 0x20400, 0x2, 0, ident_offset, 0)
    directory = directory.ljust(ident_offset, b"\0") + identifier + b"\0"
    directory = directory[:4] + struct.pack(">I", len(directory)) + directory[8:]
    superblob_header = 12 + 8
    blob = struct.pack(">III", 0xFADE0CC0, superblob_header + len(directory), 1)
    blob += struct.pack(">II", 0, superblob_header) + directory
    return blob


def self_signed(
    directory: Path, common_name: str = "Example Test Signer", serial: int = 0x1234
) -> tuple[Path, Path]:
    """A signing key and its self-signed certificate, as key.pem and cert.pem in directory."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / "key.pem", directory / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
