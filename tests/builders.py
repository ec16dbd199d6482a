"""Fixtures built by code: real archive formats written with the standard library."""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path


def zip_bytes(
    members: Mapping[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def encrypted_zip_bytes(members: Mapping[str, bytes | str]) -> bytes:
    """A zip whose members are flagged encrypted (traditional PKWARE): unreadable without the
    password, as far as any reader is concerned."""
    raw = bytearray(zip_bytes(members, compression=zipfile.ZIP_STORED))
    offset = 0
    while (offset := raw.find(b"PK\x03\x04", offset)) >= 0:
        raw[offset + 6] |= 1
        offset += 4
    offset = 0
    while (offset := raw.find(b"PK\x01\x02", offset)) >= 0:
        raw[offset + 8] |= 1
        offset += 4
    return bytes(raw)


def tar_bytes(
    members: Mapping[str, bytes | str],
    *,
    mode: str = "w",
    links: Iterable[tuple[str, str, bytes]] = (),
) -> bytes:
    """``links``: (name, target, type) with type tarfile.SYMTYPE or tarfile.LNKTYPE."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            info.mtime = 1_700_000_000
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(raw))
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ar_bytes(members: Mapping[str, bytes]) -> bytes:
    """A Unix ar archive (the container of .deb packages), GNU long names included."""
    out = bytearray(b"!<arch>\n")
    long_table = bytearray()
    headers: list[tuple[bytes, bytes]] = []
    for name, data in members.items():
        encoded = name.encode()
        if len(encoded) > 15:
            field = f"/{len(long_table)}".encode()
            long_table += encoded + b"/\n"
        else:
            field = encoded + b"/"
        headers.append((field, data))
    if long_table:
        headers.insert(0, (b"//", bytes(long_table)))
    for field, data in headers:
        header = (
            field.ljust(16)
            + b"0".ljust(12)
            + b"0".ljust(6)
            + b"0".ljust(6)
            + b"100644".ljust(8)
            + str(len(data)).encode().ljust(10)
            + b"`\n"
        )
        out += header + data
        if len(data) % 2:
            out += b"\n"
    return bytes(out)


def deb_bytes(control: str, files: Mapping[str, bytes | str]) -> bytes:
    import lzma

    control_tar = gzip_bytes(tar_bytes({"./control": control}))
    data_tar = lzma.compress(tar_bytes({f"./{k}": v for k, v in files.items()}))
    return ar_bytes(
        {"debian-binary": b"2.0\n", "control.tar.gz": control_tar, "data.tar.xz": data_tar}
    )


def cpio_newc(members: Mapping[str, bytes], symlinks: Mapping[str, str] | None = None) -> bytes:
    out = bytearray()

    def entry(name: str, mode: int, data: bytes, ino: int) -> None:
        encoded = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 1_700_000_000, len(data), 0, 0, 0, 0, len(encoded), 0]
        out.extend(b"070701" + b"".join(f"{v:08x}".encode() for v in fields) + encoded)
        out.extend(b"\0" * ((-len(out)) % 4))
        out.extend(data)
        out.extend(b"\0" * ((-len(out)) % 4))

    ino = 1
    for name, data in members.items():
        entry(name, 0o100644, data, ino)
        ino += 1
    for name, target in (symlinks or {}).items():
        entry(name, 0o120777, target.encode(), ino)
        ino += 1
    entry("TRAILER!!!", 0, b"", 0)
    return bytes(out)


def _rpm_header(tags: list[tuple[int, int, bytes, int]]) -> bytes:
    import struct

    index = bytearray()
    store = bytearray()
    for tag, kind, data, count in tags:
        if kind == 4:  # int32 alignment
            store.extend(b"\0" * ((-len(store)) % 4))
        index += struct.pack(">IIII", tag, kind, len(store), count)
        store += data
    return (
        b"\x8e\xad\xe8\x01\0\0\0\0"
        + struct.pack(">II", len(tags), len(store))
        + bytes(index)
        + bytes(store)
    )


def rpm_bytes(
    name: str, version: str, release: str, files: Mapping[str, bytes], compressor: str = "gzip"
) -> bytes:
    """A structurally real RPM: lead, signature header, main header, compressed cpio payload."""
    import lzma

    import zstandard

    lead = (
        b"\xed\xab\xee\xdb\x03\x00\x00\x00\x00\x01"
        + name.encode()[:65].ljust(66, b"\0")
        + b"\x00\x01\x00\x05"
        + b"\0" * 16
    )
    assert len(lead) == 96
    signature = _rpm_header([(1000, 4, (0).to_bytes(4, "big"), 1)])
    signature += b"\0" * ((-len(signature)) % 8)
    string = 6
    main = _rpm_header(
        [
            (1000, string, name.encode() + b"\0", 1),
            (1001, string, version.encode() + b"\0", 1),
            (1002, string, release.encode() + b"\0", 1),
            (1022, string, b"x86_64\0", 1),
            (1124, string, b"cpio\0", 1),
            (1125, string, compressor.encode() + b"\0", 1),
        ]
    )
    payload = cpio_newc({f"./{k}": v for k, v in files.items()})
    compress = {
        "gzip": gzip_bytes,
        "xz": lzma.compress,
        "zstd": lambda d: zstandard.ZstdCompressor().compress(d),
    }[compressor]
    return lead + signature + main + compress(payload)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def docker_save_bytes(layers: list[bytes], tags: tuple[str, ...] = ("app:1.0",)) -> bytes:
    """A ``docker save`` tarball (legacy layout): manifest.json, config, <id>/layer.tar."""
    import json

    members: dict[str, bytes | str] = {}
    paths = []
    for number, layer in enumerate(layers):
        path = f"{_sha(layer)[:12]}{number}/layer.tar"
        members[path] = layer
        paths.append(path)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{_sha(x)}" for x in layers]},
        }
    ).encode()
    config_name = f"{_sha(config)}.json"
    members[config_name] = config
    members["manifest.json"] = json.dumps(
        [{"Config": config_name, "RepoTags": list(tags), "Layers": paths}]
    )
    return tar_bytes(members)


def oci_layout_bytes(layers: list[bytes]) -> bytes:
    """An OCI image layout tarball with gzip-compressed layers."""
    import json

    members: dict[str, bytes | str] = {"oci-layout": '{"imageLayoutVersion": "1.0.0"}'}
    descriptors = []
    for layer in layers:
        blob = gzip_bytes(layer)
        members[f"blobs/sha256/{_sha(blob)}"] = blob
        descriptors.append(
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": f"sha256:{_sha(blob)}",
                "size": len(blob),
            }
        )
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    members[f"blobs/sha256/{_sha(config)}"] = config
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{_sha(config)}",
                "size": len(config),
            },
            "layers": descriptors,
        }
    ).encode()
    members[f"blobs/sha256/{_sha(manifest)}"] = manifest
    members["index.json"] = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{_sha(manifest)}",
                    "size": len(manifest),
                }
            ],
        }
    )
    return tar_bytes(members)


def sevenzip_bytes(members: Mapping[str, bytes]) -> bytes:
    import py7zr

    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return buffer.getvalue()


def log4j_core_jar(version: str = "2.14.1") -> bytes:
    """The parts of log4j-core's jar a consumer (and the Java cataloger) reads."""
    return zip_bytes(
        {
            "META-INF/MANIFEST.MF": (
                "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.logging.log4j.core\r\n"
                f"Implementation-Title: Apache Log4j Core\r\nImplementation-Version: {version}\r\n"
            ),
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties": (
                f"version={version}\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n"
            ),
            "org/apache/logging/log4j/core/lookup/JndiLookup.class": b"\xca\xfe\xba\xbe\0\0\0\x34",
        }
    )


def java_class(folder: Path, name: str, constants: list[str]) -> bytes:
    """A class compiled by javac that keeps ``constants`` as string constants, each written
    as concatenated lines as Java sources do (javac folds them into one constant each)."""
    import pytest

    javac = shutil.which("javac")
    if javac is None:
        pytest.skip("javac is not installed")

    def literal(text: str) -> str:
        lines = text.splitlines(keepends=True) or [""]
        return " +\n        ".join(
            '"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
            for line in lines
        )

    fields = "".join(
        f"    static final String C{i} = {literal(text)};\n" for i, text in enumerate(constants)
    )
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.java"
    source.write_text(f"final class {name} {{\n{fields}}}\n")
    subprocess.run([javac, "-d", str(folder), str(source)], check=True, capture_output=True)
    return (folder / f"{name}.class").read_bytes()
