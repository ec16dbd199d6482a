from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

import finalexam
from builders import (
    ar_bytes,
    cpio_newc,
    deb_bytes,
    docker_save_bytes,
    gzip_bytes,
    oci_layout_bytes,
    rpm_bytes,
    sevenzip_bytes,
    tar_bytes,
    write,
    zip_bytes,
)
from finalexam.model import Report
from finalexam.unpack import UNPACKERS


def locations(report: Report) -> set[str]:
    return {str(record.location) for record in report.files}


def layer_of(report: Report, location: str) -> str | None:
    return next(r.layer for r in report.files if str(r.location) == location)


def test_every_unpacker_module_is_registered() -> None:
    import pkgutil

    import finalexam.unpack as package

    modules = {m.name for m in pkgutil.iter_modules(package.__path__) if m.name[0] != "_"}
    helpers = {"base", "walk", "filetype", "zipcrypto"}
    registered = {type(u).__module__.rsplit(".", 1)[-1] for u in UNPACKERS}
    assert modules - helpers == registered


def test_deb_control_and_data(tmp_path: Path) -> None:
    deb = deb_bytes(
        "Package: agent\nVersion: 3.1\nArchitecture: amd64\n",
        {"usr/bin/agent": b"\x7fELF" + b"\0" * 60},
    )
    report = finalexam.scan(write(tmp_path / "agent_3.1_amd64.deb", deb))
    assert report.artifact.kind == "ar"
    assert {
        "agent_3.1_amd64.deb!/control.tar.gz!/control",
        "agent_3.1_amd64.deb!/data.tar.xz!/usr/bin/agent",
    } <= locations(report)
    assert report.issues == ()


def test_absolute_symlinks_inside_system_packages_are_not_issues(tmp_path: Path) -> None:
    import lzma

    data = lzma.compress(
        tar_bytes(
            {"./usr/bin/x": "x"},
            links=[
                ("./usr/lib/conf", "/etc/x.conf", tarfile.SYMTYPE),
                ("./usr/lib/up", "../../../../etc/shadow", tarfile.SYMTYPE),
            ],
        )
    )
    deb = ar_bytes({"debian-binary": b"2.0\n", "data.tar.xz": data})
    report = finalexam.scan(write(tmp_path / "x.deb", deb))
    assert [i.location.path for i in report.issues if i.location] == ["usr/lib/up"]


def test_ar_long_names(tmp_path: Path) -> None:
    archive = ar_bytes({"a-very-long-object-name.o": b"obj", "short.o": b"odd"})
    report = finalexam.scan(write(tmp_path / "libx.a", archive))
    assert {"libx.a!/a-very-long-object-name.o", "libx.a!/short.o"} <= locations(report)


@pytest.mark.parametrize("compressor", ["gzip", "xz", "zstd"])
def test_rpm_payload(tmp_path: Path, compressor: str) -> None:
    jar = zip_bytes({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"})
    rpm = rpm_bytes(
        "tool",
        "2.0",
        "1",
        {"usr/bin/tool": b"#!/bin/sh\necho hi\n", "usr/share/tool/lib.jar": jar},
        compressor,
    )
    report = finalexam.scan(write(tmp_path / "tool-2.0-1.x86_64.rpm", rpm))
    assert report.artifact.kind == "rpm"
    assert {
        "tool-2.0-1.x86_64.rpm!/usr/bin/tool",
        "tool-2.0-1.x86_64.rpm!/usr/share/tool/lib.jar!/META-INF/MANIFEST.MF",
    } <= locations(report)
    assert report.issues == ()


def test_rpm_header_tags() -> None:
    from finalexam.formats.rpm import parse_rpm_header

    tags = parse_rpm_header(rpm_bytes("tool", "2.0", "7", {"a": b"a"}))
    assert (tags["name"], tags["version"], tags["release"]) == ("tool", "2.0", "7")
    assert tags["payloadcompressor"] == "gzip"
    assert tags["payload_offset"] > 96


def test_truncated_rpm_is_an_issue(tmp_path: Path) -> None:
    rpm = rpm_bytes("tool", "2.0", "1", {"a.txt": b"a" * 5000})
    report = finalexam.scan(write(tmp_path / "t.rpm", rpm[:200]))
    assert report.issues and "truncated" in report.issues[0].message.lower()


def test_cpio_with_symlink(tmp_path: Path) -> None:
    archive = gzip_bytes(cpio_newc({"bin/busybox": b"bb"}, {"bin/sh": "/bin/busybox"}))
    report = finalexam.scan(write(tmp_path / "initramfs.cpio.gz", archive))
    assert "initramfs.cpio.gz!/bin/busybox" in locations(report)
    links = {str(r.location): r.link_target for r in report.files if r.link_target}
    assert links == {"initramfs.cpio.gz!/bin/sh": "/bin/busybox"}


def _layer(members: dict[str, bytes | str], whiteouts: tuple[str, ...] = ()) -> bytes:
    return tar_bytes({**members, **{w: b"" for w in whiteouts}})


LOWER = {
    "etc/os-release": "ID=debian\n",
    "app/old.py": "old\n",
    "app/keep.py": "keep\n",
    "cache/a.bin": "a",
    "cache/b.bin": "b",
    "var/lib/dpkg/status": "Package: x\n",
}
UPPER = {"app/new.py": "new\n", "etc/os-release": "ID=custom\n", "cache/c.bin": "c"}
UPPER_WHITEOUTS = ("app/.wh.old.py", "cache/.wh..wh..opq")


def _check_image(report: Report, name: str, lower_digest_part: str | None = None) -> None:
    files = locations(report)
    assert {
        f"{name}!/app/new.py",
        f"{name}!/app/keep.py",
        f"{name}!/etc/os-release",
        f"{name}!/cache/c.bin",
        f"{name}!/var/lib/dpkg/status",
    } <= files
    assert f"{name}!/app/old.py" not in files  # whiteout
    assert f"{name}!/cache/a.bin" not in files  # opaque directory
    assert not any(".wh." in f for f in files)
    os_release = next(r for r in report.files if str(r.location) == f"{name}!/etc/os-release")
    assert os_release.sha256 == hashlib.sha256(b"ID=custom\n").hexdigest()
    assert layer_of(report, f"{name}!/app/keep.py") != layer_of(report, f"{name}!/app/new.py")


def test_docker_save_layers_and_whiteouts(tmp_path: Path) -> None:
    image = docker_save_bytes([_layer(LOWER), _layer(UPPER, UPPER_WHITEOUTS)])
    report = finalexam.scan(write(tmp_path / "image.tar", image))
    assert report.artifact.kind == "oci-image"
    _check_image(report, "image.tar")
    assert "image.tar!/manifest.json" in locations(report)


def test_oci_layout_with_gzip_layers(tmp_path: Path) -> None:
    image = oci_layout_bytes([_layer(LOWER), _layer(UPPER, UPPER_WHITEOUTS)])
    report = finalexam.scan(write(tmp_path / "oci.tar", image))
    assert report.artifact.kind == "oci-image"
    _check_image(report, "oci.tar")
    layer = layer_of(report, "oci.tar!/app/new.py")
    assert layer is not None and layer.startswith("sha256:")


def test_plain_tar_with_manifest_json_is_not_an_image(tmp_path: Path) -> None:
    report = finalexam.scan(
        write(tmp_path / "x.tar", tar_bytes({"manifest.json": '{"a": 1}', "b.txt": "b"}))
    )
    assert report.artifact.kind == "tar"
    assert "x.tar!/b.txt" in locations(report)


def test_image_with_missing_layer_is_an_issue(tmp_path: Path) -> None:
    import io

    data = docker_save_bytes([_layer({"a.txt": "a"})])
    members: dict[str, bytes | str] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as source:  # rebuilt without the layer
        for member in source.getmembers():
            handle = source.extractfile(member)
            if handle is not None and not member.name.endswith("layer.tar"):
                members[member.name] = handle.read()
    report = finalexam.scan(write(tmp_path / "broken.tar", tar_bytes(members)))
    assert any("missing from image" in i.message for i in report.issues)


def test_7z(tmp_path: Path) -> None:
    archive = sevenzip_bytes({"bin/tool.exe": b"MZ" + b"\0" * 100, "readme.txt": b"hello"})
    report = finalexam.scan(write(tmp_path / "bundle.7z", archive))
    assert {"bundle.7z!/bin/tool.exe", "bundle.7z!/readme.txt"} <= locations(report)
    assert report.artifact.kind == "7z"


def test_gem_nested_tars(tmp_path: Path) -> None:
    data = gzip_bytes(tar_bytes({"lib/thing.rb": "module Thing; end\n"}))
    metadata = gzip_bytes(b"--- !ruby/object:Gem::Specification\nname: thing\n")
    gem = tar_bytes({"metadata.gz": metadata, "data.tar.gz": data})
    report = finalexam.scan(write(tmp_path / "thing-1.0.gem", gem))
    assert {
        "thing-1.0.gem!/data.tar.gz!/lib/thing.rb",
        "thing-1.0.gem!/metadata.gz!/metadata",
    } <= locations(report)


def test_jar_in_wheel_in_tar_in_image_layer(tmp_path: Path) -> None:
    jar = zip_bytes({"META-INF/maven/g/a/pom.properties": "version=1\n"})
    wheel = zip_bytes({"pkg/lib.jar": jar})
    sdist = gzip_bytes(tar_bytes({"dist/pkg.whl": wheel}))
    image = docker_save_bytes([_layer({"opt/release.tar.gz": sdist})])
    report = finalexam.scan(write(tmp_path / "img.tar", image))
    assert (
        "img.tar!/opt/release.tar.gz!/dist/pkg.whl!/pkg/lib.jar!/META-INF/maven/g/a/pom.properties"
    ) in locations(report)


def test_oci_layout_directory(tmp_path: Path) -> None:
    import io

    image = oci_layout_bytes([_layer(LOWER), _layer(UPPER, UPPER_WHITEOUTS)])
    root = tmp_path / "oci-dir"
    root.mkdir()
    with tarfile.open(fileobj=io.BytesIO(image)) as source:
        for member in source.getmembers():
            handle = source.extractfile(member)
            if handle is not None:
                write(root / member.name, handle.read())
    report = finalexam.scan(root)
    assert report.artifact.kind == "oci-image"
    _check_image(report, "oci-dir")
