"""The corpora of the compiled-code benchmark: real malware binaries and benign binaries.

Malware: the samples of ``../shared/data/malware/binaries/`` (xz), decompressed into a
private directory *outside the repository* (mode 0600, never executable), checked against
the SHA-256 of INDEX.tsv, labelled with their family and the committed dev / held-out split.

Benign: every ELF, PE and Mach-O file inside a few dozen Debian packages, the native
libraries of popular wheels for Linux, Windows and macOS, npm packages that ship prebuilt
binaries, and Debian jars; downloaded into ``bench/.work/binaries/`` (git-ignored).

Nothing here is executed, installed or loaded: packages are unpacked as archives.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import sys
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common.fetch import (  # noqa: E402
    apt_download,
    extract_members,
    magic,
    npm_pack,
    pip_download,
    unpack_deb,
)

HERE = Path(__file__).resolve().parent
WORK = ROOT / "bench" / ".work" / "binaries"
SPLIT = HERE / "split.tsv"
MALWARE = Path(
    os.environ.get(
        "FINALEXAM_MALWARE_BINARIES", ROOT.parent / "shared" / "data" / "malware" / "binaries"
    )
)
# Decompressed malware never lands inside the repository, not even in its ignored folders.
MALWARE_WORK = Path(
    os.environ.get(
        "FINALEXAM_MALWARE_WORK", Path(tempfile.gettempdir()) / "finalexam-bench-binaries"
    )
)

# Programs and libraries that legitimately use sockets, exec, ptrace, dlopen, raw packets,
# PAM, kernel modules and eBPF: what a capability rule must not call malicious on its own.
DEBIAN = (
    "openssh-server", "openssh-client", "openssh-sftp-server", "curl", "wget", "nginx-core",
    "nginx", "busybox", "strace", "gdb-minimal", "sudo", "systemd", "cron", "iproute2",
    "netcat-openbsd", "socat", "tcpdump", "iputils-ping", "python3.11-minimal", "perl-base",
    "bash", "coreutils", "util-linux", "procps", "libssl3", "libcurl4", "libgnutls30", "zstd",
    "xz-utils", "liblzma5", "libsystemd0", "dbus-daemon", "dbus-bin", "rsync", "git",
    "openssl", "libc6", "libc-bin", "libpam-modules", "kmod", "bpftool", "libjna-jni",
    # what ransomware and defence-impairing tools do, done honestly: walking directories and
    # encrypting files (backup and encryption tools), stopping processes and services, changing
    # file attributes, SELinux and audit settings, rotating logs, guest tools of VM hosts
    "restic", "age", "gpg", "gocryptfs", "rclone", "cryptsetup-bin", "e2fsprogs", "psmisc",
    "logrotate", "auditd", "policycoreutils", "open-vm-tools",
)  # fmt: skip
WHEELS = (
    "numpy", "pillow", "cryptography", "grpcio", "psutil", "lxml", "pyzmq", "orjson",
    "pydantic-core",
)  # fmt: skip
WHEEL_PLATFORMS = {
    "manylinux": ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"),
    "win": ("win_amd64",),
    "macos": ("macosx_11_0_arm64", "macosx_10_9_universal2", "macosx_10_12_x86_64",
              "macosx_10_13_x86_64", "macosx_14_0_arm64"),
}  # fmt: skip
NPM = (
    "@esbuild/linux-x64", "@esbuild/win32-x64", "@esbuild/darwin-arm64",
    "@swc/core-linux-x64-gnu", "@img/sharp-linux-x64", "@img/sharp-libvips-linux-x64",
    "@img/sharp-win32-x64", "@img/sharp-darwin-arm64", "@img/sharp-libvips-darwin-arm64",
)  # fmt: skip
# Debian jars; upstream jars carry native libraries, Debian's usually ship them apart.
JARS = ("libjna-java", "libxerial-sqlite-jdbc-java")

# Files of the malware set that are not malicious themselves: malcontent's "sbcl.market" case
# ships the clean SBCL build and a summary of what the trojanised one gained, not the latter.
REFERENCE_ONLY = {
    "linux__2024.sbcl.market__sbcl.clean.xz": "the clean SBCL runtime a diff test compares with",
    "linux__2024.sbcl.market__sbcl.sdiff.xz": "a text summary of the dirty build's gains",
}

MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
FAT_MAGIC = b"\xca\xfe\xba\xbe"
NATIVE_MAGICS = (b"\x7fELF", b"MZ", FAT_MAGIC, *MACHO_MAGICS)
ELF_MACHINES = {2: "sparc", 3: "x86", 8: "mips", 20: "ppc", 21: "ppc64", 40: "arm", 62: "x86_64",
                183: "aarch64", 243: "riscv"}  # fmt: skip
PE_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0xAA64: "aarch64", 0x1C4: "arm"}
MACHO_CPUS = {7: "x86", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "aarch64"}


@dataclass(frozen=True)
class Sample:
    key: str  # unique: set/package/relative path
    set: str  # malware, debian, wheel, npm, jar
    package: str  # the artifact it came from (malware: the INDEX file name)
    path: Path
    format: str  # elf, pe, macho, other
    arch: str
    size: int
    sha256: str
    family: str = ""
    split: str = ""  # malware: dev or held-out
    label: str = "benign"  # malicious, reference (malware set, not malicious itself) or benign

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def identify(head: bytes) -> tuple[str, str]:
    """(format, architecture) from a file's first 4 KiB."""
    if head.startswith(b"\x7fELF") and len(head) >= 20:
        order = "little" if head[5] == 1 else "big"
        machine = int.from_bytes(head[18:20], order)
        return "elf", ELF_MACHINES.get(machine, f"elf-{machine}")
    if head.startswith(b"MZ") and len(head) >= 0x40:
        offset = int.from_bytes(head[0x3C:0x40], "little")
        if head[offset : offset + 4] == b"PE\0\0":
            machine = int.from_bytes(head[offset + 4 : offset + 6], "little")
            return "pe", PE_MACHINES.get(machine, f"pe-{machine:#x}")
        return "other", "dos"
    if head[:4] in MACHO_MAGICS:
        order = "big" if head[:2] == b"\xfe\xed" else "little"
        cpu = int.from_bytes(head[4:8], order)
        return "macho", MACHO_CPUS.get(cpu, f"macho-{cpu:#x}")
    # 0xCAFEBABE is also a Java class file; a fat Mach-O has few architectures there.
    if head.startswith(FAT_MAGIC) and 0 < int.from_bytes(head[4:8], "big") < 20:
        count = int.from_bytes(head[4:8], "big")
        cpus = [int.from_bytes(head[8 + 20 * i : 12 + 20 * i], "big") for i in range(count)]
        return "macho", "+".join(MACHO_CPUS.get(c, f"{c:#x}") for c in cpus)
    return "other", ""


def families_of_index(source: Path) -> list[dict[str, str]]:
    lines = (source / "INDEX.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def make_split(rows: list[dict[str, str]]) -> dict[str, str]:
    """Families into dev / held-out halves, fixed before any tuning.

    Families that share a sample (one file filed under two families) go to the same side,
    or the held-out half would leak into dev. Groups are ordered by a hash of their names
    and dealt alternately, so the halves differ by at most one family group."""
    group_of = {row["family"]: row["family"] for row in rows}

    def root(family: str) -> str:
        while group_of[family] != family:
            family = group_of[family]
        return family

    by_hash: dict[str, str] = {}
    for row in rows:
        digest = row["sha256_uncompressed"]
        if digest in by_hash:
            a, b = sorted((root(by_hash[digest]), root(row["family"])))
            group_of[b] = a
        else:
            by_hash[digest] = row["family"]
    groups: dict[str, list[str]] = {}
    for family in sorted(group_of):
        groups.setdefault(root(family), []).append(family)
    ordered = sorted(groups, key=lambda g: hashlib.sha256(f"binaries-split:{g}".encode()).digest())
    split: dict[str, str] = {}
    for position, group in enumerate(ordered):
        for family in groups[group]:
            split[family] = "dev" if position % 2 == 0 else "held-out"
    return split


def load_split(rows: list[dict[str, str]]) -> dict[str, str]:
    """The committed split; written on first use, and a family it lacks is an error."""
    if not SPLIT.exists():
        split = make_split(rows)
        SPLIT.write_text(
            "family\tsplit\n" + "".join(f"{f}\t{s}\n" for f, s in sorted(split.items())),
            encoding="utf-8",
        )
    lines = SPLIT.read_text(encoding="utf-8").splitlines()[1:]
    split = dict(line.split("\t") for line in lines if line)
    missing = sorted({row["family"] for row in rows} - set(split))
    if missing:
        raise SystemExit(f"{SPLIT}: no split for families {missing}; extend it by hand")
    return split


def malware_samples(source: Path = MALWARE, work: Path = MALWARE_WORK) -> list[Sample]:
    """Decompress each sample (in memory, then to a 0600 file outside the repository)."""
    if not (source / "INDEX.tsv").exists():
        raise SystemExit(f"{source}: no INDEX.tsv (set --malware or FINALEXAM_MALWARE_BINARIES)")
    if work.resolve().is_relative_to(ROOT):
        raise SystemExit(f"{work}: malware must be decompressed outside the repository")
    rows = families_of_index(source)
    split = load_split(rows)
    work.mkdir(mode=0o700, parents=True, exist_ok=True)
    samples = []
    for row in rows:
        out = work / row["file"].removesuffix(".xz")
        if not out.exists():
            data = lzma.decompress((source / row["file"]).read_bytes())
            if hashlib.sha256(data).hexdigest() != row["sha256_uncompressed"]:
                raise SystemExit(f"{row['file']}: SHA-256 differs from INDEX.tsv")
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        head = magic(out, 4096)
        kind, arch = identify(head)
        samples.append(
            Sample(
                key=f"malware/{row['file']}", set="malware", package=row["file"], path=out,
                format=kind if kind != "other" else _text_or_data(head), arch=arch,
                size=out.stat().st_size, sha256=row["sha256_uncompressed"],
                family=row["family"], split=split[row["family"]],
                label="reference" if row["file"] in REFERENCE_ONLY else "malicious",
            )
        )  # fmt: skip
    return samples


def _text_or_data(head: bytes) -> str:
    return "script" if head.startswith((b"#!", b"***")) else "data"


def fetch_benign(work: Path = WORK) -> dict[str, list[Path]]:
    """Download every benign artifact; returns the artifacts by set."""
    artifacts: dict[str, list[Path]] = {"debian": [], "wheel": [], "npm": [], "jar": []}
    debs = apt_download(DEBIAN, work / "debs")
    artifacts["debian"] = sorted(p for p in debs.values() if p)
    for name in WHEELS:
        for tags in WHEEL_PLATFORMS.values():
            artifacts["wheel"] += pip_download(name, work / "wheels", tags)[-1:]
    for spec in NPM:
        tarball = npm_pack(spec, work / "npm")
        if tarball:
            artifacts["npm"].append(tarball)
    for deb in apt_download(JARS, work / "jar-debs").values():
        if deb is None:
            continue
        tree = unpack_deb(deb, work / "jar-trees" / deb.name.split("_")[0])
        artifacts["jar"] += sorted(p for p in tree.rglob("*.jar") if not p.is_symlink())
    return artifacts


def benign_samples(artifacts: dict[str, list[Path]], work: Path = WORK) -> list[Sample]:
    """Every native binary inside the artifacts (duplicates by content kept once)."""
    samples: list[Sample] = []
    seen: set[str] = set()
    for kind, paths in artifacts.items():
        for artifact in paths:
            package = artifact.name
            for path in _members(kind, artifact, work):
                head = magic(path, 4096)
                fmt, arch = identify(head)
                if fmt == "other":
                    continue
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest in seen:
                    continue
                seen.add(digest)
                samples.append(
                    Sample(
                        key=f"{kind}/{path.relative_to(work)}", set=kind,
                        package=package, path=path, format=fmt, arch=arch,
                        size=path.stat().st_size, sha256=digest,
                    )
                )  # fmt: skip
    return samples


def _members(kind: str, artifact: Path, work: Path) -> list[Path]:
    if kind == "debian":
        tree = unpack_deb(artifact, work / "debian" / artifact.name.removesuffix(".deb"))
        return sorted(p for p in tree.rglob("*") if magic(p))
    if kind in ("wheel", "jar"):
        target = work / f"{kind}-members" / artifact.name
        return extract_members(artifact, target, NATIVE_MAGICS)
    if kind == "npm":
        return _npm_members(artifact, work / "npm-members" / artifact.name)
    return []


def _npm_members(tarball: Path, target: Path) -> list[Path]:
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                if not member.isfile():
                    continue
                handle = archive.extractfile(member)
                if handle is None or not handle.read(4).startswith(NATIVE_MAGICS):
                    continue
                relative = Path(*[p for p in Path(member.name).parts if p not in ("..", "/")])
                out = partial / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
        partial.rename(target)
    return sorted(p for p in target.rglob("*") if p.is_file())
