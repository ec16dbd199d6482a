"""The source contract: where OSV records come from.

A source turns one ``db update`` argument (a URL, a zip, a directory, a JSON file) into a
stream of raw records. It knows nothing of the store: the update reads its members and
writes them. What a source remembers between updates (an HTTP server's validators) travels
in ``Validators``, which the store keeps per source.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from finalexam.errors import FinalexamError

# One record as read from a source: (name shown in messages, JSON bytes, stored blob or None).
# For deflated zip members the stored blob is the member's own compressed stream, so an
# import neither recompresses nor goes through zipfile's slower read path.
Member = tuple[str, bytes, bytes | None]


class SourceError(FinalexamError):
    """A source could not be fetched or read: the update is abandoned, the old DB kept."""

    exit_code = 3


@dataclass(frozen=True)
class Validators:
    """What the last fetch of a source said about its version (HTTP ETag, Last-Modified)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """The records of one fetch, and the validators to keep for the next one."""

    members: Iterator[Member]
    validators: Validators = Validators()


class RecordSource(Protocol):
    """One place records come from. ``fetch`` yields None when the source says nothing
    changed since ``previous``; scratch files live in ``workdir`` and are gone on exit."""

    @property
    def kind(self) -> str:
        """What it reads, in words: "OSV export zip over HTTP(S)", "OSV export zip", ..."""

    @property
    def location(self) -> str:
        """The argument as given; the key the store keeps its validators under."""

    def fetch(
        self, workdir: Path, previous: Validators
    ) -> AbstractContextManager[Fetched | None]: ...
