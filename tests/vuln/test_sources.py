"""The source seam: each ``db update`` argument goes to the one source that reads it, and
every module of ``vuln/sources/`` is registered."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.errors import InputError
from finalexam.vuln import sources
from finalexam.vuln.sources import (
    SOURCES,
    OsvDirectory,
    OsvDownload,
    OsvRecordFile,
    OsvZip,
    Validators,
    open_source,
)

RECORD = {"id": "PYSEC-0000-1", "modified": "2024-01-01T00:00:00Z", "affected": []}


def _names(location: str, tmp_path: Path) -> list[str]:
    with open_source(location).fetch(tmp_path, Validators()) as fetched:
        assert fetched is not None
        return [name for name, _raw, _stored in fetched.members]


def test_each_location_goes_to_its_source(tmp_path: Path) -> None:
    raw = json.dumps(RECORD).encode()
    record = write(tmp_path / "one.json", raw)
    archive = write(tmp_path / "all.zip", zip_bytes({"a.json": raw, "notes.txt": b"x"}))
    tree = tmp_path / "tree"
    write(tree / "b" / "two.json", raw)
    write(tree / "a" / "all.zip", zip_bytes({"x.json": raw}))

    assert isinstance(open_source("https://mirror.example/PyPI/all.zip"), OsvDownload)
    assert isinstance(open_source(str(tree)), OsvDirectory)
    assert isinstance(open_source(str(archive)), OsvZip)
    assert isinstance(open_source(str(record)), OsvRecordFile)

    assert _names(str(record), tmp_path) == [str(record)]
    assert _names(str(archive), tmp_path) == [f"{archive}!/a.json"]  # only JSON members
    # a directory: name order, zips inside read as exports
    assert _names(str(tree), tmp_path) == [
        f"{tree / 'a' / 'all.zip'}!/x.json",
        str(tree / "b" / "two.json"),
    ]


@pytest.mark.parametrize(
    ("name", "message"),
    [("missing.json", "no such file or directory"), ("notes.txt", "not an OSV zip")],
)
def test_unreadable_locations_are_named(tmp_path: Path, name: str, message: str) -> None:
    if name == "notes.txt":
        write(tmp_path / name, b"hello")
    with pytest.raises(InputError, match=message) as raised:
        _names(str(tmp_path / name), tmp_path)
    assert str(tmp_path / name) in str(raised.value)


def test_every_source_module_is_registered() -> None:
    registered = {kind.__module__ for kind in SOURCES}  # type: ignore[attr-defined]
    modules = {
        f"{sources.__name__}.{info.name}"
        for info in pkgutil.iter_modules(sources.__path__)
        if info.name != "base"
    }
    assert modules == registered
    for module in modules:
        importlib.import_module(module)
