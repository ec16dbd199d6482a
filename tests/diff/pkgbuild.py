"""Release pairs built by code: npm tarballs, wheels and sdists with chosen differences."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def npm_tarball(
    path: Path,
    files: Mapping[str, str | bytes],
    *,
    mtime: int = 1_700_000_000,
    mode: int = 0o644,
    order: Sequence[str] | None = None,
    gzip_mtime: int = 0,
    level: int = 9,
) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in order or list(files):
            data = files[name]
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(raw)
            info.mtime = mtime
            info.mode = mode
            archive.addfile(info, io.BytesIO(raw))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=level, mtime=gzip_mtime))
    return path


def package_json(version: str, **extra: Any) -> str:
    return json.dumps({"name": "lib", "version": version, **extra}, indent=2) + "\n"


def wheel(
    path: Path,
    files: Mapping[str, str | bytes],
    *,
    date_time: tuple[int, int, int, int, int, int] = (2024, 1, 1, 0, 0, 0),
    order: Sequence[str] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
    level: int | None = None,
    mode: int = 0o644,
) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in order or list(files):
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = compression
            info.external_attr = mode << 16
            data = files[name]
            archive.writestr(info, data, compresslevel=level)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def metadata(name: str, version: str, requires: Sequence[str] = ()) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"
