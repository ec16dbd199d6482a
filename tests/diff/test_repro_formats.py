"""``finalexam repro`` on every container the exam opens: .deb (dpkg-deb), .rpm (rpmbuild)
and 7z (7-Zip) built twice by the real tools, with and without real differences."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from distbuild import DPKG_DEB, RPMBUILD, build_deb, build_rpm
from finalexam.errors import InputError
from finalexam.repro import (
    AFTER_NORMALISATION,
    ARCHIVE_METADATA,
    CONTENT,
    NOT_REPRODUCIBLE,
    SIGNATURES,
    TIMESTAMPS,
    compare_builds,
)

SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


def categories(result: object) -> set[str]:
    return {d.category for d in result.differences}  # type: ignore[attr-defined]


@pytest.mark.skipif(DPKG_DEB is None, reason="dpkg-deb not installed")
def test_deb_built_at_two_dates_and_with_a_real_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_deb(tmp_path / "a", "demo", "1.0")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    second = build_deb(tmp_path / "b", "demo", "1.0")
    result = compare_builds(first, second)
    assert result.verdict == AFTER_NORMALISATION
    assert categories(result) == {TIMESTAMPS}
    readme = "demo_1.0_amd64.deb!/data.tar.xz!/./usr/share/doc/demo/README"
    assert readme in {d.location for d in result.differences}

    changed = build_deb(tmp_path / "c", "demo", "1.0", maintainer="Someone Else <x@example.org>")
    result = compare_builds(first, changed)
    assert result.verdict == NOT_REPRODUCIBLE
    (content,) = [d for d in result.differences if d.category == CONTENT]
    assert content.location == "demo_1.0_amd64.deb!/control.tar.xz!/./control"
    assert any("Someone Else" in line for line in content.lines)


@pytest.mark.skipif(RPMBUILD is None, reason="rpmbuild not installed")
def test_rpm_built_twice_and_with_a_changed_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Build time and file dates from SOURCE_DATE_EPOCH (rpmbuild reads ~/.rpmmacros), so the
    # two builds differ in them whatever the clock does.
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".rpmmacros").write_text(
        "%use_source_date_epoch_as_buildtime 1\n%clamp_mtime_to_source_date_epoch 1\n"
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_rpm(tmp_path / "a", "demo", "1.0", "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700086400")
    second = build_rpm(tmp_path / "b", "demo", "1.0", "1")
    result = compare_builds(first, second)
    assert result.verdict == AFTER_NORMALISATION
    assert TIMESTAMPS in categories(result) and SIGNATURES in categories(result)
    assert any("build time (tag 1006)" in d.detail for d in result.differences)

    # Only the header changes (the vendor tag): a package's metadata is content, not noise.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    changed = build_rpm(tmp_path / "c", "demo", "1.0", "1", vendor="Someone Else")
    result = compare_builds(first, changed)
    assert result.verdict == NOT_REPRODUCIBLE
    assert [d.detail for d in result.differences if d.category == CONTENT] == [
        "rpm header tag 1011 differs"
    ]


def _seven_zip(target: Path, files: dict[str, str], mtime: int) -> Path:
    assert SEVEN_ZIP is not None
    tree = target.parent / f"{target.stem}-tree"
    for name, text in files.items():
        path = tree / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (mtime, mtime))
    subprocess.run(
        [SEVEN_ZIP, "a", "-bd", "-y", str(target), *sorted(files)],
        cwd=tree,
        capture_output=True,
        check=True,
    )
    return target


@pytest.mark.skipif(SEVEN_ZIP is None, reason="7-Zip not installed")
def test_7z_archived_at_two_dates_and_with_a_real_change(tmp_path: Path) -> None:
    files = {"app/main.py": "print('hello')\n", "app/data.txt": "payload\n"}
    first = _seven_zip(tmp_path / "a" / "app.7z", files, 1_700_000_000)
    second = _seven_zip(tmp_path / "b" / "app.7z", files, 1_700_086_400)
    result = compare_builds(first, second)
    assert result.verdict == AFTER_NORMALISATION
    assert categories(result) == {ARCHIVE_METADATA}

    changed = {**files, "app/main.py": "import os; os.system('id')\n"}
    third = _seven_zip(tmp_path / "c" / "app.7z", changed, 1_700_000_000)
    result = compare_builds(first, third)
    assert result.verdict == NOT_REPRODUCIBLE
    assert [d.location for d in result.differences if d.category == CONTENT] == [
        "app.7z!/app/main.py"
    ]


def test_a_corrupt_container_is_one_line_naming_the_file(tmp_path: Path) -> None:
    if SEVEN_ZIP is None:
        pytest.skip("7-Zip not installed")
    good = _seven_zip(tmp_path / "a" / "app.7z", {"x.txt": "x\n" * 1000}, 1_700_000_000)
    broken = tmp_path / "b" / "app.7z"
    broken.parent.mkdir()
    data = bytearray(good.read_bytes())
    data[40:60] = b"\xff" * 20
    broken.write_bytes(bytes(data))
    with pytest.raises(InputError) as raised:
        compare_builds(good, broken)
    assert "app.7z" in str(raised.value) and "\n" not in str(raised.value)
