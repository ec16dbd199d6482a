"""`finalexam scan` on every supported format and every hostile fixture: the documented exit
code and a schema-valid JSON report each time."""

from __future__ import annotations

import bz2
import io
import json
import lzma
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard

from builders import (
    ar_bytes,
    cpio_newc,
    deb_bytes,
    docker_save_bytes,
    encrypted_zip_bytes,
    gzip_bytes,
    oci_layout_bytes,
    rpm_bytes,
    sevenzip_bytes,
    tar_bytes,
    write,
    zip_bytes,
)
from finalexam.cli import main
from schema import assert_valid_report

TEXT = {"pkg/readme.txt": "hello\n", "pkg/module.py": "VALUE = 1\n"}


def _odd_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        device = tarfile.TarInfo("dev/null")
        device.type = tarfile.CHRTYPE
        archive.addfile(device)
        for name in ("dup.txt", "dup.txt", "caf\udce9.txt", "bad\x07name"):
            info = tarfile.TarInfo(name)
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


def _nested(depth: int) -> bytes:
    data = zip_bytes({"core.txt": "core"})
    for level in range(depth):
        data = zip_bytes({f"l{level}.zip": data})
    return data


FORMATS: dict[str, Callable[[], bytes]] = {
    "app.zip": lambda: zip_bytes(TEXT),
    "app-1.0-py3-none-any.whl": lambda: zip_bytes(TEXT),
    "lib.jar": lambda: zip_bytes({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"}),
    "web.war": lambda: zip_bytes({"WEB-INF/lib/x.jar": zip_bytes({"a.class": b"\xca\xfe"})}),
    "app.tar": lambda: tar_bytes(TEXT),
    "app.tar.gz": lambda: gzip_bytes(tar_bytes(TEXT)),
    "app.tar.bz2": lambda: bz2.compress(tar_bytes(TEXT)),
    "app.tar.xz": lambda: lzma.compress(tar_bytes(TEXT)),
    "app.tar.zst": lambda: zstandard.ZstdCompressor().compress(tar_bytes(TEXT)),
    "notes.txt.gz": lambda: gzip_bytes(b"plain\n"),
    "notes.txt.zst": lambda: zstandard.ZstdCompressor().compress(b"plain\n"),
    "package.tgz": lambda: gzip_bytes(tar_bytes({"package/package.json": '{"name": "x"}'})),
    "thing-1.0.gem": lambda: tar_bytes(
        {"data.tar.gz": gzip_bytes(tar_bytes(TEXT)), "metadata.gz": gzip_bytes(b"name: thing\n")}
    ),
    "agent_1.0_amd64.deb": lambda: deb_bytes("Package: agent\nVersion: 1.0\n", TEXT),
    "libx.a": lambda: ar_bytes({"x.o": b"\0obj"}),
    "tool-1.0-1.x86_64.rpm": lambda: rpm_bytes("tool", "1.0", "1", {"usr/share/t": b"t"}),
    "initrd.cpio": lambda: cpio_newc({"init": b"#!/bin/sh\n"}),
    "image.tar": lambda: docker_save_bytes([tar_bytes(TEXT), tar_bytes({"etc/x": "x"})]),
    "oci.tar": lambda: oci_layout_bytes([tar_bytes(TEXT)]),
    "bundle.7z": lambda: sevenzip_bytes({"a.txt": b"a"}),
    "single.bin": lambda: b"\x7fELF\x02\x01\x01" + b"\0" * 57,
}

# Each hostile case and the kinds of Issue it must record: a gap (anything but a note) makes
# the exam incomplete until the user accepts that kind; a note alone leaves it complete.
HOSTILE: dict[str, tuple[Callable[[], bytes], set[str]]] = {
    "traversal.tar": (
        lambda: tar_bytes({"../../../tmp/evil.sh": "x", "/etc/passwd": "root"}),
        {"note"},
    ),
    "links.tar": (
        lambda: tar_bytes(
            {}, links=[("a", "/etc/shadow", tarfile.SYMTYPE), ("b", "../../x", tarfile.LNKTYPE)]
        ),
        {"note"},
    ),
    "odd-names.tar": (_odd_tar, {"note"}),
    "encrypted.zip": (lambda: encrypted_zip_bytes({"a.txt": "a", "b.txt": "b"}), {"encrypted"}),
    "truncated.tar.gz": (lambda: gzip_bytes(tar_bytes({"a": "a" * 5000}))[:-30], {"corrupt"}),
    "corrupt.zip": (lambda: zip_bytes(TEXT)[:60], {"corrupt"}),
    "ratio-bomb.zip": (lambda: zip_bytes({"zeros": b"\0" * (40 * 1024 * 1024)}), {"limit"}),
    "deep.zip": (lambda: _nested(20), {"limit"}),
    "garbage.tar.xz": (lambda: b"\xfd7zXZ\x00" + b"\x13" * 200, {"corrupt"}),
}


def _scan(path: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, object]]:
    out = tmp_path / f"{path.name}.json"
    code = main(["scan", str(path), "-o", f"json={out}", "--files", *extra])
    document = json.loads(out.read_text())
    assert_valid_report(document)
    return code, document


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_passes_with_a_valid_report(name: str, tmp_path: Path) -> None:
    path = write(tmp_path / name, FORMATS[name]())
    code, document = _scan(path, tmp_path, "--max-depth", "16")
    assert code == 0, document["issues"]
    assert document["complete"] is True
    assert document["summary"]["files"]["count"] >= 1  # type: ignore[index]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_an_issue_not_a_crash(name: str, tmp_path: Path) -> None:
    make, kinds = HOSTILE[name]
    path = write(tmp_path / name, make())
    code, document = _scan(path, tmp_path, "--max-depth", "8")
    issues: list[dict[str, object]] = document["issues"]  # type: ignore[assignment]
    assert {i["kind"] for i in issues} == kinds, issues
    gaps = sorted(kinds - {"note"})
    assert code == (3 if gaps else 0)
    assert document["complete"] is not gaps
    assert document["verdict"]["status"] == ("incomplete" if gaps else "passed")  # type: ignore[index]
    if gaps:  # accepting exactly those kinds completes the exam; the issues stay listed
        accepted, again = _scan(
            path, tmp_path, "--max-depth", "8", "--allow-incomplete", ",".join(gaps)
        )
        assert accepted == 0
        assert again["issues"] == issues and again["allowed_incomplete"] == gaps
    assert not (tmp_path.parent / "tmp" / "evil.sh").exists()
