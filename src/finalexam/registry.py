"""Every registered plug-in, by kind, in pipeline order (for checks of the contract that
``finalexam.plugins`` describes; the exam uses each registry directly)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from finalexam.analyze import ANALYZERS
from finalexam.catalog import CATALOGERS
from finalexam.config import Config
from finalexam.report import REPORTERS
from finalexam.unpack import UNPACKERS


@dataclass(frozen=True)
class Registered:
    kind: str
    plugin: object


def registered(config: Config | None = None) -> Iterator[Registered]:
    """Every registered plug-in, instantiated, by kind in pipeline order."""
    config = config or Config()
    yield from (Registered("unpacker", u) for u in UNPACKERS)
    yield from (Registered("cataloger", make()) for make in CATALOGERS)
    yield from (Registered("analyzer", make(config)) for make in ANALYZERS)
    yield from (Registered("reporter", r) for r in REPORTERS.values())
