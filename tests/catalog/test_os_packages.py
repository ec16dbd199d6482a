from __future__ import annotations

import base64
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest

from builders import ar_bytes, gzip_bytes, tar_bytes, write
from catalog_helpers import by_purl, entry, exam, run_cataloger
from finalexam.catalog.apk import ApkCataloger
from finalexam.catalog.dpkg import DpkgCataloger
from finalexam.errors import CorruptInput
from finalexam.formats.rpm import HEADER_MAGIC, LEAD_MAGIC, parse_rpm_header

CONTROL = """Package: agent
Version: 1:2.4.1-3
Architecture: amd64
Maintainer: Example Maintainers <pkg@example.org>
Source: agent-src (2.4.1-3)
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0) | libssl1.1, zlib1g
Description: a monitoring agent
 Long text.
"""

STATUS = """Package: zlib1g
Status: install ok installed
Architecture: amd64
Version: 1:1.2.13.dfsg-1
Maintainer: Mark Brown <broonie@debian.org>

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Depends: libc6 (>= 2.34)
"""

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zlib

Files: *
Copyright: 1995-2022 Jean-loup Gailly and Mark Adler
License: Zlib

Files: debian/*
License: GPL-2+ or Artistic
 The Debian packaging may be used under either license.

Files: contrib/*
License: GPL-3+ with Autoconf exception
"""

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'


def test_deb_control_file() -> None:
    deb = entry("agent_2.4.1-3_amd64.deb", b"!<arch>\n")
    control = entry("agent_2.4.1-3_amd64.deb!/control.tar.xz!/control", CONTROL)
    copyright_file = entry(
        "agent_2.4.1-3_amd64.deb!/data.tar.xz!/usr/share/doc/agent/copyright", COPYRIGHT
    )
    components = run_cataloger(DpkgCataloger(), [deb, control, copyright_file])
    assert len(components) == 1
    agent = components[0]
    assert agent.purl == ("pkg:deb/debian/agent@1:2.4.1-3?arch=amd64&upstream=agent-src%402.4.1-3")
    assert agent.ecosystem == "Debian"
    assert ("SHA-256", deb.sha256) in agent.hashes
    assert str(deb.location) in {str(x) for x in agent.locations}
    assert [d.target for d in agent.dependencies] == [
        "pkg:deb/debian/libc6",
        "pkg:deb/debian/libssl3",  # the first of the alternatives
        "pkg:deb/debian/zlib1g",
    ]
    assert agent.supplier == "Example Maintainers <pkg@example.org>"
    assert "Zlib" in agent.licenses


def test_real_deb_through_the_walk(tmp_path: Path) -> None:
    control_tar = gzip_bytes(tar_bytes({"./control": CONTROL, "./md5sums": ""}))
    data_tar = gzip_bytes(tar_bytes({"./usr/bin/agent": b"\x7fELF"}))
    deb = ar_bytes(
        {"debian-binary": b"2.0\n", "control.tar.gz": control_tar, "data.tar.gz": data_tar}
    )
    report = exam(write(tmp_path / "agent_2.4.1-3_amd64.deb", deb))
    assert any("control.tar.gz" in str(r.location) for r in report.files)
    assert "pkg:deb/debian/agent@1:2.4.1-3?arch=amd64&upstream=agent-src%402.4.1-3" in by_purl(
        report.components
    )


def test_dpkg_status_in_image(tmp_path: Path) -> None:
    image = tar_bytes(
        {
            "etc/os-release": OS_RELEASE,
            "var/lib/dpkg/status": STATUS,
            "var/lib/dpkg/status.d/base-files": "Package: base-files\nVersion: 12.4\n"
            "Architecture: amd64\n",
            "var/lib/dpkg/status.d/base-files.md5sums": "abc  etc/issue\n",
            "usr/share/doc/zlib1g/copyright": COPYRIGHT,
            "usr/share/doc/libssl3/copyright": "free-form text, Apache License 2.0\n",
        }
    )
    components = by_purl(exam(write(tmp_path / "image.tar", image)).components)
    assert set(components) == {
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl%403.0.11-1~deb12u2",
        "pkg:deb/debian/base-files@12.4?arch=amd64&distro=debian-12",
    }
    assert {c.ecosystem for c in components.values()} == {"Debian:12"}
    zlib = components["pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"]
    assert zlib.licenses == ("GPL-2.0-or-later OR Artistic-1.0-Perl", "Zlib")
    libssl = next(c for c in components.values() if c.name == "libssl3")
    assert libssl.licenses == ()  # free-form copyright files are not guessed at


APK_INSTALLED = """C:Q1FSdn7NsTvvJFB2ZbNrXE8OsU3Xs=
P:musl
V:1.2.4-r2
A:x86_64
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
T:the musl c library
D:so:libc.musl-x86_64.so.1

C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=
P:busybox
V:1.36.1-r5
A:x86_64
L:GPL-2.0-only
o:busybox
D:so:libc.musl-x86_64.so.1 musl>=1.2 !busybox-static
"""


def test_apk_installed_database() -> None:
    components = by_purl(
        run_cataloger(
            ApkCataloger(),
            [
                entry("img.tar!/etc/os-release", "ID=alpine\nVERSION_ID=3.18.4\n"),
                entry("img.tar!/lib/apk/db/installed", APK_INSTALLED),
            ],
        )
    )
    musl = components["pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"]
    assert musl.ecosystem == "Alpine:v3.18"
    assert musl.licenses == ("MIT",)
    digest = base64.b64decode("FSdn7NsTvvJFB2ZbNrXE8OsU3Xs=").hex()
    assert musl.hashes == (("SHA-1", digest),)
    busybox = components["pkg:apk/alpine/busybox@1.36.1-r5?arch=x86_64&distro=alpine-3.18.4"]
    assert [d.target for d in busybox.dependencies] == ["pkg:apk/alpine/musl"]


# -- RPM ---------------------------------------------------------------------------------


def rpm_header(tags: dict[int, tuple[int, object]], magic: bool = True) -> bytes:
    """Build a header structure: {tag: (type, value)} with STRING(6), STRING_ARRAY(8), INT32(4)."""
    index, store = b"", b""
    for tag, (kind, value) in sorted(tags.items()):
        if kind == 4:
            while len(store) % 4:
                store += b"\x00"
            values = value if isinstance(value, list) else [value]
            data = b"".join(struct.pack(">i", int(v)) for v in values)
            count = len(values)
        elif kind == 8:
            assert isinstance(value, list)
            data = b"".join(str(v).encode() + b"\x00" for v in value)
            count = len(value)
        else:
            data, count = str(value).encode() + b"\x00", 1
        index += struct.pack(">iiii", tag, kind, len(store), count)
        store += data
    body = struct.pack(">II", len(tags), len(store)) + index + store
    return (HEADER_MAGIC + b"\x00" * 4 + body) if magic else body


TAGS: dict[int, tuple[int, object]] = {
    1000: (6, "openssl-libs"),
    1001: (6, "3.0.7"),
    1002: (6, "25.el9_3"),
    1003: (4, 1),
    1011: (6, "Rocky Enterprise Software Foundation"),
    1014: (6, "Apache-2.0"),
    1022: (6, "x86_64"),
    1044: (6, "openssl-3.0.7-25.el9_3.src.rpm"),
    1049: (8, ["/bin/sh", "rpmlib(PayloadIsZstd)", "ca-certificates", "libc.so.6()(64bit)"]),
    1125: (6, "zstd"),
}


def rpm_file(tags: dict[int, tuple[int, object]]) -> bytes:
    lead = LEAD_MAGIC + b"\x03\x00" + b"\x00" * 90
    signature = rpm_header({1000: (6, "sigdata")})
    signature += b"\x00" * ((8 - len(signature) % 8) % 8)
    return lead + signature + rpm_header(tags) + b"PAYLOAD"


def test_rpm_header_parser() -> None:
    data = rpm_file(TAGS)
    tags = parse_rpm_header(data)
    assert tags["name"] == "openssl-libs"
    assert tags["epoch"] == 1
    assert tags["payloadcompressor"] == "zstd"
    assert data[tags["payload_offset"] :] == b"PAYLOAD"
    assert parse_rpm_header(rpm_header(TAGS, magic=False))["version"] == "3.0.7"
    with pytest.raises(CorruptInput):
        parse_rpm_header(data[:150])
    with pytest.raises(CorruptInput):
        parse_rpm_header(LEAD_MAGIC + b"\x00" * 92 + HEADER_MAGIC + b"\x00" * 4 + b"\xff" * 8)


def test_rpm_file_component(tmp_path: Path) -> None:
    target = write(tmp_path / "openssl-libs-3.0.7-25.el9_3.x86_64.rpm", rpm_file(TAGS))
    components = by_purl(exam(target).components)
    purl = (
        "pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3"
        "?arch=x86_64&epoch=1&upstream=openssl-3.0.7-25.el9_3.src.rpm"
    )
    assert set(components) == {purl}
    openssl = components[purl]
    assert openssl.version == "1:3.0.7-25.el9_3"
    assert [d.target for d in openssl.dependencies] == ["pkg:rpm/rocky/ca-certificates"]
    assert openssl.licenses == ("Apache-2.0",)


def test_rpmdb_sqlite_in_image(tmp_path: Path) -> None:
    db_path = tmp_path / "rpmdb.sqlite"
    connection = sqlite3.connect(db_path)
    connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL)")
    blobs = [
        rpm_header(TAGS, magic=False),
        rpm_header(
            {1000: (6, "bash"), 1001: (6, "5.1.8"), 1002: (6, "6.el9"), 1022: (6, "x86_64")},
            magic=False,
        ),
        rpm_header({1000: (6, "gpg-pubkey"), 1001: (6, "abc"), 1002: (6, "1")}, magic=False),
        b"\x00\x00\x00\x05garbage",
    ]
    connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    connection.commit()
    connection.close()
    image = tar_bytes(
        {
            "etc/os-release": 'ID="rocky"\nVERSION_ID="9.3"\n',
            "var/lib/rpm/rpmdb.sqlite": db_path.read_bytes(),
        }
    )
    report = exam(write(tmp_path / "image.tar", image))
    names = {c.name: c for c in report.components}
    assert set(names) == {"openssl-libs", "bash"}
    assert names["bash"].purl == "pkg:rpm/rocky/bash@5.1.8-6.el9?arch=x86_64&distro=rocky-9.3"
    assert names["bash"].ecosystem == "Rocky Linux:9"


def test_broken_rpm_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    target = write(tmp_path / "broken.rpm", LEAD_MAGIC + b"\x00" * 200)
    report = exam(target)
    assert report.components == ()
    assert any(issue.plugin == "rpm" for issue in report.issues)


def test_rpmdb_berkeley_db_in_image(tmp_path: Path) -> None:
    db_load = shutil.which("db_load")
    if db_load is None:
        pytest.skip("db_load (Debian package db-util) is not installed")
    big = {**TAGS, 1005: (6, "long description " * 800)}  # spans several overflow pages
    small = {1000: (6, "tzdata"), 1001: (6, "2024a"), 1002: (6, "1.el7"), 1022: (6, "noarch")}
    records = [
        (struct.pack("<I", 0), struct.pack("<I", 3)),  # rpm's own counter record
        (struct.pack("<I", 1), rpm_header(big, magic=False)),
        (struct.pack("<I", 2), rpm_header(small, magic=False)),
    ]
    text = "".join(
        "".join(f"\\{byte:02x}" for byte in key)
        + "\n"
        + "".join(f"\\{b:02x}" for b in value)
        + "\n"
        for key, value in records
    )
    database = tmp_path / "Packages"
    subprocess.run([db_load, "-T", "-t", "hash", str(database)], input=text.encode(), check=True)
    image = tar_bytes(
        {
            "etc/os-release": 'ID="centos"\nVERSION_ID="7"\n',
            "var/lib/rpm/Packages": database.read_bytes(),
        }
    )
    report = exam(write(tmp_path / "image.tar", image))
    names = {c.name: c for c in report.components}
    assert set(names) == {"openssl-libs", "tzdata"}
    assert names["tzdata"].purl == "pkg:rpm/centos/tzdata@2024a-1.el7?arch=noarch&distro=centos-7"
    assert not report.issues
