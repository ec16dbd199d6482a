from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elfbuild import elf64
from gobuild import GO, build_go_program

from finalexam.catalog import CATALOGERS
from finalexam.catalog.golang import MAGIC, make, read_build_info, stdlib_version
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Confidence, FileEntry, FileType, Location

needs_go = pytest.mark.skipif(GO is None, reason="go toolchain (golang-go) not installed")


@pytest.fixture(scope="module")
def go_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("go")


def _components(path: Path) -> dict[str, tuple[str | None, str | None]]:
    report = run_exam(path, Config(), catalogers=[make])
    return {c.name: (c.version, c.purl) for c in report.components}


def test_registered() -> None:
    assert make in CATALOGERS


@needs_go
def test_real_elf_binary_names_modules_replacements_and_stdlib(go_workdir: Path) -> None:
    binary = build_go_program(go_workdir, "linux")
    info = read_build_info(binary.read_bytes())
    assert info is not None and info.go_version.startswith("go1.")
    greet = next(d for d in info.deps if d.path == "example.com/greet")
    assert greet.version == "v1.2.3" and greet.sum.startswith("h1:")

    report = run_exam(binary, Config(), catalogers=[make])
    by_name = {c.name: c for c in report.components}
    assert by_name["example.com/greet"].purl == "pkg:golang/example.com/greet@v1.2.3"
    assert any("h1:" in e for e in by_name["example.com/greet"].evidence)
    # A module replaced by another version: the replacement is what was built.
    assert by_name["example.com/fork"].version == "v1.0.1"
    assert "example.com/old" not in by_name
    # Replaced by a local directory: named, but no upstream version is claimed.
    assert by_name["example.com/local"].version is None
    std = by_name["stdlib"]
    assert std.ecosystem == "Go" and std.version == stdlib_version(info.go_version)
    app = by_name["example.com/app"]
    assert app.version is None and app.purl == "pkg:golang/example.com/app"
    assert {d.target for d in app.dependencies} >= {
        "pkg:golang/example.com/greet@v1.2.3",
        f"pkg:golang/stdlib@{std.version}",
    }
    assert all(c.ecosystem == "Go" and c.locations for c in report.components)


@needs_go
@pytest.mark.parametrize("goos", ["windows", "darwin"])
def test_real_pe_and_macho_binaries(go_workdir: Path, goos: str) -> None:
    binary = build_go_program(go_workdir, goos)
    found = _components(binary)
    assert found["example.com/greet"] == ("v1.2.3", "pkg:golang/example.com/greet@v1.2.3")
    assert "stdlib" in found


def test_pointer_format_of_old_toolchains_is_resolved_through_sections() -> None:
    rodata_address = 0x500000
    version, modinfo = (
        b"go1.16.15",
        (
            b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6"
            b"path\texample.com/old\nmod\texample.com/old\tv0.1.0\t\n"
            b"dep\tgolang.org/x/text\tv0.3.7\th1:abc=\n"
            b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
        ),
    )
    headers_at = rodata_address
    rodata = struct.pack("<QQQQ", rodata_address + 32, len(version), 0, len(modinfo))
    rodata = rodata[:16] + struct.pack("<QQ", rodata_address + 32 + len(version), len(modinfo))
    rodata += version + modinfo
    blob = MAGIC + bytes([8, 0]) + struct.pack("<QQ", headers_at, headers_at + 16)
    binary = elf64([(".rodata", rodata_address, rodata), (".go.buildinfo", 0x600000, blob)])
    info = read_build_info(binary)
    assert info is not None
    assert info.go_version == "go1.16.15"
    assert info.main is not None and info.main.version == "v0.1.0"
    assert [(d.path, d.version, d.sum) for d in info.deps] == [
        ("golang.org/x/text", "v0.3.7", "h1:abc=")
    ]


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        MAGIC,
        MAGIC + bytes([8, 2]) + b"\x00" * 16 + b"\xff" * 20,
        b"\x7fELF" + b"\x02\x01" + b"\xff" * 100 + MAGIC + bytes([8, 0]) + b"\x00" * 16,
        MAGIC + bytes([8, 2]) + b"\x00" * 16 + b"\x05hello\x00",
    ],
)
def test_garbage_is_not_build_info(blob: bytes) -> None:
    assert read_build_info(blob) is None


@pytest.mark.parametrize(
    ("toolchain", "expected"),
    [
        ("go1.21.4", "1.21.4"),
        ("go1.20", "1.20.0"),
        ("go1.22.1 X:boringcrypto", "1.22.1"),
        ("go1.21rc2", "1.21-rc2"),
        ("devel go1.23-abc", None),
    ],
)
def test_stdlib_version(toolchain: str, expected: str | None) -> None:
    assert stdlib_version(toolchain) == expected


def test_gopath_mode_build_names_the_program_with_low_confidence() -> None:
    from finalexam.catalog.golang import parse_modinfo

    info = parse_modinfo("go1.19.8", "path\tfilippo.io/age/cmd/age\nbuild\tGOOS=linux\n")
    cataloger = make()
    entry = FileEntry(Location(("age",)), 1, "0" * 64, "0" * 40, FileType.ELF)
    by_name = {c.name: c for c in cataloger.components(info, entry)}
    program = by_name["filippo.io/age/cmd/age"]
    assert program.version is None and program.confidence == Confidence.LOW
    assert by_name["stdlib"].version == "1.19.8"
