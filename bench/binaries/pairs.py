"""Release pairs for ``finalexam diff``: the tampering pairs the tests build, and real Debian
security updates of the same package (two versions the archive still serves)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "tests"))

from bench.common.fetch import apt_download  # noqa: E402

from tamper_pairs import all_pairs  # noqa: E402

# Debian packages whose security updates stand for "the honest next build": the xz library
# itself, the daemon the xz backdoor targeted, and the TLS library it hooked.
DEBIAN_UPDATES = ("liblzma5", "openssh-server", "libssl3")


@dataclass(frozen=True)
class Pair:
    name: str
    malicious: bool
    description: str
    old: Path
    new: Path


def built_pairs(work: Path) -> tuple[list[Pair], dict[str, str]]:
    built, skipped = all_pairs(work / "pairs")
    return [Pair(p.name, p.malicious, p.description, p.old, p.new) for p in built], skipped


def debian_update_pairs(work: Path) -> list[Pair]:
    pairs = []
    for package in DEBIAN_UPDATES:
        versions = _versions(package)
        if len(versions) < 2:
            print(f"{package}: only {versions} served, no update pair", file=sys.stderr)
            continue
        new_version, old_version = versions[0], versions[1]
        debs = apt_download(
            [f"{package}={old_version}", f"{package}={new_version}"], work / "update-debs"
        )
        old, new = debs[f"{package}={old_version}"], debs[f"{package}={new_version}"]
        if old and new:
            pairs.append(
                Pair(f"debian-{package}", False,
                     f"Debian update {old_version} -> {new_version}", old, new)
            )  # fmt: skip
    return pairs


def _versions(package: str) -> list[str]:
    """The versions apt can download, newest first, without duplicates."""
    out = subprocess.run(
        ["apt-cache", "madison", package], capture_output=True, text=True, check=False
    ).stdout
    versions: list[str] = []
    for line in out.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) >= 2 and cols[1] not in versions:
            versions.append(cols[1])
    return versions
