"""Progress events: the library emits them, only the CLI renders them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class StageStarted(Event):
    stage: str


@dataclass(frozen=True)
class FileVisited(Event):
    location: str
    size: int
    files: int
    bytes_total: int


@dataclass(frozen=True)
class StageFinished(Event):
    stage: str
    seconds: float


@dataclass(frozen=True)
class Notice(Event):
    """A one-line message worth showing a person (e.g. no vulnerability database)."""

    message: str


EventSink = Callable[[Event], None]


def ignore(_: Event) -> None:
    return None
