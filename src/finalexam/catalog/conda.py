"""Conda packages installed in an environment: ``conda-meta/*.json``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from finalexam.catalog.support import licenses_of, purl, read_text
from finalexam.formats import jsonsafe
from finalexam.model import Component, Confidence, Dependency, FileEntry, Location

NAME = "conda"
_RECORD = re.compile(r"(?:^|/)conda-meta/[^/]+\.json$")
_CHANNEL = re.compile(r"/([^/]+)/(?:noarch|[a-z]+-[a-z0-9_]+)/?$")


def conda_component(location: Location, text: str) -> Component | None:
    try:
        record = jsonsafe.loads(text)
    except ValueError:
        return None
    if not isinstance(record, Mapping):
        return None
    name, version = record.get("name"), record.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        return None
    channel = record.get("channel") if isinstance(record.get("channel"), str) else ""
    match = _CHANNEL.search(str(channel))
    qualifiers = {
        "build": str(record.get("build") or ""),
        "channel": match.group(1) if match else "",
        "subdir": str(record.get("subdir") or ""),
    }
    deps = []
    for depend in record.get("depends") or []:
        if isinstance(depend, str) and depend.split():
            deps.append(Dependency(target=purl("conda", depend.split()[0])))
    hashes = [
        (algorithm, str(record[key]))
        for key, algorithm in (("sha256", "SHA-256"), ("md5", "MD5"))
        if isinstance(record.get(key), str)
    ]
    license_text = record.get("license")
    return Component(
        name=name,
        version=version,
        ecosystem="conda",
        purl=purl("conda", name, version, qualifiers=qualifiers),
        licenses=licenses_of(license_text if isinstance(license_text, str) else None),
        hashes=tuple(sorted(hashes)),
        locations=(location,),
        found_by=(f"{NAME}-meta",),
        confidence=Confidence.HIGH,
        evidence=(f"{location}: {name} {version} {qualifiers['build']}".rstrip(),),
        dependencies=tuple(sorted(set(deps), key=lambda d: d.target)),
    )


class CondaCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("*conda-meta/*.json",)

    def accepts(self, entry: FileEntry) -> bool:
        return entry.size <= 32 * 1024 * 1024 and _RECORD.search(entry.path) is not None

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        component = conda_component(entry.location, read_text(entry))
        return [component] if component else []

    def finish(self) -> Iterable[Component]:
        return ()
