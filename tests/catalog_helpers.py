"""Run catalogers on entries built in memory, or on a whole artifact through the exam."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from finalexam.catalog.base import Cataloger
from finalexam.config import Config
from finalexam.exam import merge_components, run_exam
from finalexam.model import Component, FileEntry, FileType, Location, Report


def entry(location: str, data: bytes | str, file_type: FileType = FileType.TEXT) -> FileEntry:
    raw = data.encode() if isinstance(data, str) else data
    return FileEntry(
        location=Location.parse(location),
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        sha1=hashlib.sha1(raw).hexdigest(),
        file_type=file_type,
        _loader=lambda: raw,
    )


def run_cataloger(cataloger: Cataloger, entries: Iterable[FileEntry]) -> list[Component]:
    found: list[Component] = []
    for item in entries:
        if cataloger.accepts(item):
            found.extend(cataloger.catalog(item))
    found.extend(cataloger.finish())
    return merge_components(found)


def by_purl(components: Iterable[Component]) -> dict[str, Component]:
    return {c.purl: c for c in components if c.purl}


def exam(path: Path) -> Report:
    return run_exam(path, Config(), analyzers=())
