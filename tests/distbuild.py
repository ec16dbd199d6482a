"""Real distribution packages built by the distributions' tools, and images made of them.

``dpkg-deb --build`` makes the .deb files, ``rpmbuild`` the .rpm files; an image's dpkg
status is the control paragraphs ``dpkg-deb --field`` reads from those packages, its file
lists (``info/<package>.list``) the members of their ``dpkg-deb --fsys-tarfile`` data, which
are its layers, and an image's rpmdb is written by ``rpm --justdb``.
Nothing built here is installed on the machine or run.
"""

from __future__ import annotations

import io
import posixpath
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from builders import docker_save_bytes, tar_bytes

DPKG_DEB = shutil.which("dpkg-deb")
RPMBUILD = shutil.which("rpmbuild")
RPM = shutil.which("rpm")


def _run(*args: str | Path, cwd: Path | None = None) -> bytes:
    done = subprocess.run([str(a) for a in args], capture_output=True, check=True, cwd=cwd)
    return done.stdout


def build_deb(
    workdir: Path,
    package: str,
    version: str,
    *,
    source: str | None = None,
    maintainer: str = "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
    architecture: str = "amd64",
    files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """A binary package built by ``dpkg-deb --build``; ``source`` is its Source: field,
    ``files`` more files it installs (path under / -> content)."""
    assert DPKG_DEB is not None
    safe = re.sub(r"[^\w.+~-]", "_", f"{package}_{version}_{architecture}")
    root = workdir / "deb-trees" / safe
    (root / "DEBIAN").mkdir(parents=True, exist_ok=True)
    doc = root / "usr" / "share" / "doc" / package
    doc.mkdir(parents=True, exist_ok=True)
    (doc / "README").write_text(f"{package} {version}\n")
    for path, content in (files or {}).items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
        target.chmod(0o755)
    fields = [
        f"Package: {package}",
        f"Version: {version}",
        f"Architecture: {architecture}",
        f"Maintainer: {maintainer}",
    ]
    if source:
        fields.append(f"Source: {source}")
    fields.append(f"Description: {package} built for the finalexam tests")
    (root / "DEBIAN" / "control").write_text("\n".join(fields) + "\n")
    target = workdir / f"{safe}.deb"
    _run(DPKG_DEB, "--root-owner-group", "--build", root, target)
    return target


def dpkg_status(debs: Iterable[Path]) -> str:
    """What dpkg's status database says once these packages are installed."""
    assert DPKG_DEB is not None
    paragraphs = []
    for deb in debs:
        control = _run(DPKG_DEB, "--field", deb).decode()
        lines = control.rstrip("\n").splitlines()
        lines.insert(1, "Status: install ok installed")
        paragraphs.append("\n".join(lines) + "\n")
    return "\n".join(paragraphs)


def dpkg_file_list(data_tar: bytes) -> str:
    """What dpkg writes to ``info/<package>.list`` on install: ``/.`` then every member of
    the package's data, as an absolute path."""
    with tarfile.open(fileobj=io.BytesIO(data_tar)) as tar:
        paths = [posixpath.normpath("/" + m.name) for m in tar.getmembers()]
    return "\n".join("/." if p == "/" else p for p in paths) + "\n"


def debian_image(
    debs: list[Path], os_release: str, extra: Mapping[str, str | bytes] | None = None
) -> bytes:
    """A ``docker save`` image: a base layer (os-release, dpkg status and file lists) and one
    layer per .deb holding the package's own files."""
    assert DPKG_DEB is not None
    data = [_run(DPKG_DEB, "--fsys-tarfile", deb) for deb in debs]
    lists = {
        f"var/lib/dpkg/info/{_run(DPKG_DEB, '--field', deb, 'Package').decode().strip()}.list": (
            dpkg_file_list(tar)
        )
        for deb, tar in zip(debs, data, strict=True)
    }
    base = tar_bytes(
        {
            "etc/os-release": os_release,
            "var/lib/dpkg/status": dpkg_status(debs),
            **lists,
            **(extra or {}),
        }
    )
    return docker_save_bytes([base, *data])


def build_rpm(
    workdir: Path,
    source: str,
    version: str,
    release: str,
    *,
    subpackage: str | None = None,
    epoch: int | None = None,
    vendor: str = "Rocky Enterprise Software Foundation",
    files: Mapping[str, str] | None = None,
) -> Path:
    """A binary RPM built by ``rpmbuild``: ``source`` names the spec (so the SOURCERPM tag is
    ``source-version-release.src.rpm``); ``subpackage`` (``libs``) names the binary package
    ``source-libs`` instead of ``source``; ``files``: more text files it installs."""
    assert RPMBUILD is not None
    top = workdir / "rpmbuild"
    binary = f"{source}-{subpackage}" if subpackage else source
    doc = f"/usr/share/doc/{binary}/README"
    header = "\n".join(
        [
            "%global debug_package %{nil}",
            f"Name: {source}",
            f"Version: {version}",
            f"Release: {release}",
            *([f"Epoch: {epoch}"] if epoch is not None else []),
            "Summary: built for the finalexam tests",
            "License: Apache-2.0",
            f"Vendor: {vendor}",
            "BuildArch: noarch",
            "%description",
            "A package built for the finalexam tests.",
        ]
    )
    package = ""
    if subpackage:
        package = f"%package {subpackage}\nSummary: {binary}\n%description {subpackage}\n{binary}\n"
    workdir.mkdir(parents=True, exist_ok=True)
    staging = workdir / f"{binary}-{version}-{release}-files"
    for path, text in (files or {}).items():
        (staging / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (staging / path.lstrip("/")).write_text(text)
    copy = f"cp -a {staging}/. %{{buildroot}}/\n" if files else ""
    listed = "".join(f"/{path.lstrip('/')}\n" for path in files or {})
    body = (
        f"%install\nmkdir -p %{{buildroot}}{doc.rsplit('/', 1)[0]}\n"
        f"echo {binary} > %{{buildroot}}{doc}\n{copy}"
        f"%files{' ' + subpackage if subpackage else ''}\n{doc}\n{listed}"
    )
    spec = workdir / f"{binary}-{version}-{release}.spec"
    spec.write_text(f"{header}\n{package}{body}")
    _run(RPMBUILD, "--define", f"_topdir {top}", "--nodeps", "-bb", spec)
    return top / "RPMS" / "noarch" / f"{binary}-{version}-{release}.noarch.rpm"


def rpm_image(
    workdir: Path,
    rpms: list[Path],
    os_release: str,
    extra: Mapping[str, str | bytes] | None = None,
) -> bytes:
    """A ``docker save`` image whose rpmdb (sqlite) rpm itself wrote for these packages;
    ``extra``: files of the image (what the packages installed, as it stands on disk)."""
    assert RPM is not None
    dbpath = workdir / "rpmroot" / "var" / "lib" / "rpm"
    dbpath.mkdir(parents=True, exist_ok=True)
    _run(RPM, "--dbpath", dbpath, "--initdb")
    flags = ("--justdb", "--nodeps", "--noscripts", "--notriggers", "--ignorearch")
    _run(RPM, "--dbpath", dbpath, "-i", *flags, *rpms)
    database = (dbpath / "rpmdb.sqlite").read_bytes()
    layer = tar_bytes(
        {"etc/os-release": os_release, "var/lib/rpm/rpmdb.sqlite": database, **(extra or {})}
    )
    return docker_save_bytes([layer])
