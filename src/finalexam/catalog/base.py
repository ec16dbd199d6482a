"""Cataloger protocol: names components from the files that describe them.

A cataloger is created once per exam, so it may keep state across files (``finish`` runs
after the walk, e.g. for fall-backs that only apply when nothing better was found). One whose
``finish`` works item by item keeps an ``isolation`` (``finalexam.failures.Isolation``): an
item that fails there is an Issue and the other items still give their components.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from finalexam.model import Component, FileEntry
from finalexam.plugins import FilePlugin


class Cataloger(FilePlugin, Protocol):
    name: str

    def accepts(self, entry: FileEntry) -> bool:
        """Cheap gate: by name, size and file type; never reads the whole file."""
        ...

    def catalog(self, entry: FileEntry) -> Iterable[Component]: ...

    def finish(self) -> Iterable[Component]: ...
