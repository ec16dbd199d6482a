"""The exam sees at least what each format's own tools see.

Archives are crafted by code (and by the real tools: GNU tar, cpio, dpkg-deb, rpmbuild, 7-Zip),
then listed by the reference readers: GNU tar and bsdtar for tarballs, unzip and 7-Zip for
zips, 7-Zip and bsdtar for 7z, dpkg-deb for debs, cpio and rpm for their formats. Listing
only: nothing hostile is ever extracted. Every member a tool lists must be among the exam's
files (directories aside); where the tools disagree, the exam must cover the union.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import subprocess
import tarfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import finalexam
from builders import ar_bytes, tar_bytes
from finalexam.unpack.walk import sanitize
from hostile.craft import (
    BLOCK,
    central_entries,
    cpio_newc_entry,
    gzip_of,
    noise,
    patch,
    payload,
    sevenzip_raw_names,
    tar_end,
    tar_file,
    zip_local_header,
    zip_of,
)

SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


def _tool(name: str | None) -> str:
    if name is None or shutil.which(name) is None:
        pytest.skip(f"{name} not installed (CI installs it from .ci/system-packages)")
    return name


def _run(argv: list[str], stdin: bytes | None = None) -> str:
    # Tools report damage on stderr and with a non-zero status: what they list still counts.
    result = subprocess.run(argv, input=stdin, capture_output=True, timeout=60, check=False)
    return result.stdout.decode("utf-8", "surrogateescape")


def _names(lines: list[str]) -> set[str]:
    """Member paths as the exam names them, without the directories that hold others."""
    paths = {sanitize(line)[0] for line in lines if line.strip() and not line.endswith("/")}
    parents = {p.rsplit("/", n)[0] for p in paths for n in range(1, p.count("/") + 1)}
    return {p for p in paths if p not in parents and p != "."}


def list_tar(tool: str) -> Callable[[Path], set[str]]:
    def lister(path: Path) -> set[str]:
        return _names(_run([_tool(tool), "-tf", str(path)]).splitlines())

    lister.__name__ = f"list_{tool}"
    return lister


def list_unzip(path: Path) -> set[str]:
    # zipinfo prints names as stored; legacy (non-UTF-8) names are CP437, as unzip and
    # zipfile decode them when they extract.
    raw = subprocess.run([_tool("unzip"), "-Z1", str(path)], capture_output=True, check=False)
    lines = []
    for line in raw.stdout.splitlines():
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp437"))
    return _names(lines)


def list_7z(path: Path) -> set[str]:
    text = _run([_tool(SEVEN_ZIP), "l", "-slt", "-ba", str(path)])
    names = []
    for block in text.split("\n\n"):
        fields = dict(line.split(" = ", 1) for line in block.splitlines() if " = " in line)
        if "Path" in fields and fields.get("Folder") != "+":
            names.append(fields["Path"])
    return _names(names)


def list_dpkg(path: Path) -> set[str]:
    lines = _run([_tool("dpkg-deb"), "-c", str(path)]).splitlines()
    names = [line.split(None, 5)[5] for line in lines if line[:1] != "d"]
    return _names([n.split(" -> ")[0].split(" link to ")[0] for n in names])


def list_cpio(path: Path) -> set[str]:
    return _names(_run([_tool("cpio"), "-it", "--quiet"], stdin=path.read_bytes()).splitlines())


def list_rpm(path: Path) -> set[str]:
    return _names(_run([_tool("rpm"), "-qlp", "--nosignature", str(path)]).splitlines())


def exam_names(path: Path, inner: str = "") -> set[str]:
    """What the exam examined below ``path`` (below its member ``inner``, for a .deb)."""
    report = finalexam.scan(path)
    prefix = (path.name, inner) if inner else (path.name,)
    return {
        r.location.chain[len(prefix)]
        for r in report.files
        if r.location.chain[: len(prefix)] == prefix and len(r.location.chain) > len(prefix)
    }


# -- archives ------------------------------------------------------------------------------


def _tree(root: Path) -> Path:
    (root / "pkg" / "bin").mkdir(parents=True)
    (root / "pkg" / "bin" / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (root / "pkg" / ("deep-" + "d" * 60) / ("name-" + "n" * 90)).parent.mkdir()
    (root / "pkg" / ("deep-" + "d" * 60) / ("name-" + "n" * 90)).write_text("long\n")
    (root / "pkg" / "caf\u00e9.txt").write_text("unicode\n")
    (root / "pkg" / "link").symlink_to("bin/tool")
    os.link(root / "pkg" / "bin" / "tool", root / "pkg" / "hard")
    return root


def gnu_tar(fmt: str) -> Callable[[Path], Path]:
    def build(directory: Path) -> Path:
        _tree(directory / "src")
        target = directory / f"release-{fmt}.tar.gz"
        subprocess.run(
            [
                _tool("tar"),
                f"--format={fmt}",
                "-czf",
                str(target),
                "-C",
                str(directory / "src"),
                "pkg",
            ],
            check=True,
        )
        return target

    return build


def sparse_tar(fmt: str) -> Callable[[Path], Path]:
    def build(directory: Path) -> Path:
        source = directory / "src"
        source.mkdir()
        with open(source / "disk.img", "wb") as handle:
            # Holes up to 250 times the stored data: more is judged a likely bomb.
            handle.write(noise(40_000))
            handle.seek(3 * 1024 * 1024)
            handle.write(payload())
            handle.truncate(5 * 1024 * 1024)
        target = directory / f"sparse-{fmt}.tar"
        subprocess.run(
            [
                _tool("tar"),
                f"--format={fmt}",
                "-S",
                "-cf",
                str(target),
                "-C",
                str(source),
                "disk.img",
            ],
            check=True,
        )
        return target

    return build


def junk_tar(directory: Path) -> Path:
    data = tar_file("pkg/a.txt", b"a\n") + noise(BLOCK) + tar_file("pkg/key.pem", payload())
    return _write(directory / "junk.tar", data + tar_end())


def lone_zero_tar(directory: Path) -> Path:
    data = tar_file("pkg/a.txt", b"a\n") + bytes(BLOCK) + tar_file("pkg/key.pem", payload())
    return _write(directory / "zero.tar", data + tar_end())


def trailing_garbage_tgz(directory: Path) -> Path:
    data = gzip_of(tar_bytes({"pkg/a.txt": b"a", "pkg/key.pem": payload()})) + b"garbage"
    return _write(directory / "trailing.tgz", data)


def prepended_zip(directory: Path) -> Path:
    stub = b'#!/bin/sh\nexec java -jar "$0"\n'
    return _write(
        directory / "tool.run", stub + zip_of([("a/Main.class", b"x"), ("key.pem", payload())])
    )


def legacy_name_zip(directory: Path) -> Path:
    data = zip_of([("caf_.txt", b"menu\n" * 50), ("key.pem", payload())])
    return _write(directory / "legacy.zip", data.replace(b"caf_.txt", b"caf\x82.txt"))


def size_lie_zip(directory: Path) -> Path:
    import struct

    data = zip_of([("a.txt", b"a" * 1000), ("key.pem", payload())])
    first = central_entries(data)[0]
    (compressed,) = struct.unpack_from("<I", data, first + 20)
    return _write(directory / "lie.zip", patch(data, first + 20, struct.pack("<I", compressed + 1)))


def hidden_entry_jar(directory: Path) -> Path:
    import struct

    hidden = zip_local_header(b"key.pem", payload())
    listed = zip_of([("README", b"hello\n")], 0)
    (offset,) = struct.unpack_from("<I", listed, listed.rfind(b"PK\x05\x06") + 16)
    central = listed[offset:]
    end = central.rfind(b"PK\x05\x06")
    body = listed[:offset] + hidden
    return _write(
        directory / "hidden.jar", body + patch(central, end + 16, struct.pack("<I", len(body)))
    )


def odd_names_7z(directory: Path) -> Path:
    members = [
        ("./a.txt", b"dot"),
        ("/abs.txt", b"abs"),
        ("d//b.txt", b"dbl"),
        ("dup.js", b"1"),
        ("dup.js", payload()),
    ]
    return _write(directory / "names.7z", sevenzip_raw_names(members))


def real_7z(directory: Path) -> Path:
    _tree(directory / "src")
    target = directory / "real.7z"
    subprocess.run(
        [_tool(SEVEN_ZIP), "a", "-bd", "-snl", str(target), "pkg"],
        cwd=directory / "src",
        check=True,
        capture_output=True,
    )
    return target


def real_deb(directory: Path) -> Path:
    root = directory / "pkgroot"
    _tree(root / "usr" / "share")
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        "Package: tool\nVersion: 1.0\nArchitecture: all\nMaintainer: a <a@b.c>\nDescription: t\n"
    )
    target = directory / "tool_1.0_all.deb"
    subprocess.run(
        [_tool("dpkg-deb"), "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
        check=True,
        capture_output=True,
    )
    return target


def lzma_deb(directory: Path) -> Path:
    data = lzma.compress(
        tar_bytes({"./usr/share/tool/key.pem": payload(), "./usr/bin/tool": b"x"}),
        format=lzma.FORMAT_ALONE,
    )
    control = gzip_of(tar_bytes({"./control": b"Package: tool\nVersion: 1.0\nArchitecture: all\n"}))
    return _write(
        directory / "tool_1.0_all.deb",
        ar_bytes({"debian-binary": b"2.0\n", "control.tar.gz": control, "data.tar.lzma": data}),
    )


def real_cpio(directory: Path) -> Path:
    _tree(directory / "src")
    files = subprocess.run(
        ["find", "pkg"], cwd=directory / "src", capture_output=True, check=True
    ).stdout
    out = subprocess.run(
        [_tool("cpio"), "-o", "-H", "newc", "--quiet"],
        input=files,
        cwd=directory / "src",
        capture_output=True,
        check=True,
    ).stdout
    return _write(directory / "initrd.cpio", out)


def junk_cpio(directory: Path) -> Path:
    data = cpio_newc_entry("a.txt", b"a\n") + noise(64) + cpio_newc_entry("key.pem", payload())
    return _write(directory / "junk.cpio", data + cpio_newc_entry("TRAILER!!!", b"", 0))


def real_rpm(directory: Path) -> Path:
    top = directory / "rpmbuild"
    (top / "SPECS").mkdir(parents=True)
    spec = top / "SPECS" / "tool.spec"
    spec.write_text(
        textwrap.dedent("""\
        Name: tool
        Version: 1.0
        Release: 1
        Summary: t
        License: MIT
        BuildArch: noarch
        %description
        t
        %install
        mkdir -p %{buildroot}/usr/share/tool
        echo hi > %{buildroot}/usr/share/tool/a.txt
        ln -s a.txt %{buildroot}/usr/share/tool/link
        %files
        /usr/share/tool/a.txt
        /usr/share/tool/link
        """)
    )
    subprocess.run(
        [_tool("rpmbuild"), "-bb", "--quiet", "--define", f"_topdir {top}", str(spec)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    built = next((top / "RPMS").rglob("*.rpm"))
    return _write(directory / built.name, built.read_bytes())


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


CASES: list[tuple[str, Callable[[Path], Path], Callable[[Path], set[str]], str]] = [
    ("gnu-tar", gnu_tar("gnu"), list_tar("tar"), ""),
    ("gnu-tar", gnu_tar("gnu"), list_tar("bsdtar"), ""),
    ("pax-tar", gnu_tar("posix"), list_tar("tar"), ""),
    ("pax-tar", gnu_tar("posix"), list_tar("bsdtar"), ""),
    ("ustar-tar", gnu_tar("ustar"), list_tar("bsdtar"), ""),
    ("sparse-gnu", sparse_tar("gnu"), list_tar("tar"), ""),
    ("sparse-pax", sparse_tar("posix"), list_tar("bsdtar"), ""),
    ("junk-block", junk_tar, list_tar("tar"), ""),
    ("junk-block", junk_tar, list_tar("bsdtar"), ""),
    ("lone-zero-block", lone_zero_tar, list_tar("tar"), ""),
    ("trailing-garbage", trailing_garbage_tgz, list_tar("tar"), ""),
    ("prepended-zip", prepended_zip, list_unzip, ""),
    ("prepended-zip", prepended_zip, list_7z, ""),
    ("legacy-name-zip", legacy_name_zip, list_unzip, ""),
    ("size-lie-zip", size_lie_zip, list_unzip, ""),
    ("size-lie-zip", size_lie_zip, list_7z, ""),
    ("hidden-entry-jar", hidden_entry_jar, list_unzip, ""),
    ("odd-names-7z", odd_names_7z, list_7z, ""),
    ("odd-names-7z", odd_names_7z, list_tar("bsdtar"), ""),
    ("real-7z", real_7z, list_7z, ""),
    ("real-7z", real_7z, list_tar("bsdtar"), ""),
    ("real-deb", real_deb, list_dpkg, "data.tar.xz"),
    ("lzma-deb", lzma_deb, list_dpkg, "data.tar.lzma"),
    ("real-cpio", real_cpio, list_cpio, ""),
    ("real-cpio", real_cpio, list_tar("bsdtar"), ""),
    ("junk-cpio", junk_cpio, list_cpio, ""),
    ("real-rpm", real_rpm, list_rpm, ""),
]


@pytest.mark.parametrize(
    ("build", "lister", "inner"),
    [
        pytest.param(b, lister, inner, id=f"{name}-{getattr(lister, '__name__', 'list')}")
        for name, b, lister, inner in CASES
    ],
)
def test_exam_covers_what_the_tool_lists(
    build: Callable[[Path], Path], lister: Callable[[Path], set[str]], inner: str, tmp_path: Path
) -> None:
    target = build(tmp_path)
    listed = lister(target)
    assert listed, "the tool listed nothing: the comparison would prove nothing"
    missing = listed - exam_names(target, inner)
    assert missing == set()


@pytest.mark.parametrize("fmt", ["gnu", "posix"])
def test_sparse_members_read_as_the_file_they_restore(fmt: str, tmp_path: Path) -> None:
    target = sparse_tar(fmt)(tmp_path)
    original = (tmp_path / "src" / "disk.img").read_bytes()
    report = finalexam.scan(target)
    record = next(r for r in report.files if r.location.path == "disk.img")
    assert (record.size, record.sha256) == (len(original), hashlib.sha256(original).hexdigest())
    assert report.issues == ()


def test_gnu_long_names_and_links_read_like_tarfile(tmp_path: Path) -> None:
    target = gnu_tar("gnu")(tmp_path)
    with tarfile.open(target) as archive:
        expected = {m.name: m for m in archive.getmembers() if not m.isdir()}
    report = finalexam.scan(target)
    records = {r.location.path: r for r in report.files if len(r.location.chain) == 2}
    assert set(records) == set(expected)
    for name, member in expected.items():
        if member.isfile():
            data = archive_bytes(target, name)
            assert records[name].sha256 == hashlib.sha256(data).hexdigest()
        else:
            assert records[name].link_target == member.linkname


def archive_bytes(target: Path, name: str) -> bytes:
    with tarfile.open(target) as archive:
        handle = archive.extractfile(name)
        assert handle is not None
        return handle.read()
