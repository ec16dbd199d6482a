"""The readers' edge rules, in process: what each format's consumers read, the exam reads."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

import finalexam
from builders import cpio_newc, docker_save_bytes, gzip_bytes, tar_bytes, write
from finalexam.formats import jsonsafe, yamlsafe
from finalexam.model import IssueKind, Report
from hostile.craft import (
    BLOCK,
    noise,
    padded,
    pax_records,
    tar_end,
    tar_file,
    tar_header,
    text_blob,
    zip_of,
)


def files(report: Report) -> dict[str, str]:
    return {str(r.location): r.sha256 for r in report.files}


def issues(report: Report) -> list[tuple[str, IssueKind]]:
    return [(f"{i.location}: {i.message}", i.kind) for i in report.issues]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- ratios -------------------------------------------------------------------------------


def test_a_large_compressible_first_member_is_not_a_bomb(tmp_path: Path) -> None:
    bundle = text_blob(9 * 1024 * 1024)  # compresses about 4x: far below the ratio
    data = gzip_bytes(tar_bytes({"package/dist/bundle.js": bundle, "package/b.txt": b"b"}))
    report = finalexam.scan(write(tmp_path / "web.tgz", data))
    assert {"web.tgz!/package/dist/bundle.js", "web.tgz!/package/b.txt"} <= set(files(report))
    assert report.issues == ()


def test_a_bomb_after_real_members_keeps_them_examined(tmp_path: Path) -> None:
    data = tar_bytes({"a.txt": b"first", "zeros.bin": bytes(64 * 1024 * 1024)})
    report = finalexam.scan(write(tmp_path / "bomb.tar.xz", lzma.compress(data)))
    assert "bomb.tar.xz!/a.txt" in files(report)
    assert any("compression ratio above" in m and k is IssueKind.LIMIT for m, k in issues(report))


# -- single streams -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "compress",
    [
        lambda d: gzip.compress(d[:100]) + gzip.compress(d[100:]),
        lambda d: lzma.compress(d[:100]) + lzma.compress(d[100:]),
        lambda d: bz2.compress(d[:100]) + bz2.compress(d[100:]),
        lambda d: (
            zstandard.ZstdCompressor().compress(d[:100])
            + zstandard.ZstdCompressor().compress(d[100:])
        ),
    ],
    ids=["gzip", "xz", "bzip2", "zstd"],
)
def test_concatenated_streams_read_through(compress: object, tmp_path: Path) -> None:
    data = text_blob(5000)
    report = finalexam.scan(write(tmp_path / "log.bin", compress(data)))  # type: ignore[operator]
    assert files(report)["log.bin!/log.bin.decompressed"] == sha(data)
    assert report.issues == ()


def test_zero_padding_after_a_stream_is_not_trailing_data(tmp_path: Path) -> None:
    report = finalexam.scan(write(tmp_path / "a.gz", gzip.compress(b"hello") + bytes(3000)))
    assert files(report)["a.gz!/a"] == sha(b"hello")
    assert report.issues == ()


def test_a_truncated_stream_keeps_what_was_decoded(tmp_path: Path) -> None:
    data = text_blob(400_000)
    compressed = gzip.compress(data)
    report = finalexam.scan(write(tmp_path / "cut.gz", compressed[: len(compressed) // 2]))
    record = next(r for r in report.files if str(r.location) == "cut.gz!/cut")
    assert 0 < record.size < len(data)
    assert [k for m, k in issues(report) if "truncated gzip stream" in m] == [IssueKind.CORRUPT]


def test_lzma_alone_is_recognised_by_its_header(tmp_path: Path) -> None:
    data = lzma.compress(b"legacy lzma\n" * 10, format=lzma.FORMAT_ALONE)
    report = finalexam.scan(write(tmp_path / "data.bin", data))
    assert files(report)["data.bin!/data.bin.decompressed"] == sha(b"legacy lzma\n" * 10)


# -- tar ----------------------------------------------------------------------------------


def test_pax_records_long_names_and_global_headers(tmp_path: Path) -> None:
    long_name = "pkg/" + "d" * 150 + "/file.txt"
    global_pax = pax_records({"comment": "release"})
    local_pax = pax_records({"path": long_name, "size": "5"})
    data = (
        tar_header("pax_global_header", len(global_pax), b"g") + padded(global_pax)
        + tar_header("PaxHeaders/x", len(local_pax), b"x") + padded(local_pax)
        + tar_header("short", 999, b"0") + padded(b"hello")  # the PAX size wins
        + tar_file("pkg/after.txt", b"after")
        + tar_end()
    )  # fmt: skip
    report = finalexam.scan(write(tmp_path / "pax.tar", data))
    assert files(report)[f"pax.tar!/{long_name}"] == sha(b"hello")
    assert "pax.tar!/pkg/after.txt" in files(report)
    assert report.issues == ()


def test_base256_sizes_and_ustar_prefixes(tmp_path: Path) -> None:
    size_field = b"\x80" + (5).to_bytes(11, "big")
    prefixed = tar_header("name.txt", 0, extra={345: b"deep/prefix"}, size_field=size_field)
    report = finalexam.scan(write(tmp_path / "t.tar", prefixed + padded(b"12345") + tar_end()))
    assert files(report)["t.tar!/deep/prefix/name.txt"] == sha(b"12345")


def test_members_after_the_end_marker_are_examined(tmp_path: Path) -> None:
    data = tar_file("a.txt", b"a") + tar_end() + tar_file("hidden.txt", b"hidden") + tar_end()
    report = finalexam.scan(write(tmp_path / "t.tar", data))
    assert {"t.tar!/a.txt", "t.tar!/hidden.txt"} <= set(files(report))
    assert report.issues == ()


def test_junk_after_the_end_marker_is_ignored(tmp_path: Path) -> None:
    data = tar_file("a.txt", b"a") + tar_end() + noise(3 * BLOCK)
    report = finalexam.scan(write(tmp_path / "t.tar", data))
    assert "t.tar!/a.txt" in files(report)
    assert report.issues == ()


def test_a_member_cut_short_is_examined_as_far_as_it_goes(tmp_path: Path) -> None:
    data = tar_header("big.bin", 100_000) + b"x" * 3000
    report = finalexam.scan(write(tmp_path / "t.tar", data))
    record = next(r for r in report.files if str(r.location) == "t.tar!/big.bin")
    assert record.size == 3000
    assert any("truncated member" in m for m, _ in issues(report))


def test_oversized_metadata_headers_are_skipped_not_read(tmp_path: Path) -> None:
    from finalexam.formats.tar import MAX_METADATA

    name = b"n" * (MAX_METADATA + 1)
    data = (
        tar_header("././@LongLink", len(name), b"L", gnu=True) + padded(name)
        + tar_file("pkg/a.txt", b"a")
        + tar_file("pkg/b.txt", b"b")
        + tar_end()
    )  # fmt: skip
    report = finalexam.scan(write(tmp_path / "t.tar", data))
    assert {"t.tar!/pkg/a.txt", "t.tar!/pkg/b.txt"} <= set(files(report))
    assert [k for m, k in issues(report) if "'L' header of" in m] == [IssueKind.LIMIT]


# -- zip ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_zip_methods(method: int, tmp_path: Path) -> None:
    data = text_blob(50_000)
    report = finalexam.scan(write(tmp_path / "a.zip", zip_of([("a.js", data)], method)))
    assert files(report)["a.zip!/a.js"] == sha(data)
    assert report.issues == ()


def test_zip64_and_data_descriptors(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("streamed.txt", "w", force_zip64=True) as stream:
            stream.write(b"streamed " * 1000)
        archive.writestr("b.txt", b"b")
    # Written to a pipe-like stream, entries carry data descriptors.
    report = finalexam.scan(write(tmp_path / "z.zip", buffer.getvalue()))
    assert files(report)["z.zip!/streamed.txt"] == sha(b"streamed " * 1000)
    assert report.issues == ()


def test_unsupported_method_is_a_gap_and_the_rest_is_read(tmp_path: Path) -> None:
    data = bytearray(zip_of([("a.bin", b"a" * 100), ("b.txt", b"b")], zipfile.ZIP_STORED))
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):
        position = data.find(marker)
        offset = 8 if marker == b"PK\x03\x04" else 10
        data[position + offset : position + offset + 2] = (9).to_bytes(2, "little")  # deflate64
    report = finalexam.scan(write(tmp_path / "z.zip", bytes(data)))
    assert "z.zip!/b.txt" in files(report)
    assert [k for m, k in issues(report) if "method 9" in m] == [IssueKind.UNSUPPORTED]


# -- cpio, images ---------------------------------------------------------------------------


def test_initramfs_with_a_compressed_archive_after_the_trailer(tmp_path: Path) -> None:
    early = cpio_newc({"kernel/x86/microcode/GenuineIntel.bin": b"ucode"})
    main = gzip_bytes(cpio_newc({"init": b"#!/bin/sh\n", "etc/key.txt": b"k"}))
    report = finalexam.scan(write(tmp_path / "initrd.img", early + bytes(512) + main))
    seen = set(files(report))
    assert "initrd.img!/kernel/x86/microcode/GenuineIntel.bin" in seen
    assert any(name.endswith("!/etc/key.txt") for name in seen)


def _layer(*members: tuple[str, bytes | None, str | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data, link in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.LNKTYPE, link
                archive.addfile(info)
            else:
                info.size = len(data or b"")
                archive.addfile(info, io.BytesIO(data or b""))
    return buffer.getvalue()


def test_hard_links_keep_whited_out_data_in_the_same_or_a_lower_layer(tmp_path: Path) -> None:
    bottom = _layer(("app/old.js", b"old secret", None))
    middle = _layer(
        ("app/new.js", b"new secret", None),
        ("app/keep-new", None, "app/new.js"),
        ("app/keep-old", None, "app/old.js"),
    )
    top = _layer(("app/.wh.new.js", b"", None), ("app/.wh.old.js", b"", None))
    report = finalexam.scan(write(tmp_path / "image.tar", docker_save_bytes([bottom, middle, top])))
    seen = files(report)
    assert seen["image.tar!/app/keep-new"] == sha(b"new secret")
    assert seen["image.tar!/app/keep-old"] == sha(b"old secret")
    assert "image.tar!/app/new.js" not in seen and "image.tar!/app/old.js" not in seen


def test_a_visible_hard_link_target_is_recorded_once(tmp_path: Path) -> None:
    layer = _layer(("bin/a", b"tool", None), ("bin/b", None, "bin/a"))
    report = finalexam.scan(write(tmp_path / "image.tar", docker_save_bytes([layer])))
    records = {str(r.location): r for r in report.files}
    assert records["image.tar!/bin/a"].sha256 == sha(b"tool")
    assert records["image.tar!/bin/b"].link_target == "bin/a"


# -- parsers --------------------------------------------------------------------------------


def test_json_deeper_than_the_limit_is_cut_not_lost() -> None:
    deep = "[" * 5000 + "]" * 5000
    value, cut = jsonsafe.loads_checked('{"a": 1, "deep": ' + deep + ', "b": "[{\\""}')
    assert cut and value["a"] == 1 and value["b"] == '[{"'
    assert jsonsafe.loads_checked('{"x": [[1]]}') == ({"x": [[1]]}, False)
    with pytest.raises(ValueError):
        jsonsafe.loads("[" * 5000)


def test_yaml_aliases_within_bounds_still_load() -> None:
    assert yamlsafe.load("base: &b {a: 1}\nx: *b\ny: *b\n") == {
        "base": {"a": 1},
        "x": {"a": 1},
        "y": {"a": 1},
    }
