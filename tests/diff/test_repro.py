"""``finalexam repro``: the same package built twice, with and without real differences."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from pkgbuild import npm_tarball, package_json, wheel

from builders import write, zip_bytes
from finalexam.cli import main
from finalexam.repro import (
    AFTER_NORMALISATION,
    BUILD_DATES,
    BUILD_PATHS,
    COMPRESSION,
    CONTENT,
    MEMBER_ORDER,
    NOT_REPRODUCIBLE,
    PERMISSIONS,
    REPRODUCIBLE,
    SIGNATURES,
    TIMESTAMPS,
    compare_builds,
)


def version_module(build_dir: str, date: str) -> str:
    return f"BUILD_DIR = '{build_dir}/src'\nBUILT = '{date}'\n__version__ = '1.0'\n"


def test_byte_identical_is_reproducible(tmp_path: Path) -> None:
    files = {"a/x.py": "x = 1\n"}
    a = wheel(tmp_path / "a/x-1.0-py3-none-any.whl", files)
    b = wheel(tmp_path / "b/x-1.0-py3-none-any.whl", files)
    result = compare_builds(a, b)
    assert result.verdict == REPRODUCIBLE and result.differences == ()


def test_wheel_built_twice_differs_only_in_build_noise(tmp_path: Path) -> None:
    common = {"x/__init__.py": "from x.core import run\n", "x/core.py": "def run():\n  pass\n"}
    a = wheel(
        tmp_path / "a/x-1.0-py3-none-any.whl",
        {**common, "x/_build.py": version_module("/home/alice/work/x", "2024-01-01T10:00:00Z")},
    )
    b = wheel(
        tmp_path / "b/x-1.0-py3-none-any.whl",
        {**common, "x/_build.py": version_module("/tmp/build-7f3a/x", "2024-03-05T22:13:09Z")},
        date_time=(2024, 3, 5, 22, 13, 8),
        order=["x/core.py", "x/_build.py", "x/__init__.py"],
        level=1,
        mode=0o755,
    )
    result = compare_builds(a, b)
    assert result.verdict == AFTER_NORMALISATION, result.differences
    assert {MEMBER_ORDER, TIMESTAMPS, PERMISSIONS, BUILD_PATHS, BUILD_DATES} <= set(
        result.normalisations
    )
    build = {d.category for d in result.differences if d.location.endswith("!/x/_build.py")}
    assert {BUILD_PATHS, BUILD_DATES} <= build
    assert result.differing_files == ()


def test_npm_tarball_gzip_header_and_compression(tmp_path: Path) -> None:
    files = {"package.json": package_json("1.0.0"), "index.js": "module.exports = 1\n"}
    a = npm_tarball(tmp_path / "a/lib-1.0.0.tgz", files, gzip_mtime=0, level=9)
    b = npm_tarball(tmp_path / "b/lib-1.0.0.tgz", files, gzip_mtime=1_700_000_000, level=1)
    result = compare_builds(a, b)
    assert result.verdict == AFTER_NORMALISATION
    assert TIMESTAMPS in result.normalisations and COMPRESSION in result.normalisations
    c = npm_tarball(
        tmp_path / "c/lib-1.0.0.tgz", files, mtime=1_800_000_000, order=["index.js", "package.json"]
    )
    result = compare_builds(a, c)
    assert set(result.normalisations) == {MEMBER_ORDER, TIMESTAMPS}


def test_real_change_is_not_reproducible_with_lines(tmp_path: Path) -> None:
    files = {"package.json": package_json("1.0.0"), "index.js": "module.exports = 1\n"}
    a = npm_tarball(tmp_path / "a/lib-1.0.0.tgz", files)
    b = npm_tarball(
        tmp_path / "b/lib-1.0.0.tgz",
        {**files, "index.js": "require('child_process')\nmodule.exports = 1\n"},
        mtime=1_800_000_000,
    )
    result = compare_builds(a, b)
    assert result.verdict == NOT_REPRODUCIBLE
    assert result.differing_files == ("lib-1.0.0.tgz!/package/index.js",)
    content = next(d for d in result.differences if d.category == CONTENT)
    assert "+require('child_process')" in content.lines
    assert TIMESTAMPS in result.normalisations  # still explained where it can be


def test_nested_jar_binary_difference_and_signature(tmp_path: Path) -> None:
    def build(blob: bytes, signature: bytes, where: Path) -> Path:
        jar = zip_bytes(
            {
                "META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n",
                "a/B.class": blob,
                "META-INF/APP.RSA": signature,
            }
        )
        return write(where, zip_bytes({"lib/app.jar": jar}, compression=zipfile.ZIP_STORED))

    base = bytes(range(256)) * 4
    a = build(base, b"sig-one", tmp_path / "a/app.zip")
    b = build(base, b"sig-two", tmp_path / "b/app.zip")
    result = compare_builds(a, b)
    assert result.verdict == AFTER_NORMALISATION and result.normalisations == (SIGNATURES,)
    changed = base[:100] + b"\xff\xfe" + base[102:]
    c = build(changed, b"sig-one", tmp_path / "c/app.zip")
    result = compare_builds(a, c)
    assert result.differing_files == ("app.zip!/lib/app.jar!/a/B.class",)
    detail = next(d for d in result.differences if d.category == CONTENT)
    assert any("a[0x64:0x66]" in line for line in detail.lines)


def test_pyc_header_timestamp_is_normalised(tmp_path: Path) -> None:
    body = b"\xe3" + b"\x00" * 40
    a = wheel(
        tmp_path / "a/p.whl", {"p/m.pyc": b"\xa7\r\r\n\x00\x00\x00\x00AAAA\x10\x00\x00\x00" + body}
    )
    b = wheel(
        tmp_path / "b/p.whl", {"p/m.pyc": b"\xa7\r\r\n\x00\x00\x00\x00BBBB\x10\x00\x00\x00" + body}
    )
    assert compare_builds(a, b).normalisations == (TIMESTAMPS,)


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {"package.json": package_json("1.0.0"), "index.js": "module.exports = 1\n"}
    a = npm_tarball(tmp_path / "a/lib.tgz", files)
    b = npm_tarball(tmp_path / "b/lib.tgz", files, mtime=5)
    c = npm_tarball(tmp_path / "c/lib.tgz", {**files, "index.js": "module.exports = 2\n"})
    assert main(["repro", str(a), str(a)]) == 0
    assert "REPRODUCIBLE" in capsys.readouterr().out
    assert main(["repro", str(a), str(b)]) == 0
    assert "REPRODUCIBLE AFTER NORMALISATION: timestamps" in capsys.readouterr().out
    out = tmp_path / "r.json"
    assert main(["repro", str(a), str(c), "-o", f"json={out}", "-o", "markdown"]) == 1
    document = json.loads(out.read_text())
    assert document["verdict"] == NOT_REPRODUCIBLE
    assert document["differing_files"] == ["lib.tgz!/package/index.js"]
    assert "```diff" in capsys.readouterr().out
    assert main(["repro", str(a), str(tmp_path / "nope.tgz")]) == 2
    write(tmp_path / "bad.tgz", b"\x1f\x8b\x08\x00garbage")
    assert main(["repro", str(a), str(tmp_path / "bad.tgz")]) == 2
    assert "bad.tgz" in capsys.readouterr().err


def test_explain_big_content_by_its_differing_window() -> None:
    from finalexam.repro import explain

    filler = b"x = 1\n" * 50_000
    a = filler + b"ROOT = '/home/alice/build/pkg'\n" + filler
    b = filler + b"ROOT = '/tmp/ci-123/pkg'\n" + filler
    assert explain(a, b, "big.py") == [BUILD_PATHS]
    assert explain(a, b.replace(b"x = 1\n", b"x = 2\n", 1), "big.py") is None
