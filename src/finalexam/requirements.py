"""What a plug-in needs besides the files it is given, and how ``only``/``disable`` honour it.

An analyzer declares ``requires``: ``catalogers`` (every cataloger: it works on the components
they find), the name of one cataloger, or a resource the exam provides before the walk
(``vulnerability-db``). ``only`` pulls what an enabled analyzer requires in; ``disable`` of a
cataloger that an enabled analyzer requires is refused with a usage error, since that analyzer
would silently look at less than the artifact holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finalexam.config import Config
from finalexam.errors import ConfigError
from finalexam.events import EventSink, Notice

CATALOGERS = "catalogers"
VULNERABILITY_DB = "vulnerability-db"


def _vulnerability_db(config: Config, events: EventSink) -> Any:
    from finalexam.vuln.provision import provide_database

    return provide_database(config, lambda message: events(Notice(message)))


# Resources a plug-in may require, each provided once per exam before the walk.
RESOURCES: Mapping[str, Callable[[Config, EventSink], Any]] = {
    VULNERABILITY_DB: _vulnerability_db,
}


def requirements(plugin: object) -> tuple[str, ...]:
    return tuple(getattr(plugin, "requires", ()))


@dataclass(frozen=True)
class Plan:
    catalogers: tuple[str, ...]  # the catalogers that run, in registry order
    required_by: Mapping[str, str] = field(default_factory=dict)  # pulled in: name -> analyzer
    resources: tuple[str, ...] = ()


def plan(config: Config, catalogers: Sequence[str], analyzers: Sequence[object]) -> Plan:
    """The catalogers and resources an exam needs for ``analyzers`` (those that will run)."""
    required_by: dict[str, str] = {}
    resources: list[str] = []
    for analyzer in analyzers:
        name = str(getattr(analyzer, "name", "?"))
        for need in requirements(analyzer):
            if need in RESOURCES:
                resources.append(need)
                continue
            needed = catalogers if need == CATALOGERS else (need,)
            unknown = [n for n in needed if n not in catalogers]
            if unknown:  # a plug-in's own declaration is wrong: a bug, not a usage error
                raise ValueError(f"{name} requires unknown cataloger {unknown[0]!r}")
            for cataloger in needed:
                required_by.setdefault(cataloger, name)
    refused = [n for n in catalogers if n in required_by and n in config.disable]
    if refused:
        users = sorted({required_by[n] for n in refused} | _users(analyzers, refused[0]))
        named = " and ".join(map(repr, users))
        raise ConfigError(
            f"disable: cataloger {', '.join(map(repr, refused))} is required by {named} "
            f"(they check the components the catalogers find); disable {named} too, "
            f"or keep {refused[0]!r}"
        )
    running = tuple(n for n in catalogers if config.runs(n) or n in required_by)
    pulled = {n: required_by[n] for n in running if not config.runs(n)}
    return Plan(running, pulled, tuple(dict.fromkeys(resources)))


def _users(analyzers: Sequence[object], cataloger: str) -> set[str]:
    return {
        str(getattr(a, "name", "?"))
        for a in analyzers
        if CATALOGERS in requirements(a) or cataloger in requirements(a)
    }


def provide(names: Sequence[str], config: Config, events: EventSink) -> dict[str, Any]:
    return {name: RESOURCES[name](config, events) for name in names}
