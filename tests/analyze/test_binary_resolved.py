"""Functions and libraries resolved at run time, read from the code with capstone: real
programs built by gcc (x86-64, i386) and MinGW (PE x64, x86) that pass string constants to
dlopen/dlsym and LoadLibrary/GetProcAddress, and programs that carry API-name hashes. The names
reach the capability rules as imports do, with the call's offset, the string's offset and the
disassembly as evidence."""

from __future__ import annotations

import subprocess
import zlib
from pathlib import Path

import pytest

from binbuild import compile_c
from binexam import analysis_of, behaviours, finding
from finalexam.analyze.binary.facts import apihash
from finalexam.analyze.binary.facts.parse import examine

# Resolves a fileless-execution pair and loads libcurl by name: none of them is imported.
ELF_RESOLVER = r"""
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *curl = dlopen("libcurl.so.4", RTLD_NOW);
    int (*create)(const char *, unsigned) = (int (*)(const char *, unsigned))dlsym(
        RTLD_DEFAULT, "memfd_create");
    int (*run)(int, char *const[], char *const[]) =
        (int (*)(int, char *const[], char *const[]))dlsym(RTLD_DEFAULT, "fexecve");
    void *other = dlsym(curl, argv[0]);   /* not a constant: nothing to read */
    printf("%p %p %p %p\n", curl, (void *)create, (void *)run, other);
    return 0;
}
"""

PE_RESOLVER = r"""
#include <windows.h>
typedef void *(WINAPI *F)(void);
int main(int argc, char **argv) {
    HMODULE ntdll = LoadLibraryA("ntdll.dll");
    F alloc = (F)GetProcAddress(ntdll, "NtAllocateVirtualMemory");
    F write = (F)GetProcAddress(ntdll, "NtWriteVirtualMemory");
    F start = (F)GetProcAddress(GetModuleHandleA("kernel32.dll"), "CreateRemoteThread");
    HMODULE net = LoadLibraryW(L"wininet.dll");
    F other = (F)GetProcAddress(ntdll, argv[0]);
    return alloc() != write() && start() != other() && net != 0;
}
"""


def _ror13(data: bytes) -> int:
    # written apart from the product's implementation, so the test checks it
    value = 0
    for byte in data:
        value = (((value >> 13) | (value << 19)) & 0xFFFFFFFF) + byte & 0xFFFFFFFF
    return value


def _block_api(library: str, name: str) -> int:
    module = _ror13((library.upper() + "\0").encode("utf-16-le"))
    return (module + _ror13(name.encode() + b"\0")) & 0xFFFFFFFF


def hash_walker(hashes: dict[str, int]) -> str:
    """A resolver as shellcode writes it: compare a hash of each export name with constants."""
    cases = "\n".join(
        f"    if (h == {value:#010x}u) return {index};  /* {name} */"
        for index, (name, value) in enumerate(hashes.items())
    )
    return f"""
#include <stdio.h>
static unsigned hash(const char *s) {{
    unsigned h = 0;
    while (*s) h = ((h >> 13) | (h << 19)) + (unsigned char)*s++;
    return h;
}}
__attribute__((noinline)) int which(const char *name) {{
    unsigned h = hash(name);
{cases}
    return -1;
}}
int main(int argc, char **argv) {{ printf("%d\\n", which(argv[0])); return 0; }}
"""


def resolved_of(path: Path) -> dict[str, dict[str, object]]:
    (entry,) = analysis_of(path).binaries
    return {item["name"]: item for item in entry.get("resolved", [])}


@pytest.mark.parametrize("flags", [["-O2"], ["-O0", "-no-pie"], ["-m32", "-O2"]])
def test_names_passed_to_dlsym_and_dlopen_are_read_from_the_code(
    tmp_path: Path, flags: list[str]
) -> None:
    if (
        "-m32" in flags
        and subprocess.run(
            ["gcc", "-m32", "-x", "c", "-", "-o", str(tmp_path / "probe")],
            input=b"int main(void){return 0;}",
            capture_output=True,
            check=False,
        ).returncode
    ):
        pytest.skip("gcc cannot build i386 programs (gcc-multilib, see .ci/system-packages)")
    binary = compile_c(tmp_path, "loader", flags, ELF_RESOLVER)
    data = binary.read_bytes()
    resolved = resolved_of(binary)
    assert set(resolved) == {"libcurl.so.4", "memfd_create", "fexecve"}
    create = resolved["memfd_create"]
    assert create["via"] == "dlsym"
    assert "library" not in create
    at = create["string_offset"]
    assert isinstance(at, int) and data[at : at + 13] == b"memfd_create\0"
    assert str(create["disassembly"]).split("; ")[-1].startswith("call")
    call = create["offset"]
    assert isinstance(call, int) and data[call] == 0xE8  # the call to dlsym's PLT stub
    assert resolved["libcurl.so.4"]["via"] == "dlopen" and resolved["libcurl.so.4"]["library"]
    (entry,) = analysis_of(binary).binaries
    assert "memfd_create" not in entry["imports"]
    assert entry["details"]["resolver_calls"] == 4  # the dlsym of argv[0] is read, unresolved


def test_resolved_names_meet_the_rules_as_imports_with_their_code(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "loader", ["-O2"], ELF_RESOLVER)
    analysis = analysis_of(binary)
    capabilities = {c["id"]: c for c in analysis.binaries[0]["capabilities"]}
    fileless = capabilities["evasion-fileless-exec"]
    assert fileless["evidence"] == {"resolved": ["fexecve", "memfd_create"]}
    assert (
        fileless["offsets"]["memfd_create (via dlsym)"]
        == resolved_of(binary)["memfd_create"]["offset"]
    )
    assert "call" in fileless["disassembly"]["memfd_create"]
    # a library loaded by name counts as linked
    assert capabilities["network-client"]["evidence"] == {"resolved": ["libcurl.so.4"]}
    found = finding(analysis.findings, "capability.evasion-fileless-exec")
    assert "memfd_create (via dlsym)" in found.evidence.snippet
    assert "fexecve" in found.evidence.details["resolved"]
    assert found.evidence.details["disassembly"]["fexecve"].split("; ")[-1].startswith("call")


@pytest.mark.parametrize("compiler", ["x86_64-w64-mingw32-gcc", "i686-w64-mingw32-gcc"])
def test_names_passed_to_getprocaddress_and_loadlibrary_are_read(
    tmp_path: Path, compiler: str
) -> None:
    binary = compile_c(tmp_path, "inject.exe", ["-O2"], PE_RESOLVER, compiler=compiler)
    resolved = resolved_of(binary)
    for name in ("NtAllocateVirtualMemory", "NtWriteVirtualMemory", "CreateRemoteThread"):
        assert resolved[name]["via"] == "GetProcAddress", name
    assert resolved["ntdll.dll"]["via"] == "LoadLibraryA"
    assert resolved["wininet.dll"]["via"] == "LoadLibraryW"  # a UTF-16 name
    assert resolved["kernel32.dll"]["via"] == "GetModuleHandleA"
    # GetProcAddress is called through a register loaded from its IAT slot
    assert any(
        str(resolved[name]["disassembly"]).endswith(
            ("call rsi", "call esi", "call rdi", "call edi", "call rbx", "call ebx")
        )
        for name in ("NtAllocateVirtualMemory", "NtWriteVirtualMemory", "CreateRemoteThread")
    )
    capabilities = {c["id"]: c for c in analysis_of(binary).binaries[0]["capabilities"]}
    injection = capabilities["process-injection"]
    assert injection["evidence"] == {
        "resolved": ["CreateRemoteThread", "NtAllocateVirtualMemory", "NtWriteVirtualMemory"]
    }
    assert capabilities["network-client"]["evidence"] == {"resolved": ["wininet.dll"]}


INTERPOSER = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
int execve(const char *path, char *const argv[], char *const envp[]) {
    int (*next)(const char *, char *const[], char *const[]) =
        (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
    fprintf(stderr, "running %s\n", path);
    return next(path, argv, envp);
}
"""


def test_a_wrapper_resolving_the_function_it_exports_claims_nothing_new(tmp_path: Path) -> None:
    # an interposing library (sudo's intercept library, a tracer) calls the definition it
    # wraps: execve is what its callers do, not a capability of its own
    library = compile_c(tmp_path, "libwrap.so", ["-O2", "-shared", "-fPIC"], INTERPOSER)
    assert resolved_of(library)["execve"]["via"] == "dlsym"
    capabilities = analysis_of(library).binaries[0]["capabilities"]
    assert all("resolved" not in c["evidence"] for c in capabilities)


def test_the_hash_of_the_documented_block_api_constants() -> None:
    # Metasploit's block_api hashes as its documentation lists them
    assert apihash.metasploit("kernel32.dll", "LoadLibraryA") == 0x0726774C
    assert apihash.metasploit("kernel32.dll", "WinExec") == 0x876F8B31
    assert _block_api("kernel32.dll", "ExitProcess") == apihash.metasploit(
        "kernel32.dll", "ExitProcess"
    )


@pytest.mark.parametrize(
    ("compiler", "names"),
    [
        ("x86_64-w64-mingw32-gcc", ("VirtualAlloc", "CreateThread", "WaitForSingleObject")),
        ("i686-w64-mingw32-gcc", ("VirtualAlloc", "CreateThread", "WaitForSingleObject")),
        # a Linux implant resolving libc's socket functions by hash
        ("gcc", ("socket", "connect", "send", "recv")),
    ],
)
def test_imports_resolved_by_hash_are_a_behaviour(
    tmp_path: Path, compiler: str, names: tuple[str, ...]
) -> None:
    source = hash_walker({name: _ror13(name.encode()) for name in names})
    name = "walker" if compiler == "gcc" else "walker.exe"
    binary = compile_c(tmp_path, name, ["-O2"], source, compiler=compiler)
    resolved = resolved_of(binary)
    for name in names:
        assert resolved[name]["via"] == "ror13", name
        assert str(resolved[name]["disassembly"]).startswith("cmp")
    analysis = analysis_of(binary)
    hashing = behaviours(analysis.findings)["capability.api-hashing"]
    assert hashing.evidence.details["traits"] == ["hashed-imports"]


def test_a_linux_programs_own_compares_with_windows_api_hashes_are_its_own_strings(
    tmp_path: Path,
) -> None:
    """VTK 9.7's libvtkRenderingCore.so dispatches method calls by the FNV-1a hash of their
    names, ReadFile and WriteFile among them: a Linux program calls no Windows API."""
    names = ("VirtualAlloc", "CreateThread", "WaitForSingleObject", "LoadLibraryA")
    source = hash_walker({name: _ror13(name.encode()) for name in names})
    binary = compile_c(tmp_path, "dispatcher", ["-O2"], source)
    assert not {n for n in names if n in resolved_of(binary)}
    assert "capability.api-hashing" not in behaviours(analysis_of(binary).findings)


def test_a_table_of_block_api_hashes_is_found(tmp_path: Path) -> None:
    names = ("LoadLibraryA", "WSAStartup", "WSASocketA", "connect")
    libraries = {"LoadLibraryA": "kernel32.dll"}
    table = ", ".join(f"{_block_api(libraries.get(n, 'ws2_32.dll'), n):#010x}u" for n in names)
    source = f"""
#include <stdio.h>
const unsigned hashes[] = {{{table}}};
int main(int argc, char **argv) {{ printf("%u\\n", hashes[argc & 3]); return 0; }}
"""
    binary = compile_c(tmp_path, "table", ["-O2"], source)
    resolved = resolved_of(binary)
    assert {
        name for name in names if resolved.get(name, {}).get("via") == "ror13-block-api"
    } == set(names)


def test_one_hash_value_alone_is_a_coincidence(tmp_path: Path) -> None:
    value = zlib.crc32(b"VirtualAlloc")
    source = f"""
#include <stdio.h>
int main(int argc, char **argv) {{ printf("%u\\n", (unsigned)argc * {value:#010x}u); return 0; }}
"""
    binary = compile_c(tmp_path, "single", ["-O2"], source)
    assert value.to_bytes(4, "little") in binary.read_bytes()
    assert examine(binary.read_bytes()).resolved == {}
    assert "capability.api-hashing" not in behaviours(analysis_of(binary).findings)
