"""Parsers of untrusted metadata never raise anything but CorruptInput, whatever the bytes."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog_helpers import entry
from finalexam.catalog import CATALOGERS
from finalexam.catalog.java import parse_manifest
from finalexam.catalog.npm import _yarn_lock
from finalexam.errors import CorruptInput
from finalexam.formats.bdb import HASH_MAGIC, bdb_hash_values
from finalexam.formats.rpm import HEADER_MAGIC, LEAD_MAGIC, parse_rpm_header
from finalexam.model import Location

NAMES = [
    "x.whl!/a-1.dist-info/METADATA",
    "x.whl!/a-1.dist-info/RECORD",
    "x.whl!/a/_vendor/vendor.txt",
    "x.tgz!/package/package.json",
    "x.zip!/package-lock.json",
    "x.zip!/yarn.lock",
    "x.zip!/pnpm-lock.yaml",
    "x.jar!/META-INF/MANIFEST.MF",
    "x.jar!/META-INF/maven/g/a/pom.properties",
    "x.jar!/META-INF/maven/g/a/pom.xml",
    "x.zip!/a.deps.json",
    "x.nupkg!/a.nuspec",
    "x.deb!/control.tar.gz!/control",
    "img.tar!/var/lib/dpkg/status",
    "img.tar!/lib/apk/db/installed",
    "x.rpm",
    "img.tar!/var/lib/rpm/Packages",
    "img.tar!/var/lib/rpm/rpmdb.sqlite",
    "x.zip!/a.gemspec",
    "x.zip!/vendor/composer/installed.json",
    "x.zip!/Cargo.lock",
    "x.zip!/go.mod",
    "x.gem!/metadata.gz!/metadata",
    "img.tar!/opt/conda/conda-meta/x-1-0.json",
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(NAMES), st.binary(max_size=2048))
def test_catalogers_survive_any_bytes(name: str, data: bytes) -> None:
    item = entry(name, data)
    for make in CATALOGERS:
        cataloger = make()
        try:
            if cataloger.accepts(item):
                list(cataloger.catalog(item))
            list(cataloger.finish())
        except CorruptInput:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512), st.sampled_from([b"", LEAD_MAGIC + b"\x00" * 92, HEADER_MAGIC]))
def test_rpm_header_parser_only_raises_corrupt_input(data: bytes, prefix: bytes) -> None:
    with contextlib.suppress(CorruptInput):
        parse_rpm_header(prefix + data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=4096), st.sampled_from([512, 1024, 4096]))
def test_bdb_reader_only_raises_corrupt_input(body: bytes, page_size: int) -> None:
    meta = bytearray(page_size)
    struct.pack_into("<II", meta, 12, HASH_MAGIC, 9)
    struct.pack_into("<I", meta, 20, page_size)
    with contextlib.suppress(CorruptInput):
        list(bdb_hash_values(bytes(meta) + body))


@given(st.text(max_size=500))
def test_text_parsers_total(text: str) -> None:
    parse_manifest(text)
    list(_yarn_lock(Location(("x",)), text))
