"""Downloading benchmark inputs with the registries' own clients, never running them.

Every function is idempotent: what is already in ``dest`` is kept, so a re-run only fetches
what is missing. Failures are returned (or printed), never raised: one package that a
registry no longer serves must not stop a benchmark.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def magic(path: Path, count: int = 4) -> bytes:
    """The first bytes of a regular file (symlinks and other nodes read as empty)."""
    if path.is_symlink() or not path.is_file():
        return b""
    with path.open("rb") as handle:
        return handle.read(count)


def apt_download(names: Iterable[str], dest: Path) -> dict[str, Path | None]:
    """``apt-get download NAME`` or ``NAME=VERSION`` into ``dest``; the .deb of each name."""
    dest.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path | None] = {}
    for name in names:
        package, _, version = name.partition("=")
        # dpkg file names spell an epoch's colon as %3a
        pattern = f"{package}_{version.replace(':', '%3a') if version else '*'}_*.deb"
        existing = sorted(dest.glob(pattern))
        if not existing:
            done = subprocess.run(
                ["apt-get", "download", name], cwd=dest, capture_output=True, text=True,
                check=False, timeout=600,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"apt-get download {name}: {done.stderr.strip()[-200:]}", file=sys.stderr)
            existing = sorted(dest.glob(pattern))
        found[name] = existing[-1] if existing else None
    return found


def unpack_deb(deb: Path, target: Path) -> Path:
    """``dpkg-deb -x`` (data only: maintainer scripts are not extracted, nothing runs)."""
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(partial)], check=True)
        partial.rename(target)
    return target


def pip_download(
    name: str, dest: Path, platforms: Iterable[str] = (), python_version: str = "3.11"
) -> list[Path]:
    """Wheels only (``--only-binary=:all:``), so no build step of the package ever runs.

    Returns the wheels of ``name`` now in ``dest``; ``platforms`` are pip ``--platform`` tags
    (any one of them may match)."""
    dest.mkdir(parents=True, exist_ok=True)
    tags = list(platforms)
    stem = name.lower().replace("-", "_")

    def present() -> list[Path]:
        wheels = [w for w in dest.glob("*.whl") if w.name.lower().startswith(stem + "-")]
        return [w for w in wheels if not tags or any(_tag_matches(w.name, t) for t in tags)]

    if not present():
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                   "--only-binary=:all:", "-d", str(dest)]  # fmt: skip
        if tags:
            command += ["--python-version", python_version]
            for tag in tags:
                command += ["--platform", tag]
        done = subprocess.run(
            [*command, name], capture_output=True, text=True, check=False, timeout=900
        )
        if done.returncode != 0:
            print(f"pip download {name} {tags}: {done.stderr.strip()[-200:]}", file=sys.stderr)
    return sorted(present())


def _tag_matches(filename: str, platform: str) -> bool:
    """Whether a wheel file name carries ``platform`` (manylinux aliases count as one)."""
    tags = filename.removesuffix(".whl").split("-")[-1]
    if platform.startswith("manylinux"):
        return "manylinux" in tags and platform.rsplit("_", 1)[-1] in tags
    if platform.startswith("macosx"):
        return "macosx" in tags
    return platform in tags.split(".")


def npm_pack(spec: str, dest: Path) -> Path | None:
    """``npm pack --ignore-scripts SPEC``: the registry tarball, no install script runs."""
    dest.mkdir(parents=True, exist_ok=True)
    prefix = spec.lstrip("@").replace("/", "-").rsplit("@", 1)[0] + "-"
    existing = sorted(dest.glob(f"{prefix}[0-9]*.tgz"))
    if not existing:
        done = subprocess.run(
            ["npm", "pack", "--ignore-scripts", "--silent", spec], cwd=dest,
            capture_output=True, text=True, check=False, timeout=900,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"npm pack {spec}: {done.stderr.strip()[-200:]}", file=sys.stderr)
        existing = sorted(dest.glob(f"{prefix}[0-9]*.tgz"))
    return existing[-1] if existing else None


def extract_members(archive: Path, target: Path, keep: tuple[bytes, ...]) -> list[Path]:
    """Copy out the zip members whose content starts with one of ``keep`` (magic bytes).

    Extraction is by content, not by name, so a native library named oddly is kept too;
    member names are confined to ``target`` (no ``..``, no absolute paths)."""
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                if info.is_dir():
                    continue
                with zipped.open(info) as member:
                    head = member.read(8)
                if not head.startswith(keep):
                    continue
                relative = Path(*[p for p in Path(info.filename).parts if p not in ("..", "/")])
                out = partial / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zipped.read(info))
        partial.mkdir(parents=True, exist_ok=True)
        partial.rename(target)
    return sorted(p for p in target.rglob("*") if p.is_file())
