from __future__ import annotations

import json
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from ctoolchain import GCC, compile_c
from elfbuild import elf64

from finalexam.catalog import CATALOGERS
from finalexam.catalog.rust import make, panic_path_crates, read_auditable
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Confidence

OBJCOPY = shutil.which("objcopy")
AUDITABLE = {
    "packages": [
        {
            "name": "app",
            "version": "0.1.0",
            "source": "local",
            "dependencies": [1, 2, 3],
            "root": True,
        },
        {"name": "serde", "version": "1.0.193", "source": "crates.io", "dependencies": [2]},
        {"name": "serde_derive", "version": "1.0.193", "source": "crates.io", "kind": "build"},
        {"name": "smallvec", "version": "1.11.2", "source": "crates.io"},
    ]
}
PANIC_PATHS = (
    "/home/ci/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde_json-1.0.108/src/de.rs",
    "/home/ci/.cargo/registry/src/github.com-1ecc6299db9ec823/tokio-macros-2.1.0/src/lib.rs",
    "/usr/share/cargo/registry/grep-searcher-0.1.10/src/searcher/mod.rs",
    "C:\\\\Users\\\\ci\\\\.cargo\\\\registry\\\\src\\\\index.crates.io-6f17d22bba15001f"
    "\\\\ring-0.17.0-alpha.1\\\\src\\\\rand.rs",
)

needs_tools = pytest.mark.skipif(GCC is None or OBJCOPY is None, reason="gcc/objcopy missing")


def test_registered() -> None:
    assert make in CATALOGERS


@needs_tools
def test_cargo_auditable_section_in_a_real_elf(tmp_path: Path) -> None:
    program = compile_c(tmp_path, "tool", "int main(void) { return 0; }\n")
    payload = tmp_path / "dep-v0.bin"
    payload.write_bytes(zlib.compress(json.dumps(AUDITABLE).encode()))
    assert OBJCOPY is not None
    subprocess.run(
        [OBJCOPY, "--add-section", f".dep-v0={payload}", str(program)],
        check=True,
        capture_output=True,
    )
    payload.unlink()
    (tmp_path / "tool.c").unlink()
    report = run_exam(tmp_path, Config(), catalogers=[make])
    by_name = {c.name: c for c in report.components}
    assert set(by_name) == {"app", "serde", "smallvec"}  # the build-only crate is left out
    serde = by_name["serde"]
    assert (serde.ecosystem, serde.purl, serde.confidence) == (
        "crates.io",
        "pkg:cargo/serde@1.0.193",
        Confidence.HIGH,
    )
    assert by_name["app"].ecosystem == "generic"  # a local crate is not on crates.io
    assert [d.target for d in by_name["app"].dependencies] == [
        "pkg:cargo/serde@1.0.193",
        "pkg:cargo/smallvec@1.11.2",
    ]


@needs_tools
def test_panic_paths_in_a_real_binary_give_low_confidence_crates(tmp_path: Path) -> None:
    strings = ",".join(f'"{p}"' for p in PANIC_PATHS)
    compile_c(
        tmp_path,
        "panics",
        f"const char *paths[] = {{{strings}}};\nint main(void) {{ return paths[0][0]; }}\n",
    )
    (tmp_path / "panics.c").unlink()
    report = run_exam(tmp_path, Config(), catalogers=[make])
    found = {(c.name, c.version, c.ecosystem, c.confidence) for c in report.components}
    assert found == {
        ("serde_json", "1.0.108", "crates.io", Confidence.LOW),
        ("tokio-macros", "2.1.0", "crates.io", Confidence.LOW),
        ("ring", "0.17.0-alpha.1", "crates.io", Confidence.LOW),
        ("grep-searcher", "0.1.10", "crates.io", Confidence.LOW),
    }


def test_corrupt_or_oversized_sections_are_ignored() -> None:
    assert read_auditable(elf64([(".dep-v0", 0, b"not zlib")])) is None
    assert read_auditable(elf64([(".dep-v0", 0, zlib.compress(b"[1, 2]"))])) is None
    bomb = zlib.compress(b'{"packages": [' + b" " * 17_000_000 + b"]}", 9)
    assert read_auditable(elf64([(".dep-v0", 0, bomb)])) is None
    assert read_auditable(b"\x7fELF" + b"\xff" * 10) is None


def test_panic_path_needs_the_registry_layout() -> None:
    assert panic_path_crates(b"/src/serde-1.0.0/lib.rs registry/src/x/serde-1.0.0/") == {}


MINGW_OBJCOPY = shutil.which("x86_64-w64-mingw32-objcopy")
MINGW_LD = shutil.which("x86_64-w64-mingw32-ld")
MINGW_AS = shutil.which("x86_64-w64-mingw32-as")


@pytest.mark.skipif(
    None in (MINGW_OBJCOPY, MINGW_LD, MINGW_AS), reason="binutils-mingw-w64-x86-64 missing"
)
def test_cargo_auditable_section_in_a_real_pe(tmp_path: Path) -> None:
    assert MINGW_OBJCOPY is not None and MINGW_LD is not None and MINGW_AS is not None
    (tmp_path / "empty.s").write_text(".text\n")
    subprocess.run(["x86_64-w64-mingw32-as", "-o", "empty.o", "empty.s"], cwd=tmp_path, check=True)
    subprocess.run(
        [MINGW_LD, "--dll", "-e", "0", "-o", "tool.dll", "empty.o"], cwd=tmp_path, check=True
    )
    (tmp_path / "dep.bin").write_bytes(zlib.compress(json.dumps(AUDITABLE).encode()))
    subprocess.run(
        [MINGW_OBJCOPY, "--add-section", ".dep-v0=dep.bin", "tool.dll", "tool-dep.dll"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    packages = read_auditable((tmp_path / "tool-dep.dll").read_bytes())
    assert packages is not None
    assert [p["name"] for p in packages] == ["app", "serde", "serde_derive", "smallvec"]


def _leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_cargo_auditable_custom_section_in_webassembly() -> None:
    payload = zlib.compress(json.dumps(AUDITABLE).encode())
    custom = _leb(len(b".dep-v0")) + b".dep-v0" + payload
    type_section = b"\x01" + _leb(4) + b"\x01\x60\x00\x00"  # one type: () -> ()
    module = b"\x00asm\x01\x00\x00\x00" + type_section + b"\x00" + _leb(len(custom)) + custom
    packages = read_auditable(module)
    assert packages is not None and packages[1]["name"] == "serde"
    assert read_auditable(module[:-5]) is None  # truncated section
