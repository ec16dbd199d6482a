"""Windows PE version resources (VS_VERSIONINFO): what a DLL or EXE says it is.

ProductName/ProductVersion/CompanyName are written by whoever built the file, so the
component is of low confidence and of the ``generic`` ecosystem, unless the file sits where
NuGet puts a package's assemblies (``<id>/<version>/lib|runtimes/...`` in a packages folder,
or inside ``<id>.<version>.nupkg``): then the NuGet identity is evident and used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pefile
from packageurl import PackageURL

from finalexam.model import Blob, Component, Confidence, FileEntry, FileType, Location

_MAX_SIZE = 512 * 1024 * 1024
_RESOURCE_DIRECTORY = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]
_VERSION = re.compile(r"\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?")
_PACKAGES_FOLDER = re.compile(
    r"(?:^|/)packages/(?P<id>[A-Za-z0-9_.-]+)/(?P<version>\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z.-]+)?)"
    r"/(?:lib|runtimes|tools|build)/"
)
_KEYS = ("ProductName", "ProductVersion", "FileVersion", "CompanyName", "FileDescription")


def version_strings(data: Blob) -> dict[str, str]:
    """The first StringFileInfo table of a PE file's version resource ({} when none)."""
    try:
        pe = pefile.PE(data=data, fast_load=True)
        pe.parse_data_directories(directories=[_RESOURCE_DIRECTORY])
    except (pefile.PEFormatError, ValueError, IndexError, TypeError, OverflowError):
        return {}
    result: dict[str, str] = {}
    for file_info in getattr(pe, "FileInfo", None) or []:
        for entry in file_info:
            if getattr(entry, "Key", b"") != b"StringFileInfo":
                continue
            for table in getattr(entry, "StringTable", []):
                for key, value in table.entries.items():
                    name = key.decode("utf-8", "replace")
                    text = value.decode("utf-8", "replace").strip().strip("\x00").strip()
                    if text and name not in result:
                        result[name] = text
    return result


def clean_version(text: str | None) -> str | None:
    """``13.0.3+0a2e29`` -> ``13.0.3``; ``1, 2, 3, 4`` -> ``1.2.3.4``; prose -> None."""
    if not text:
        return None
    match = _VERSION.match(text.replace(", ", ".").strip())
    return match.group(0) if match else None


def nuget_identity(location: Location) -> tuple[str, str] | None:
    """(package id, version) when the file's place says which NuGet package it came from."""
    path = location.path
    match = _PACKAGES_FOLDER.search(path)
    if match:
        return match.group("id"), match.group("version")
    for member in reversed(location.chain[:-1]):
        name = member.rsplit("/", 1)[-1]
        if name.lower().endswith(".nupkg"):
            found = re.match(
                r"(?P<id>.+?)\.(?P<version>\d+(?:\.\d+){1,3}(?:-[\w.-]+)?)\.nupkg$", name, re.I
            )
            if found:
                return found.group("id"), found.group("version")
    return None


class DotnetPeCataloger:
    name = "dotnet-pe"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("pe",)  # .NET assemblies: PE files with a CLR header

    def accepts(self, entry: FileEntry) -> bool:
        return entry.file_type == FileType.PE and entry.size <= _MAX_SIZE

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        strings = version_strings(entry.data)
        product = strings.get("ProductName") or strings.get("FileDescription")
        version = clean_version(strings.get("ProductVersion")) or clean_version(
            strings.get("FileVersion")
        )
        if not product or not version:
            return []
        shown = ", ".join(f"{k}={strings[k]!r}" for k in _KEYS if k in strings)
        evidence = [f"PE version resource of {entry.location}: {shown}"]
        identity = nuget_identity(entry.location)
        if identity is not None:
            package_id, package_version = identity
            evidence.append(f"NuGet package layout names {package_id} {package_version}")
            return [
                Component(
                    name=package_id,
                    version=package_version,
                    ecosystem="NuGet",
                    purl=PackageURL(
                        type="nuget", name=package_id, version=package_version
                    ).to_string(),
                    locations=(entry.location,),
                    found_by=(self.name,),
                    confidence=Confidence.MEDIUM,
                    evidence=tuple(evidence),
                    supplier=strings.get("CompanyName"),
                    description=strings.get("FileDescription"),
                )
            ]
        return [
            Component(
                name=product,
                version=version,
                ecosystem="generic",
                purl=PackageURL(type="generic", name=product, version=version).to_string(),
                locations=(entry.location,),
                found_by=(self.name,),
                confidence=Confidence.LOW,
                evidence=tuple(evidence),
                supplier=strings.get("CompanyName"),
                description=strings.get("FileDescription"),
            )
        ]

    def finish(self) -> Iterable[Component]:
        return ()


def make() -> DotnetPeCataloger:
    return DotnetPeCataloger()
