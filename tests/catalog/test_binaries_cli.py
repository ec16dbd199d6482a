"""The binary and bundle catalogers through the CLI: a report that validates and names them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ctoolchain import GCC, HAVE_STATIC_ZLIB, compile_c, zlib_header_version

from builders import tar_bytes, write, zip_bytes
from schema import assert_valid_report


@pytest.mark.skipif(GCC is None or not HAVE_STATIC_ZLIB, reason="gcc or zlib1g-dev missing")
def test_scan_names_static_zlib_and_bundled_jquery_in_nested_archives(tmp_path: Path) -> None:
    program = compile_c(
        tmp_path / "build",
        "tool",
        "#include <zlib.h>\nint main(void) { return deflateInit(0, 1) == Z_OK; }\n",
        "-static",
        "-lz",
    )
    wheel = zip_bytes(
        {
            "app/static/jquery.min.js": "/*! jQuery v3.4.1 | (c) JS Foundation */\n!function(){}()",
            "app/bin/tool": program.read_bytes(),
        }
    )
    artifact = write(tmp_path / "bundle.tar", tar_bytes({"dist/app-1.0-py3-none-any.whl": wheel}))
    result = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(artifact), "-o", "json", "--policy", "ci"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert_valid_report(document)
    by_purl = {c["purl"]: c for c in document["components"]}
    zlib = by_purl[f"pkg:generic/zlib@{zlib_header_version()}"]
    assert zlib["locations"] == ["bundle.tar!/dist/app-1.0-py3-none-any.whl!/app/bin/tool"]
    assert "native" in zlib["found_by"]
    jquery = by_purl["pkg:npm/jquery@3.4.1"]
    assert jquery["ecosystem"] == "npm"
    assert not any(issue.get("plugin") for issue in document.get("issues", []))
