"""OSV records on disk: a directory (``*.json`` records and ``*.zip`` exports, recursively,
in name order) or a single JSON record."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from finalexam.errors import InputError
from finalexam.vuln.sources.base import Fetched, Member, Validators
from finalexam.vuln.sources.osv_zip import zip_members


def _directory_members(root: Path) -> Iterator[Member]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories.sort()
        for name in sorted(files):
            member = Path(directory) / name
            if name.endswith(".json"):
                yield str(member), member.read_bytes(), None
            elif name.endswith(".zip"):
                yield from zip_members(member, str(member))


@dataclass(frozen=True)
class OsvDirectory:
    kind = "directory of OSV records and exports"
    location: str

    @staticmethod
    def accepts(location: str) -> bool:
        return Path(location).is_dir()

    def fetch(self, workdir: Path, previous: Validators) -> AbstractContextManager[Fetched | None]:
        return nullcontext(Fetched(_directory_members(Path(self.location))))


def _record_members(path: Path) -> Iterator[Member]:
    if not path.exists():
        raise InputError("no such file or directory", path=str(path))
    if path.suffix != ".json":
        raise InputError("not an OSV zip, JSON record or directory", path=str(path))
    yield str(path), path.read_bytes(), None


@dataclass(frozen=True)
class OsvRecordFile:
    """One JSON record; also the last resort, which names what a location is not."""

    kind = "OSV JSON record"
    location: str

    @staticmethod
    def accepts(location: str) -> bool:
        return True

    def fetch(self, workdir: Path, previous: Validators) -> AbstractContextManager[Fetched | None]:
        return nullcontext(Fetched(_record_members(Path(self.location))))
