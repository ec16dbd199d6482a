"""ELF facts and hardening, checked against hardening-check (devscripts) and readelf."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from binbuild import compile_c
from finalexam.analyze.binary.facts.parse import examine

VARIANTS = {
    "hardened": [
        "-O2",
        "-D_FORTIFY_SOURCE=2",
        "-fstack-protector-strong",
        "-pie",
        "-fPIE",
        "-Wl,-z,relro,-z,now",
    ],
    "plain": ["-O0", "-fno-stack-protector", "-no-pie", "-Wl,-z,norelro"],
    "execstack": ["-O0", "-z", "execstack"],
    "partial-relro": ["-O2", "-fstack-protector-all", "-Wl,-z,relro,-z,lazy"],
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("elf")
    return {name: compile_c(directory, name, flags) for name, flags in VARIANTS.items()}


def hardening_check(path: Path) -> dict[str, str]:
    tool = shutil.which("hardening-check")
    if tool is None:
        pytest.skip("hardening-check (devscripts) is not installed")
    out = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False).stdout
    return {
        key.strip(): value.strip()
        for key, value in re.findall(r"^ ([^:]+):\s*(.*)$", out, flags=re.MULTILINE)
    }


def test_facts_of_hardened_and_plain_builds(built: dict[str, Path]) -> None:
    hard = examine(built["hardened"].read_bytes())
    assert (hard.format, hard.arch, hard.type) == ("elf", "x86_64", "executable")
    assert hard.interpreter and hard.interpreter.startswith("/lib")
    assert "libc.so.6" in hard.libraries
    assert "__strcpy_chk" in hard.imports
    assert not any("@" in name for name in hard.imports)
    assert hard.build_id and len(hard.build_id) == 40
    assert any(s.name == ".text" and s.executable and s.entropy > 0 for s in hard.sections)
    assert hard.hardening == {
        "canary": True,
        "fortify": True,
        "nx": True,
        "pie": True,
        "relro": "full",
        "rpath": "none",
        "textrel": False,
    }
    plain = examine(built["plain"].read_bytes())
    assert plain.hardening["pie"] is False
    assert plain.hardening["relro"] == "none"
    assert plain.hardening["canary"] is False
    assert plain.hardening["fortify"] is False
    assert examine(built["execstack"].read_bytes()).hardening["nx"] is False
    assert examine(built["partial-relro"].read_bytes()).hardening["relro"] == "partial"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_agrees_with_hardening_check(built: dict[str, Path], variant: str) -> None:
    reference = hardening_check(built[variant])
    ours = examine(built[variant].read_bytes()).hardening
    assert ours["pie"] is reference["Position Independent Executable"].startswith("yes")
    assert ours["canary"] is reference["Stack protected"].startswith("yes")
    assert ours["fortify"] is reference["Fortify Source functions"].startswith("yes")
    assert (ours["relro"] != "none") is reference["Read-only relocations"].startswith("yes")
    assert (ours["relro"] == "full") is reference["Immediate binding"].startswith("yes")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_nx_agrees_with_readelf(built: dict[str, Path], variant: str) -> None:
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("readelf (binutils) is not installed")
    out = subprocess.run([readelf, "-lW", str(built[variant])], capture_output=True, text=True)
    stack = re.search(r"GNU_STACK\s+(?:\S+\s+){5}(\S+ ?\S*)\s+0x", out.stdout)
    assert stack is not None
    executable = "E" in stack.group(1)
    assert examine(built[variant].read_bytes()).hardening["nx"] is not executable


def test_rpath_and_shared_library(tmp_path: Path) -> None:
    exe = compile_c(
        tmp_path, "rp", ["-Wl,-rpath,/tmp/evil:$ORIGIN/../lib", "-Wl,--disable-new-dtags"]
    )
    facts = examine(exe.read_bytes())
    assert facts.rpath == ["/tmp/evil", "$ORIGIN/../lib"]
    assert facts.hardening["rpath"] == "insecure"
    safe = compile_c(tmp_path, "safe", ["-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags"])
    assert examine(safe.read_bytes()).runpath == ["$ORIGIN/../lib"]
    assert examine(safe.read_bytes()).hardening["rpath"] == "safe"
    lib = compile_c(
        tmp_path,
        "libx.so",
        ["-shared", "-fPIC", "-Wl,-soname,libx.so.1"],
        source="int answer(void) { return 42; }\n",
    )
    facts = examine(lib.read_bytes())
    assert facts.type == "shared-library"
    assert "pie" not in facts.hardening  # does not apply to a library: absent, not false
    assert "answer" in facts.exports
    assert facts.details["soname"] == "libx.so.1"


def test_object_file_has_no_loader_hardening_keys(tmp_path: Path) -> None:
    obj = compile_c(tmp_path, "x.o", ["-c", "-fstack-protector-all"])
    facts = examine(obj.read_bytes())
    assert facts.type == "object"
    assert set(facts.hardening) == {"canary", "fortify"}
