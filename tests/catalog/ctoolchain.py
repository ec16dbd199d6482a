"""Compile small C programs and libraries with the system gcc for binary catalogers."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

GCC = shutil.which("gcc")
ZLIB_HEADER = Path("/usr/include/zlib.h")
HAVE_STATIC_ZLIB = any(
    Path(p).exists()
    for p in (
        "/usr/lib/x86_64-linux-gnu/libz.a",
        "/usr/lib/aarch64-linux-gnu/libz.a",
        "/usr/lib/libz.a",
    )
)


def zlib_header_version() -> str:
    match = re.search(r'#define ZLIB_VERSION "([^"]+)"', ZLIB_HEADER.read_text())
    assert match is not None
    return match.group(1)


def compile_c(workdir: Path, name: str, source: str, *flags: str) -> Path:
    assert GCC is not None
    workdir.mkdir(parents=True, exist_ok=True)
    source_file = workdir / f"{name}.c"
    source_file.write_text(source)
    output = workdir / name
    subprocess.run(
        [GCC, "-O1", "-o", str(output), str(source_file), *flags],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    return output
