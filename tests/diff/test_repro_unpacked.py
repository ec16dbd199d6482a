"""``finalexam repro`` reads zip and tar through the exam's unpackers: the metadata they record
for it (dates, owners, compression, the zip comment), whole members however large, and
damaged archives refused in one line naming the file."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest

from finalexam.config import Limits
from finalexam.errors import InputError
from finalexam.repro import (
    ARCHIVE_METADATA,
    NOT_REPRODUCIBLE,
    OWNERS,
    TIMESTAMPS,
    compare_builds,
)
from finalexam.unpack.base import Content, MemberKind, UnpackContext
from finalexam.unpack.tar import TarUnpacker
from finalexam.unpack.zip import ZipUnpacker, archive_comment


def _tree(root: Path, when: int, payload: bytes) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "data.bin").write_bytes(payload)
    for path in (root / "pkg" / "data.bin", root / "pkg"):
        os.utime(path, (when, when))
    return root


def _zip(root: Path, name: str, comment: str = "") -> Path:
    target = root / name
    command = ["zip", "-qrX", str(target), "pkg"] + (["-z"] if comment else [])
    subprocess.run(command, cwd=root, input=comment.encode(), check=True)
    return target


def _tar(root: Path, name: str, *extra: str) -> Path:
    target = root / name
    subprocess.run(["tar", *extra, "-cf", str(target), "-C", str(root), "pkg"], check=True)
    return target


def test_zip_and_tar_members_carry_what_their_archives_record(tmp_path: Path) -> None:
    root = _tree(tmp_path / "src", 1_600_000_000, b"x" * 100)
    context = UnpackContext(Limits(), str(tmp_path))
    archive = _zip(root, "a.zip", comment="built by ci\n")
    content = Content(archive.read_bytes())
    members = {m.name: m for m in ZipUnpacker().members(content, "a.zip", context)}
    data = members["pkg/data.bin"]
    assert data.owner == (3,)  # made on unix
    assert data.compression is not None and data.compression[0] == 8  # deflated
    assert isinstance(data.mtime, tuple) and data.mtime[0] == 2020
    assert archive_comment(content) == b"built by ci"

    archive = _tar(root, "a.tar", "--format=pax", "--owner=7:7", "--group=8:8", "--mtime=@1.5")
    members = {
        m.name: m for m in TarUnpacker().members(Content(archive.read_bytes()), "a.tar", context)
    }
    assert members["pkg/"].kind is MemberKind.DIR
    assert members["pkg/data.bin"].mtime == 1.5  # a PAX record's fraction is kept
    assert members["pkg/data.bin"].owner == (7, 8, "7", "8")


def test_large_members_are_compared_whole_with_their_metadata(tmp_path: Path) -> None:
    payload = random.Random(7).randbytes(3 << 20)  # many reads of a deflated stream
    changed = payload[:-1] + bytes([payload[-1] ^ 1])
    first = _tree(tmp_path / "a", 1_600_000_000, payload)
    second = _tree(tmp_path / "b", 1_700_000_000, changed)
    result = compare_builds(_zip(first, "app.zip", "one"), _zip(second, "app.zip", "two"))
    assert result.verdict == NOT_REPRODUCIBLE
    assert result.differing_files == ("app.zip!/pkg/data.bin",)
    assert {TIMESTAMPS, ARCHIVE_METADATA} <= {d.category for d in result.differences}

    result = compare_builds(
        _tar(first, "app.tar", "--owner=1:1"), _tar(second, "app.tar", "--owner=2:2")
    )
    assert result.differing_files == ("app.tar!/pkg/data.bin",)
    owners = {d.location: d.detail for d in result.differences if d.category == OWNERS}
    assert owners["app.tar!/pkg"] == "owner (1, 0, '1', 'root') → (2, 0, '2', 'root')"


@pytest.mark.parametrize(
    ("name", "damage", "problem"),
    [
        ("app.zip", lambda b: b[: len(b) // 2], "no end of central directory record"),
        ("app.zip", lambda b: b.replace(b"hello", b"jello"), "pkg/data.bin: CRC mismatch"),
        ("app.tar", lambda b: b[:700], "damaged data"),
        ("app.tar", lambda b: b[:124] + b"7" * 11 + b[135:], "damaged data at offset 0"),
    ],
)
def test_a_damaged_zip_or_tar_is_one_line_naming_the_file(
    tmp_path: Path, name: str, damage: object, problem: str
) -> None:
    root = _tree(tmp_path / "src", 1_600_000_000, b"hello\n")
    good = _zip(root, name) if name.endswith(".zip") else _tar(root, name)
    broken = tmp_path / "b" / name
    broken.parent.mkdir()
    broken.write_bytes(damage(good.read_bytes()))  # type: ignore[operator]
    with pytest.raises(InputError) as raised:
        compare_builds(good, broken)
    message = str(raised.value)
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert problem in message


def test_a_member_over_the_limit_is_refused(tmp_path: Path) -> None:
    first = _tree(tmp_path / "a", 1_600_000_000, b"x" * 4096)
    second = _tree(tmp_path / "b", 1_600_000_000, b"y" * 4096)
    for make, name in ((_zip, "app.zip"), (_tar, "app.tar")):
        with pytest.raises(InputError, match="too large to compare"):
            compare_builds(make(first, name), make(second, name), Limits(max_member_size=1000))
