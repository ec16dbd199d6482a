"""The contract every plug-in declares, and the registry of all of them by kind.

Unpackers (``unpack/``), catalogers (``catalog/``), analyzers (``analyze/``) and reporters
(``report/``) each declare:

- ``name``: what ``only``/``disable`` select (the format name for a reporter);
- ``version``: ``MAJOR.MINOR`` of the plug-in itself, raised when the same input gives another
  result; the report records the version of every unpacker that opened a container, every
  cataloger and analyzer that ran, and every reporter that wrote it;
- ``requires``: what it needs besides its input (``requirements.py``: every cataloger, one
  cataloger, or a resource such as the vulnerability database);
- ``wants``: the kinds of files it looks at, in words (unpackers, catalogers, analyzers;
  ``accepts``/``sniff`` remain the exact gates).

Every plug-in keeps no state between files: what crosses files travels in carried results
(``analyze/base.py``), so ``--jobs N`` cannot change a report.
"""

from __future__ import annotations

import re
from typing import Protocol

from finalexam.requirements import CATALOGERS, RESOURCES

VERSION = re.compile(r"^\d+\.\d+$")
KINDS = ("unpacker", "cataloger", "analyzer", "reporter")


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
    return found
