"""Raw sockets read from the constants at each call of socket()/setsockopt(): real programs
built by gcc (x86-64 at -O2 and -O0, i386, static) and MinGW (PE x64). The import table says
``socket`` for a web client and for a packet forger alike; the arguments tell them apart."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from binbuild import compile_c
from binexam import analysis_of, behaviours, capabilities_of, findings_of

FORGER = r"""
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int one = 1;
    int s = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
    setsockopt(s, IPPROTO_IP, IP_HDRINCL, &one, sizeof one);
    int t = socket(AF_INET, SOCK_STREAM, 0);
    printf("%d %d\n", s, t);
    return 0;
}
"""

CLIENT = r"""
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int one = 1;
    int t = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int u = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int v = socket(argc, SOCK_STREAM, 0);   /* not a constant: read as unknown */
    printf("%d %d %d\n", t, u, v);
    return 0;
}
"""

# a flooder's shape: forges packets, answers to a server, starts again at boot
BOT = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
static const char *boot = "/etc/rc.d/rc.local";
int main(int argc, char **argv) {
    struct sockaddr_in c2; memset(&c2, 0, sizeof c2);
    c2.sin_family = AF_INET; c2.sin_port = htons(23);
    inet_pton(AF_INET, "192.0.2.7", &c2.sin_addr);
    int control = socket(AF_INET, SOCK_STREAM, 0);
    if (argc > 3 && connect(control, (struct sockaddr *)&c2, sizeof c2) == 0) {
        int flood = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
        printf("%d %s\n", flood, boot);
    }
    return 0;
}
"""


def raw_sockets(path: Path) -> list[dict[str, Any]]:
    (entry,) = analysis_of(path).binaries
    return list(entry.get("raw_sockets", []))


def calls(path: Path) -> set[tuple[str, tuple[int | None, ...]]]:
    return {(call["function"], tuple(call["arguments"])) for call in raw_sockets(path)}


def can_build_i386(tmp_path: Path) -> bool:
    probe = subprocess.run(
        ["gcc", "-m32", "-x", "c", "-", "-o", str(tmp_path / "probe")],
        input=b"int main(void){return 0;}",
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@pytest.mark.parametrize("flags", [["-O2"], ["-O0", "-no-pie"], ["-m32", "-O2"], ["-static"]])
def test_a_raw_socket_and_ip_hdrincl_are_read_from_the_call_sites(
    tmp_path: Path, flags: list[str]
) -> None:
    if "-m32" in flags and not can_build_i386(tmp_path):
        pytest.skip("gcc cannot build i386 programs (gcc-multilib, see .ci/system-packages)")
    binary = compile_c(tmp_path, "forger", flags, FORGER)
    data = binary.read_bytes()
    # AF_INET, SOCK_RAW, IPPROTO_TCP; IPPROTO_IP, IP_HDRINCL
    assert calls(binary) == {("socket", (2, 3, 6)), ("setsockopt", (0, 3))}
    first = raw_sockets(binary)[0]
    at = first["offset"]
    assert isinstance(at, int) and data[at] == 0xE8  # the call itself
    assert str(first["disassembly"]).split("; ")[-1].startswith("call")
    network_raw = capabilities_of(binary)["network-raw"]
    assert network_raw["evidence"] == {"traits": ["raw-socket"]}
    assert any(key.startswith("raw-socket (") for key in network_raw["offsets"])


def test_ordinary_sockets_are_not_raw(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "client", ["-O2"], CLIENT)
    assert raw_sockets(binary) == []
    assert "network-raw" not in capabilities_of(binary)


def test_a_windows_raw_socket_is_read_through_the_import_address_table(tmp_path: Path) -> None:
    source = tmp_path / "forger.c"
    source.write_text(
        "#include <winsock2.h>\n#include <ws2tcpip.h>\n"
        "int main(void) { WSADATA w; DWORD one = 1; WSAStartup(MAKEWORD(2, 2), &w);\n"
        "  SOCKET s = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);\n"
        "  setsockopt(s, IPPROTO_IP, IP_HDRINCL, (const char *)&one, sizeof one);\n"
        "  return (int)s; }\n"
    )
    binary = tmp_path / "forger.exe"
    try:
        subprocess.run(
            ["x86_64-w64-mingw32-gcc", "-O2", "-o", str(binary), str(source), "-lws2_32"],
            check=True,
            capture_output=True,
        )
    except FileNotFoundError:
        pytest.skip("MinGW is not installed (see .ci/system-packages)")
    # IPPROTO_RAW; IP_HDRINCL is 2 in Winsock
    assert calls(binary) == {("socket", (2, 3, 255)), ("setsockopt", (0, 2))}


def test_raw_sockets_with_a_server_and_boot_persistence_are_a_bot(tmp_path: Path) -> None:
    bot = compile_c(tmp_path, "bot", ["-O2"], BOT)
    found = behaviours(findings_of(bot))
    assert "capability.behavior-packet-bot" in found
    evidence = found["capability.behavior-packet-bot"].evidence.details
    assert {"network-client", "persistence-sysv-init"} <= set(evidence["capabilities"])
    # ping, arping and traceroute open raw sockets and talk to hosts by design
    assert "capability.behavior-packet-bot" not in behaviours(findings_of(bot, "ping"))
    # without persistence or hiding the same sockets are a network tool's
    tool = compile_c(tmp_path, "tool", ["-O2"], BOT.replace("/etc/rc.d/rc.local", "report.txt"))
    assert "capability.behavior-packet-bot" not in behaviours(findings_of(tool))
