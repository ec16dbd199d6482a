"""Where OSV records come from: one module per kind of source, tried in this order.

Adding a source (another advisory feed, an authenticated mirror) is one module with a class
that has ``kind``, ``location``, ``accepts(location)`` and ``fetch`` (see ``base.py``), and
one line in ``SOURCES``.
"""

from __future__ import annotations

from typing import Protocol

from finalexam.vuln.sources.base import (
    Fetched,
    Member,
    RecordSource,
    SourceError,
    Validators,
)
from finalexam.vuln.sources.osv_directory import OsvDirectory, OsvRecordFile
from finalexam.vuln.sources.osv_http import OSV_BUCKET, OsvDownload, default_sources
from finalexam.vuln.sources.osv_zip import OsvZip


class SourceKind(Protocol):
    """A kind of source, as a class: whether it reads a location, and its reader for it."""

    def accepts(self, location: str) -> bool: ...

    def __call__(self, location: str) -> RecordSource: ...


# The first that accepts a location reads it; a JSON record is the last resort, which also
# names what an unreadable location is not.
SOURCES: tuple[SourceKind, ...] = (
    OsvDownload,
    OsvDirectory,
    OsvZip,
    OsvRecordFile,
)


def open_source(location: str) -> RecordSource:
    """The source that reads ``location`` (a URL, a directory, a zip or a JSON record)."""
    kind = next(kind for kind in SOURCES if kind.accepts(location))
    return kind(location)


__all__ = [
    "OSV_BUCKET",
    "SOURCES",
    "Fetched",
    "Member",
    "OsvDirectory",
    "OsvDownload",
    "OsvRecordFile",
    "OsvZip",
    "RecordSource",
    "SourceError",
    "SourceKind",
    "Validators",
    "default_sources",
    "open_source",
]
