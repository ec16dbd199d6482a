from __future__ import annotations

import bz2
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

import finalexam
from builders import gzip_bytes, tar_bytes, write, zip_bytes
from finalexam.config import Config, Limits
from finalexam.model import FileType, IssueKind, Report


def locations(report: Report) -> set[str]:
    return {str(record.location) for record in report.files}


def messages(report: Report) -> list[str]:
    return [f"{issue.location}: {issue.message}" for issue in report.issues]


def test_nested_jar_in_wheel_in_tarball(tmp_path: Path) -> None:
    jar = zip_bytes({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "a/B.class": b"x"})
    wheel = zip_bytes({"app/__init__.py": "x = 1\n", "app/lib/x.jar": jar})
    target = write(tmp_path / "release.tar.gz", gzip_bytes(tar_bytes({"dist/app.whl": wheel})))
    report = finalexam.scan(target)
    assert "release.tar.gz!/dist/app.whl!/app/lib/x.jar!/META-INF/MANIFEST.MF" in locations(report)
    assert report.artifact.kind == "tar"
    assert report.issues == ()
    by_location = {str(r.location): r for r in report.files}
    jar_record = by_location["release.tar.gz!/dist/app.whl!/app/lib/x.jar"]
    assert jar_record.file_type is FileType.ARCHIVE
    import hashlib

    assert jar_record.sha1 == hashlib.sha1(jar).hexdigest()
    assert jar_record.sha256 == hashlib.sha256(jar).hexdigest()


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        (".tar.gz", gzip_bytes),
        (".tar.bz2", bz2.compress),
        (".tar.xz", lzma.compress),
        (".tar.zst", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
def test_compressed_tars_are_one_level(tmp_path: Path, suffix: str, compress: object) -> None:
    target = write(tmp_path / f"pkg{suffix}", compress(tar_bytes({"pkg/a.txt": "hello"})))  # type: ignore[operator]
    report = finalexam.scan(target)
    assert f"pkg{suffix}!/pkg/a.txt" in locations(report)


def test_single_stream_compression_detected_by_magic_not_name(tmp_path: Path) -> None:
    target = write(tmp_path / "blob.bin", lzma.compress(b"plain text inside\n"))
    report = finalexam.scan(target)
    assert "blob.bin!/blob.bin.decompressed" in locations(report)


def test_extension_is_not_trusted(tmp_path: Path) -> None:
    target = write(tmp_path / "really-a-zip.tar.gz", zip_bytes({"x.py": "print(1)"}))
    report = finalexam.scan(target)
    assert "really-a-zip.tar.gz!/x.py" in locations(report)


def test_directory_target(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root / "a" / "b.txt", b"b")
    write(root / "c.zip", zip_bytes({"d.txt": "d"}))
    (root / "link").symlink_to("/etc/passwd")
    report = finalexam.scan(root)
    assert {"tree!/a/b.txt", "tree!/c.zip!/d.txt", "tree!/link"} <= locations(report)
    assert any("symlink points outside" in m for m in messages(report))
    assert not any("passwd" in str(r.location) and r.size for r in report.files)


def test_path_traversal_and_absolute_names_are_issues_but_content_is_examined(
    tmp_path: Path,
) -> None:
    target = write(
        tmp_path / "evil.tar", tar_bytes({"../../outside.sh": "x", "/etc/cron.d/y": "y"})
    )
    report = finalexam.scan(target)
    assert {"evil.tar!/outside.sh", "evil.tar!/etc/cron.d/y"} <= locations(report)
    text = "\n".join(messages(report))
    assert "path traversal" in text
    assert "absolute member path" in text
    assert not (tmp_path.parent / "outside.sh").exists()


def test_links_pointing_outside_are_recorded_not_followed(tmp_path: Path) -> None:
    target = write(
        tmp_path / "links.tar",
        tar_bytes(
            {"ok.txt": "ok"},
            links=[
                ("up", "../../../etc/shadow", tarfile.SYMTYPE),
                ("hard", "/etc/passwd", tarfile.LNKTYPE),
                ("inside", "ok.txt", tarfile.SYMTYPE),
            ],
        ),
    )
    report = finalexam.scan(target)
    text = "\n".join(messages(report))
    assert "links.tar!/up: symlink points outside" in text
    assert "links.tar!/hard: hardlink points outside" in text
    assert "links.tar!/inside" not in text
    link_records = {
        str(r.location): r.link_target for r in report.files if r.file_type is FileType.SYMLINK
    }
    assert link_records == {
        "links.tar!/up": "../../../etc/shadow",
        "links.tar!/hard": "/etc/passwd",
        "links.tar!/inside": "ok.txt",
    }


def test_device_files_duplicates_and_non_utf8_names(tmp_path: Path) -> None:
    import io

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        device = tarfile.TarInfo("dev/sda")
        device.type = tarfile.BLKTYPE
        archive.addfile(device)
        for payload in (b"first", b"second"):
            info = tarfile.TarInfo("dup.txt")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        odd = tarfile.TarInfo("caf\udce9.txt")
        odd.size = 1
        archive.addfile(odd, io.BytesIO(b"x"))
    target = write(tmp_path / "odd.tar", buffer.getvalue())
    report = finalexam.scan(target)
    text = "\n".join(messages(report))
    assert "odd.tar!/dev/sda: device or fifo member" in text
    assert "odd.tar!/dup.txt: duplicate member name" in text
    assert "non-UTF-8 member name" in text
    assert "odd.tar!/caf\\xe9.txt" in locations(report)


def test_encrypted_zip_member_is_an_issue(tmp_path: Path) -> None:
    raw = bytearray(
        zip_bytes({"secret.txt": "s", "plain.txt": "p"}, compression=zipfile.ZIP_STORED)
    )
    # Set the "encrypted" flag bit in the local and central headers of the first member.
    raw[6] |= 1
    central = raw.find(b"PK\x01\x02")
    raw[central + 8] |= 1
    target = write(tmp_path / "enc.zip", bytes(raw))
    report = finalexam.scan(target)
    assert any("encrypted member" in m for m in messages(report))
    assert "enc.zip!/plain.txt" in locations(report)


def test_truncated_archive_is_an_issue_and_the_rest_goes_on(tmp_path: Path) -> None:
    good = tar_bytes({"a.txt": "a" * 2000, "b.txt": "b" * 2000})
    outer = zip_bytes({"broken.tar.gz": gzip_bytes(good)[:-40], "fine.txt": "fine"})
    target = write(tmp_path / "outer.zip", outer)
    report = finalexam.scan(target)
    assert "outer.zip!/fine.txt" in locations(report)
    assert any(m.startswith("outer.zip!/broken.tar.gz") for m in messages(report))


def test_corrupt_top_level_zip_is_an_issue(tmp_path: Path) -> None:
    data = zip_bytes({"a.txt": "a" * 100})
    target = write(tmp_path / "bad.zip", data[: len(data) // 2])
    report = finalexam.scan(target)
    assert report.issues
    assert report.files[0].location.chain == ("bad.zip",)


def test_overlapping_zip_entries_are_each_examined(tmp_path: Path) -> None:
    payload = b"A" * 100_000
    data = bytearray(zip_bytes({"k1": payload}))
    # Build a second central-directory entry pointing at the same local header: overlap.
    central = data.find(b"PK\x01\x02")
    end = data.find(b"PK\x05\x06")
    entry = bytes(data[central:end])
    duplicate = entry.replace(b"k1", b"k2")
    eocd = bytearray(data[end:])
    eocd[8:10] = (2).to_bytes(2, "little")
    eocd[10:12] = (2).to_bytes(2, "little")
    eocd[12:16] = (len(entry) * 2).to_bytes(4, "little")
    bomb = bytes(data[:central]) + entry + duplicate + bytes(eocd)
    target = write(tmp_path / "overlap.zip", bomb)
    report = finalexam.scan(target)
    # zipfile and Java read both names; unzip refuses the archive. Both are examined, and the
    # second entry's local header, which names it k1, is reported.
    assert {"overlap.zip!/k1", "overlap.zip!/k2"} <= locations(report)
    assert [m for m in messages(report) if "local header names it 'k1'" in m] == [
        "overlap.zip!/k2: local header names it 'k1': streaming readers install it under that name"
    ]


def test_compression_ratio_limit(tmp_path: Path) -> None:
    target = write(tmp_path / "bomb.zip", zip_bytes({"zeros.bin": b"\0" * (64 * 1024 * 1024)}))
    report = finalexam.scan(target)
    assert any("compression ratio above" in m for m in messages(report))
    assert not report.complete  # the likely bomb was not examined
    assert {i.kind for i in report.issues} == {IssueKind.LIMIT}


def test_a_small_member_of_mostly_zeros_is_examined_whatever_its_ratio(tmp_path: Path) -> None:
    """opencv-python's wheel ships xcb libraries of 6 MiB that are mostly page-alignment
    zeros (compression ratios up to 516): small enough to read, so they are no bomb."""
    padded = b"\x7fELF" + bytes(6 * 1024 * 1024) + b"xcb_image_create\0" * 64
    target = write(tmp_path / "padded.whl", zip_bytes({"pkg.libs/libxcb-image.so.0": padded}))
    report = finalexam.scan(target)
    assert not any("compression ratio" in m for m in messages(report))
    assert "padded.whl!/pkg.libs/libxcb-image.so.0" in locations(report)
    assert report.complete


def test_a_tar_bomb_stops_but_a_large_program_after_small_files_does_not(
    tmp_path: Path,
) -> None:
    import lzma
    import os

    bomb = write(
        tmp_path / "bomb.tar.xz", lzma.compress(tar_bytes({"zeros.bin": b"\0" * (64 << 20)}))
    )
    report = finalexam.scan(bomb)
    assert any("compression ratio above" in m for m in messages(report))
    assert not report.complete
    # python3.11-minimal's shape: small files first, then a 7 MB program whose header
    # arrives when only a few kB of the compressed stream have been read
    program = (os.urandom(1 << 20) + b"\0" * (1 << 20) + b"text " * 400_000) * 2
    members = {f"usr/share/doc/f{i}": "x" * 100 for i in range(5)}
    members["usr/bin/python3.11"] = program
    honest = write(tmp_path / "data.tar.xz", lzma.compress(tar_bytes(members)))
    report = finalexam.scan(honest)
    assert report.complete, messages(report)
    assert not report.issues


def test_depth_limit(tmp_path: Path) -> None:
    data = zip_bytes({"core.txt": "core"})
    for level in range(6):
        data = zip_bytes({f"level{level}.zip": data})
    target = write(tmp_path / "deep.zip", data)
    report = finalexam.scan(target, Config(limits=Limits(max_depth=3)))
    assert any("nested deeper than max_depth=3" in m for m in messages(report))
    assert max(r.location.depth for r in report.files) == 3


def test_total_bytes_and_file_count_limits_stop_the_exam(tmp_path: Path) -> None:
    target = write(tmp_path / "many.tar", tar_bytes({f"f{i}.txt": "x" * 1000 for i in range(50)}))
    by_count = finalexam.scan(target, Config(limits=Limits(max_files=10)))
    assert not by_count.complete
    assert any("more than 10 files" in m for m in messages(by_count))
    by_bytes = finalexam.scan(target, Config(limits=Limits(max_total_bytes=20_000)))
    assert not by_bytes.complete


def test_big_members_spill_to_scratch_and_scratch_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    private = tmp_path / "scratch"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    before = set(private.iterdir())
    payload = bytes(range(256)) * 8192  # 2 MiB
    target = write(tmp_path / "big.zip", zip_bytes({"big.bin": payload}))
    report = finalexam.scan(target, Config(limits=Limits(memory_member_size=1024 * 1024)))
    import hashlib

    record = next(r for r in report.files if r.location.path == "big.bin")
    assert record.sha256 == hashlib.sha256(payload).hexdigest()
    assert set(private.iterdir()) == before


def test_report_is_deterministic(tmp_path: Path) -> None:
    target = write(tmp_path / "x.zip", zip_bytes({"b.txt": "b", "a.txt": "a"}))
    first, second = finalexam.scan(target), finalexam.scan(target)
    assert [r.location for r in first.files] == [r.location for r in second.files]
    assert first.files == second.files


def test_short_reads_lose_no_bytes(tmp_path: Path) -> None:
    import hashlib
    import io

    from finalexam.model import Location
    from finalexam.unpack import UNPACKERS
    from finalexam.unpack.walk import Walker

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, size: int = -1) -> bytes:
            chunk, self.data = self.data[:7], self.data[7:]
            return chunk

    payload = bytes(range(256)) * 40
    walker = Walker(Limits(), UNPACKERS, str(tmp_path))
    content = walker._read(Trickle(payload), Location(("x",)), None)  # type: ignore[arg-type]
    assert content.blob() == payload
    assert content.sha256 == hashlib.sha256(payload).hexdigest()
