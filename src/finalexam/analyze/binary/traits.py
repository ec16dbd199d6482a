"""What a binary's shape says (traits) and what kind of program it is (kinds), for the rules.

Traits are facts of form rather than content: a statically linked executable, an ELF without
section headers, a segment both writable and executable, a kernel module inside a program.
Kinds come from the binary's file name: a shell, a debugger, an SSH server or a service
manager does some things by design, and rules list the kinds they are ordinary for
(``normal_for``), so that gdb's ``ptrace`` or sshd's PTY are not a finding while the same
capability in a compression library is.
"""

from __future__ import annotations

import fnmatch
import re

from finalexam.analyze.binary.facts.apihash import ALGORITHMS as HASHES
from finalexam.analyze.binary.facts.common import BinaryFacts, ConstantCall, FetchRun

TRAITS: dict[str, str] = {
    "static": "an ELF executable without interpreter or libraries (statically linked)",
    "no-section-headers": "an ELF without section headers (stripped by hand, packed or written "
    "by hand)",
    "writable-executable-segment": "a loadable segment both writable and executable",
    "tiny": "smaller than 4 KiB: too small for a compiler's runtime",
    "embedded-kernel-module": "a Linux kernel module's modinfo (vermagic=) inside a file that "
    "is not a kernel module",
    "kernel-module": "a Linux kernel module",
    "go": "a Go program (Go build information)",
    "packed": "packed or compressed code (a known packer's marks)",
    "hashed-imports": "functions resolved by a hash of their name: several known API-name "
    "hashes of one algorithm as the code's constants (facts.apihash)",
    "raw-socket": "a raw or packet socket opened by the code: socket() called with SOCK_RAW, "
    "or with AF_PACKET, or IP_HDRINCL set with setsockopt(), read from the constants at the "
    "call (facts.resolve)",
    "download-then-run": "one function of the code fetches content from a URL "
    "(dataWithContentsOfURL:, NSURLSession, curl_easy_perform, URLDownloadToFile, "
    "InternetReadFile...) and then runs a command (system, popen, exec*, NSTask launch, "
    "WinExec, ShellExecute, CreateProcess), the fetched data not followed into the command "
    "(facts.flow)",
    "runs-downloaded-data": "one function of the code fetches content from a URL and hands "
    "what it fetched, through the calls that convert it, to a command runner: "
    "system(fetched text) (facts.flow)",
}
_TINY = 4096
_SOCKET_CALLS = frozenset({"socket", "WSASocketA", "WSASocketW"})
_INTERNET = frozenset({2, 10, 23})  # AF_INET; AF_INET6 on Linux and on Windows
_AF_PACKET = 17  # Linux (on Windows 17 is AF_NETBIOS)
_SOCK_RAW = 3
_SOCK_TYPE_MASK = 0xF  # SOCK_NONBLOCK and SOCK_CLOEXEC ride on the type's upper bits
_IPPROTO_IP = 0
# IP_HDRINCL: the caller writes the IP header itself (3 on Linux, 2 on Windows and the BSDs)
_IP_HDRINCL = {"elf": 3, "pe": 2, "macho": 2}
_VERMAGIC = re.compile(rb"vermagic=\d+\.\d+")
_GO_BUILD_INFO = b"\xff Go buildinf:"

# The kinds of program for which rules may declare a capability ordinary, by file name.
KINDS: dict[str, tuple[str, ...]] = {
    "shell": ("bash", "sh", "dash", "zsh", "ksh", "mksh", "fish", "rbash", "tcsh", "csh"),
    "multicall": ("busybox", "toybox"),
    "debugger": (
        "gdb",
        "gdbserver",
        "gdb-multiarch",
        "strace",
        "ltrace",
        "lldb*",
        "perf",
        "valgrind*",
        "*-linux-gnu-gdb",
        # the kernel crash-dump analyser (gdb inside) loads its own driver for /dev/crash
        "crash",
    ),
    "network-tool": (
        "curl",
        "wget",
        "nc",
        "nc.*",
        "ncat",
        "netcat",
        "socat",
        "ssh",
        "scp",
        "sftp",
        "telnet",
        "ftp",
        "rsync",
        "tcpdump",
        "ping",
        "ping6",
        "dig",
        "git",
        "git-*",
        "nmap",
        "masscan",
        "zmap",
    ),
    "ssh-server": ("sshd", "sshd-session", "sshd-auth", "sftp-server", "dropbear"),
    # Remote desktops serve an X display over the network and start the user's session; X
    # keeps its sockets, locks and authority files hidden in /tmp (x11vnc 0.9.16's helper
    # scripts look for /tmp/.X0-lock and /tmp/.gdm* and write /tmp/.xat.$$).
    "remote-desktop": (
        "x11vnc",
        "Xvnc",
        "Xtigervnc",
        "vncserver",
        "tigervncserver",
        "x0vncserver",
        "xrdp",
        "xrdp-sesman",
        "xrdp-chansrv",
        "Xorg",
        "Xwayland",
    ),
    "service-manager": (
        "systemd*",
        "systemctl",
        "journalctl",
        "loginctl",
        "init",
        "cron",
        "crond",
        "crontab",
        "anacron",
        "atd",
        "launchd",
        "launchctl",
        "supervisord",
        "start-stop-daemon",
        "update-rc.d",
        "invoke-rc.d",
        "service",
        "libsystemd*.so*",
        "libsystemd-*.so",
        "libsystemd-core-*.so",
        "libsystemd-shared-*.so",
    ),
    # Container engines and runtimes pull images over the network, run processes (a shell for
    # `exec` and health checks) and write systemd units for the containers they keep running
    # (podman generate systemd, quadlet; the units of a podman machine's VM).
    "container-engine": (
        "podman",
        "buildah",
        "docker",
        "dockerd",
        "containerd",
        "containerd-shim*",
        "ctr",
        "nerdctl",
        "runc",
        "crun",
        "conmon",
        "crio",
        "lxc-*",
        "lxd",
        "incus",
        "k3s",
        "kubelet",
        # snapd installs confined applications from its store, runs them and writes the
        # systemd units of their services
        "snap",
        "snapd",
        "snap-exec",
        "snapctl",
        # criu checkpoints and restores containers (runc and podman call it): it rebuilds
        # their mount namespaces under a hidden root in /tmp and serves pages over the network
        "criu",
    ),
    # Sandboxes build namespaces for the programs they start: firejail preloads its tracing
    # library into them (LD_PRELOAD), checks /etc/ld.so.preload, and sets up their network
    # with a raw socket (its ARP probe for --net). They name the secret stores they hide from
    # what they confine (firejail's blacklist of /etc/shadow; snap's mount namespaces).
    "sandbox": (
        "firejail",
        "firemon",
        "bwrap",
        "bubblewrap",
        "nsjail",
        "minijail0",
        "snap-confine",
        "snap-update-ns",
    ),
    # Network daemons bring links up: pppd asks modprobe for the ppp driver and runs the
    # ip-up scripts; NetworkManager and wpa_supplicant load their drivers the same way.
    "network-daemon": (
        "pppd",
        "pppoe",
        "pppoe-discovery",
        "NetworkManager",
        "wpa_supplicant",
        "hostapd",
        "connmand",
        "iwd",
    ),
    # Host-integrity checkers hash and watch the files attackers go for (/etc/shadow, SSH
    # keys): tripwire 2.4's policy tools name them by design.
    "integrity-checker": (
        "tripwire",
        "twadmin",
        "twprint",
        "siggen",
        "aide",
        "samhain",
        "integrit",
    ),
    "kernel-tool": (
        "kmod",
        "insmod",
        "modprobe",
        "rmmod",
        "depmod",
        "modinfo",
        "bpftool",
        "bpftrace",
        "libbpf.so*",
        "libkmod.so*",
    ),
    "authentication": (
        "pam_*.so",
        "libpam*.so*",
        "login",
        "su",
        "sudo",
        "sudoedit",
        "sudoers.so",
        "passwd",
        "chpasswd",
        "unix_chkpwd",
        "pkexec",
        "polkit-agent-helper-1",
        "newgrp",
        "chsh",
        "chfn",
        "gpasswd",
        "libcrypt.so*",
        "libnss_*.so*",
    ),
    "dynamic-loader": ("ld-linux*.so*", "ld.so", "ld64.so*", "ldconfig", "libc.so*", "libc-*.so"),
    "interpreter": (
        "python*",
        "perl",
        "perl5*",
        "ruby*",
        "node",
        "lua*",
        "php*",
        "tclsh*",
        "libpython*.so*",
        "libperl.so*",
        "libruby*.so*",
        "libnode.so*",
        "pypy*",  # PyPy's interpreter and its runtime library (libpypy3.9-c.so)
        "libpypy*.so*",
        "java",  # the JVM: a language runtime, like the interpreters above
        "libjvm.so",
    ),
    "crypto-library": (
        "libcrypto*",
        "libssl*",
        "libgnutls*",
        "libgcrypt*",
        "libnettle*",
        "libhogweed*",
        "libmbedcrypto*",
        "libsodium*",
    ),
}


def statically_linked(facts: BinaryFacts) -> bool:
    return (
        facts.format == "elf"
        and facts.type == "executable"
        and not facts.interpreter
        and not facts.libraries
    )


def traits(facts: BinaryFacts, data: bytes, packed: bool = False) -> set[str]:
    found: set[str] = set()
    if statically_linked(facts):
        found.add("static")
    if facts.format == "elf" and not facts.sections:
        found.add("no-section-headers")
    if facts.details.get("writable_executable_segments"):
        found.add("writable-executable-segment")
    if len(data) < _TINY:
        found.add("tiny")
    if facts.type == "kernel-module":
        found.add("kernel-module")
    elif _VERMAGIC.search(data):
        found.add("embedded-kernel-module")
    if _GO_BUILD_INFO in data or any(s.name == ".go.buildinfo" for s in facts.sections):
        found.add("go")
    if packed:
        found.add("packed")
    if any(name.via in HASHES for name in facts.resolved.values()):
        found.add("hashed-imports")
    if raw_socket_calls(facts):
        found.add("raw-socket")
    found |= set(fetch_run_calls(facts))
    return found


def fetch_run_calls(facts: BinaryFacts) -> dict[str, FetchRun]:
    """The trait the code's fetch-then-run functions give, with the first such function: a
    direct flow makes it runs-downloaded-data (and only that)."""
    flows = [run for run in facts.fetch_runs if run.flows]
    if flows:
        return {"runs-downloaded-data": flows[0]}
    if facts.fetch_runs:
        return {"download-then-run": facts.fetch_runs[0]}
    return {}


def raw_socket_calls(facts: BinaryFacts) -> list[ConstantCall]:
    """The calls that open a raw or packet socket, or let the caller write IP headers."""
    found = []
    for call in facts.constant_calls:
        if call.function in _SOCKET_CALLS:
            domain, kind = call.arguments[0], call.arguments[1]
            packet = domain == _AF_PACKET and facts.format == "elf"
            raw = domain in _INTERNET and kind is not None and kind & _SOCK_TYPE_MASK == _SOCK_RAW
            if packet or raw:
                found.append(call)
        elif call.function == "setsockopt":
            level, option = call.arguments
            if level == _IPPROTO_IP and option == _IP_HDRINCL.get(facts.format):
                found.append(call)
    return found


def kinds(name: str) -> set[str]:
    """The kinds of program the binary is, from its file name."""
    base = name.rsplit("/", 1)[-1]
    if not base:
        return set()
    return {
        kind
        for kind, patterns in KINDS.items()
        if any(fnmatch.fnmatchcase(base, pattern) for pattern in patterns)
    }
