"""The contract every plug-in declares, and the registry of all of them by kind.

Unpackers (``unpack/``), catalogers (``catalog/``), analyzers (``analyze/``) and reporters
(``report/``) each declare:

- ``name``: what ``only``/``disable`` select (the format name for a reporter);
- ``version``: ``MAJOR.MINOR`` of the plug-in itself, raised when the same input gives another
  result; the report records the version of every unpacker that opened a container, every
  cataloger and analyzer that ran, and every reporter that wrote it;
- ``requires``: what it needs besides its input (``requirements.py``: every cataloger, one
  cataloger, or a resource such as the vulnerability database);
- ``wants``: the kinds of files it looks at. A cataloger's or analyzer's wants are file types
  (``elf``, ``script``: ``FileType`` values) and name globs (``package.json``, ``*.pth``; a glob
  with a ``/`` is matched against the path: ``*var/lib/dpkg/status``), compared without case;
  ``accepts`` remains the exact, cheap gate, and never takes a file its wants do not name
  (``wanted``; ``tests/test_plugin_contracts.py`` checks it over real files of every format).
  An unpacker, whose gate reads magic bytes, says in words which containers it opens.

Every plug-in keeps no state between files: what crosses files travels in carried results
(``analyze/base.py``), so ``--jobs N`` cannot change a report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Protocol

from finalexam.model import FileEntry, FileType
from finalexam.requirements import CATALOGERS, RESOURCES

VERSION = re.compile(r"^\d+\.\d+$")
KINDS = ("unpacker", "cataloger", "analyzer", "reporter")
FILE_TYPES = frozenset(t.value for t in FileType)


class Plugin(Protocol):
    """What every plug-in declares (read-only here: plain class attributes in the plug-ins)."""

    name: str

    @property
    def version(self) -> str: ...

    @property
    def requires(self) -> tuple[str, ...]: ...


class FilePlugin(Plugin, Protocol):
    """A plug-in that reads files: it also says which kinds it looks at."""

    @property
    def wants(self) -> tuple[str, ...]: ...


def problems(kind: str, plugin: object, catalogers: frozenset[str]) -> list[str]:
    """What is missing or wrong in one plug-in's declaration (empty when it is complete)."""
    name = getattr(plugin, "name", None)
    label = f"{kind} {name or type(plugin).__name__}"
    found: list[str] = []
    if not isinstance(name, str) or not name:
        found.append(f"{label}: no name")
    version = getattr(plugin, "version", None)
    if not isinstance(version, str) or not VERSION.match(version):
        found.append(f"{label}: version {version!r} is not MAJOR.MINOR")
    requires = getattr(plugin, "requires", None)
    if not isinstance(requires, tuple):
        found.append(f"{label}: requires must be a tuple")
    else:
        known = {CATALOGERS, *RESOURCES, *catalogers}
        found += [f"{label}: requires unknown {need!r}" for need in requires if need not in known]
    if kind != "reporter":
        wants = getattr(plugin, "wants", None)
        if not isinstance(wants, tuple) or not wants or not all(isinstance(w, str) for w in wants):
            found.append(f"{label}: wants must name the kinds of files it looks at")
        elif kind != "unpacker":
            found += [
                f"{label}: wants {want!r} is neither a file type nor a name glob"
                for want in wants
                if not want or any(ch.isspace() for ch in want)
            ]
    return found


def wanted(wants: Sequence[str], entry: FileEntry) -> bool:
    """Whether ``entry`` is of a kind ``wants`` names: its file type, or a glob over its name
    (over its path for a glob with a ``/``), compared without case."""
    name, path = entry.name.lower(), entry.path.lower()
    for want in wants:
        if want in FILE_TYPES:
            if entry.file_type.value == want:
                return True
        elif fnmatchcase(path if "/" in want else name, want.lower()):
            return True
    return False
