"""File inventories keyed by their place inside the release, comparable across versions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from finalexam.model import ARCHIVE_SEPARATOR, FileRecord, FileType, Location

BINARY_TYPES = frozenset({FileType.ELF, FileType.PE, FileType.MACHO})
COMPILED_TYPES = BINARY_TYPES | {FileType.JAVA_CLASS, FileType.PYC, FileType.DEX, FileType.WASM}
_VERSIONISH = re.compile(r"\d+(?:[._]\d+)*(?:[-._]?(?:a|b|rc|dev|post|alpha|beta)\d*)?")


def version_blind(key: str) -> str:
    """A key with version numbers blanked, to pair ``x-1.0.dist-info`` with ``x-1.1.dist-info``."""
    return _VERSIONISH.sub("#", key)


@dataclass(frozen=True)
class Inventory:
    """Relative key → record; containers (nested archives) are left out, their members count."""

    files: dict[str, FileRecord]
    top_dir: str | None

    def key_of(self, location: Location | str) -> str:
        chain = Location.parse(location).chain if isinstance(location, str) else location.chain
        return relative_key(chain, self.top_dir)


def relative_key(chain: tuple[str, ...], top_dir: str | None) -> str:
    rest = list(chain[1:])
    if not rest:
        return "."  # the artifact itself (a single binary or script)
    if top_dir and rest[0].startswith(top_dir + "/"):
        rest[0] = rest[0][len(top_dir) + 1 :]
    return ARCHIVE_SEPARATOR.join(rest)


def common_top_dir(locations: Iterable[Location]) -> str | None:
    """The one directory every first-level member lives in (``app-1.0/`` of an sdist)."""
    tops: set[str] = set()
    for location in locations:
        chain = location.chain
        if len(chain) < 2:
            continue
        first = chain[1]
        if "/" not in first:
            return None
        tops.add(first.split("/", 1)[0])
        if len(tops) > 1:
            return None
    if len(tops) != 1:
        return None
    top = tops.pop()
    # Only a directory that changes from release to release needs dropping: a versioned
    # one (sdists) or npm's "package/".
    return top if top == "package" or any(ch.isdigit() for ch in top) else None


def build_inventory(
    records: Iterable[FileRecord], other_locations: Iterable[Location] = ()
) -> Inventory:
    """``other_locations`` (of findings, indicators, ...) align a report without inventory."""
    records = list(records)
    parents = {str(r.location.parent) for r in records if r.location.parent is not None}
    top = common_top_dir([r.location for r in records] or list(other_locations))
    files: dict[str, FileRecord] = {}
    for record in records:
        if str(record.location) in parents or (record.location.depth == 0 and parents):
            continue  # a container: its members are compared instead
        files[relative_key(record.location.chain, top)] = record
    return Inventory(files, top)
