"""Python distributions: dist-info, egg-info, sdist PKG-INFO, vendored copies, .pyc-only trees.

Everything is collected during the walk and named in ``finish``, because a distribution's
identity (METADATA), its file list (RECORD), its wheel's hash and the packages vendored inside
it arrive as separate files in archive order.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from email.parser import HeaderParser
from email.policy import compat32

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

from finalexam.catalog.support import licenses_of, purl, pypi_name, read_text
from finalexam.failures import Isolation
from finalexam.model import (
    Component,
    Confidence,
    Dependency,
    FileEntry,
    Location,
    Relationship,
)

NAME = "python"
_VENDOR_DIRS = r"(?:_vendor|vendor|_vendored|vendored|extern|_extern|_bundled|third_party)"
_VENDORED_VERSION_FILE = re.compile(
    rf"(?:^|/){_VENDOR_DIRS}/([A-Za-z_][A-Za-z0-9_]*)/(__init__|__version__|_version|version)\.py$"
)
_VENDOR_TXT = re.compile(rf"(?:^|/){_VENDOR_DIRS}/vendor\.txt$")
_VERSION_ASSIGN = re.compile(
    r"""^(?:__version__|version|VERSION)\s*(?::\s*str\s*)?=\s*(?:__version__\s*=\s*)?"""
    r"""(?:version\s*=\s*)?['"]([0-9][0-9A-Za-z.+!_-]{0,40})['"]""",
    re.MULTILINE,
)
_VERSION_LIKE = re.compile(rb"[0-9]+\.[0-9]+(?:\.[0-9]+)*(?:[abc]|rc|\.dev|\.post)?[0-9]*")
# Module names whose distribution name differs (vendored copies are named by module).
_MODULE_TO_PROJECT = {
    "attr": "attrs",
    "dateutil": "python-dateutil",
    "yaml": "PyYAML",
    "pkg_resources": "setuptools",
    "google": "protobuf",
    "OpenSSL": "pyOpenSSL",
    "bs4": "beautifulsoup4",
    "dns": "dnspython",
    "jwt": "PyJWT",
    "PIL": "Pillow",
    "typing_extensions": "typing-extensions",
}
_ARCHIVE_SUFFIXES = (".whl", ".egg")
_METADATA_NAMES = ("METADATA", "PKG-INFO", "RECORD", "vendor.txt")


@dataclass
class _Metadata:
    location: Location
    text: str
    kind: str  # dist-info, egg-info, sdist


@dataclass
class _State:
    metadata: list[_Metadata] = field(default_factory=list)
    records: dict[Location, list[str]] = field(default_factory=dict)  # dist-info dir -> paths
    archives: dict[Location, tuple[str, str]] = field(default_factory=dict)  # sha256, sha1
    vendor_txt: list[tuple[Location, str]] = field(default_factory=list)
    vendored_versions: list[tuple[Location, str, str]] = field(default_factory=list)
    source_dirs: set[Location] = field(default_factory=set)
    pyc_inits: dict[Location, bytes] = field(default_factory=dict)  # package dir -> pyc bytes


def _dir_of(location: Location) -> Location:
    return Location((*location.chain[:-1], posixpath.dirname(location.path)))


def _is_metadata(path: str) -> str | None:
    parts = path.split("/")
    name, parent = parts[-1], parts[-2] if len(parts) > 1 else ""
    if name == "METADATA" and parent.endswith(".dist-info"):
        return "dist-info"
    if name == "PKG-INFO" and (parent.endswith(".egg-info") or parent == "EGG-INFO"):
        return "egg-info"
    if name == "PKG-INFO" and len(parts) <= 2:
        return "sdist"
    if name.endswith(".egg-info") and len(parts) <= 6:  # distutils' single-file form
        return "egg-info"
    return None


class PythonCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = (
        *(f"*{suffix}" for suffix in _ARCHIVE_SUFFIXES),
        *_METADATA_NAMES,
        "*.egg-info",
        "__version__.py",
        "_version.py",
        "version.py",
        "__init__.py",
        "__init__.pyc",
    )

    def __init__(self) -> None:
        self.state = _State()
        self.isolation = Isolation(NAME, "catalog")

    def accepts(self, entry: FileEntry) -> bool:
        name = entry.name
        if name.endswith(_ARCHIVE_SUFFIXES):
            return True
        if entry.size > 64 * 1024 * 1024:
            return False
        if name in _METADATA_NAMES or name.endswith(".egg-info"):
            return True
        if name in ("__version__.py", "_version.py", "version.py"):
            return _VENDORED_VERSION_FILE.search(entry.path) is not None
        return name in ("__init__.py", "__init__.pyc")

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        state, path, location = self.state, entry.path, entry.location
        name = entry.name
        if name.endswith(_ARCHIVE_SUFFIXES):
            state.archives[location] = (entry.sha256, entry.sha1)
            return ()
        kind = _is_metadata(path)
        if kind is not None:
            state.metadata.append(_Metadata(location, read_text(entry), kind))
        elif name == "RECORD" and _parent(path).endswith(".dist-info"):
            state.records[_dir_of(location)] = _record_paths(read_text(entry))
        elif _VENDOR_TXT.search(path):
            state.vendor_txt.append((location, read_text(entry, 1024 * 1024)))
        elif (match := _VENDORED_VERSION_FILE.search(path)) is not None:
            version = _version_assignment(read_text(entry, 256 * 1024))
            if version:
                state.vendored_versions.append((location, match.group(1), version))
        if name == "__init__.py":
            state.source_dirs.add(_dir_of(location))
        elif name == "__init__.pyc" and entry.size < 4 * 1024 * 1024:
            state.pyc_inits[_dir_of(location)] = bytes(entry.data)
        return ()

    def finish(self) -> Iterable[Component]:
        state = self.state
        found: list[Component] = []
        for meta in state.metadata:
            with self.isolation.item(str(meta.location), meta.location):
                if (distribution := _distribution(meta, state)) is not None:
                    found.append(distribution)
        vendored = list(_vendored(state))
        found = _attach_vendored(found, vendored, state)
        found.extend(component for _, component in vendored)
        found.extend(_pyc_only(state, found))
        return found


def _parent(path: str) -> str:
    parts = path.split("/")
    return parts[-2] if len(parts) > 1 else ""


def _record_paths(text: str) -> list[str]:
    paths: list[str] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if row and row[0]:
                paths.append(row[0])
    except csv.Error:  # a malformed RECORD keeps the rows read so far
        pass
    return paths


def _version_assignment(text: str) -> str | None:
    match = _VERSION_ASSIGN.search(text)
    return match.group(1) if match else None


def _people(name: str | None, email: str | None) -> str | None:
    if name and name.strip() and name.strip().upper() != "UNKNOWN":
        return name.strip()
    if email and email.strip():
        # "Jane Doe <jane@example.org>, ..." -> "Jane Doe"
        first = email.split(",")[0].strip()
        return first.split("<")[0].strip().strip('"') or first
    return None


def _dependencies(requirements: list[str]) -> tuple[Dependency, ...]:
    deps: dict[str, Dependency] = {}
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        spec = str(requirement.specifier) or None
        if requirement.marker is not None:
            marker = str(requirement.marker)
            if "extra ==" in marker:  # optional, only with an extra: not a depends-on edge
                continue
            spec = f"{spec or ''}; {marker}".lstrip()
        target = purl("pypi", pypi_name(requirement.name))
        deps.setdefault(target, Dependency(target=target, requirement=spec))
    return tuple(sorted(deps.values(), key=lambda d: d.target))


def _distribution(meta: _Metadata, state: _State) -> Component | None:
    headers = HeaderParser(policy=compat32).parsestr(meta.text, headersonly=True)
    name = (headers.get("Name") or "").strip()
    version = (headers.get("Version") or "").strip() or None
    if not name:
        return None
    classifiers = [c for c in headers.get_all("Classifier") or [] if c.startswith("License ::")]
    license_texts = [headers.get("License-Expression"), headers.get("License"), *classifiers]
    licenses = licenses_of(*license_texts)
    if headers.get("License-Expression") and licenses:
        licenses = licenses[:1]
    hashes: tuple[tuple[str, str], ...] = ()
    archive = meta.location.parent
    dist_dir = _dir_of(meta.location)
    if (
        archive is not None
        and archive in state.archives
        and "/" not in dist_dir.path
        and archive.name.split("-")[0].lower().replace("_", "-") == pypi_name(name)
    ):
        sha256, sha1 = state.archives[archive]
        hashes = (("SHA-1", sha1), ("SHA-256", sha256))
    supplier = _people(headers.get("Maintainer"), headers.get("Maintainer-email")) or _people(
        headers.get("Author"), headers.get("Author-email")
    )
    summary = (headers.get("Summary") or "").strip()
    return Component(
        name=name,
        version=version,
        ecosystem="PyPI",
        purl=purl("pypi", pypi_name(name), pypi_version(version)),
        licenses=licenses,
        hashes=hashes,
        locations=(meta.location,),
        found_by=(f"{NAME}-{meta.kind}",),
        confidence=Confidence.HIGH if meta.kind == "dist-info" else Confidence.MEDIUM,
        evidence=(f"{meta.location}: Name: {name}, Version: {version}",),
        supplier=supplier,
        description=summary[:300] or None,
        dependencies=_dependencies(headers.get_all("Requires-Dist") or []),
    )


def pypi_version(version: str | None) -> str | None:
    """PEP 440 normal form (``2023.07.22`` -> ``2023.7.22``) so the same release merges."""
    if not version:
        return None
    try:
        return str(Version(version))
    except ValueError:  # InvalidVersion, or more digits than Python turns into an integer
        return version


def _vendor_name(module: str) -> str:
    return _MODULE_TO_PROJECT.get(module, module)


def _vendored(state: _State) -> Iterable[tuple[Location, Component]]:
    for location, text in state.vendor_txt:
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            pins = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
            if len(pins) != 1:
                continue
            yield (
                location,
                _vendored_component(
                    requirement.name, pins[0], location, "vendor.txt", Confidence.MEDIUM, line
                ),
            )
    for location, module, version in state.vendored_versions:
        evidence = f"__version__ = {version!r}"
        yield (
            location,
            _vendored_component(
                _vendor_name(module), version, location, "version-file", Confidence.LOW, evidence
            ),
        )


def _vendored_component(
    name: str, version: str, location: Location, how: str, confidence: Confidence, line: str
) -> Component:
    version = pypi_version(version) or version
    return Component(
        name=name,
        version=version,
        ecosystem="PyPI",
        purl=purl("pypi", pypi_name(name), version),
        locations=(location,),
        found_by=(f"{NAME}-vendored-{how}",),
        confidence=confidence,
        evidence=(f"{location}: {line}",),
    )


def _attach_vendored(
    distributions: list[Component],
    vendored: list[tuple[Location, Component]],
    state: _State,
) -> list[Component]:
    """The distribution whose RECORD lists a vendored file contains that vendored package."""
    owners: dict[Location, Component] = {}
    for dist in distributions:
        dist_dir = _dir_of(dist.locations[0])
        root = posixpath.dirname(dist_dir.path)
        for path in state.records.get(dist_dir, ()):
            full = posixpath.normpath(posixpath.join(root, path)) if root else path
            owners[Location((*dist_dir.chain[:-1], full))] = dist
    extra: dict[int, list[Dependency]] = {}
    # A distribution whose metadata another one's RECORD lists is vendored inside it too
    # (setuptools ships setuptools/_vendor/packaging-24.0.dist-info/).
    nested = [(d.locations[0], d) for d in distributions if d.locations]
    for location, component in [*vendored, *nested]:
        owner = owners.get(location)
        if owner is not None and owner is not component and component.purl:
            extra.setdefault(id(owner), []).append(
                Dependency(target=component.purl, kind=Relationship.CONTAINS)
            )
    result = []
    for dist in distributions:
        added = extra.get(id(dist))
        if added:
            deps = set(dist.dependencies) | set(added)
            ordered = sorted(deps, key=lambda d: (d.kind.value, d.target, d.requirement or ""))
            dist = replace(dist, dependencies=tuple(ordered))
        result.append(dist)
    return result


def _pyc_only(state: _State, found: list[Component]) -> Iterable[Component]:
    """Top-level packages shipped as ``__init__.pyc`` without any source."""
    named_dirs = {_dir_of(c.locations[0]) for c in found if c.locations}
    recorded: set[Location] = set()
    for dist_dir, paths in state.records.items():
        root = posixpath.dirname(dist_dir.path)
        for path in paths:
            top = path.split("/", 1)[0]
            recorded.add(
                Location((*dist_dir.chain[:-1], posixpath.join(root, top) if root else top))
            )
    for package_dir, data in sorted(state.pyc_inits.items()):
        if package_dir in state.source_dirs or package_dir in recorded:
            continue
        if package_dir in named_dirs or _dir_of(package_dir) in state.pyc_inits:
            continue  # a subpackage: the top-level package names the distribution
        module = package_dir.name
        if not module.isidentifier():
            continue
        version = _pyc_version(data)
        yield Component(
            name=_vendor_name(module),
            version=version,
            ecosystem="PyPI",
            purl=purl("pypi", pypi_name(_vendor_name(module)), pypi_version(version)),
            locations=(_init(package_dir),),
            found_by=(f"{NAME}-pyc-only",),
            confidence=Confidence.LOW,
            evidence=(f"{package_dir}: compiled package without sources",),
        )


def _init(package_dir: Location) -> Location:
    return Location((*package_dir.chain[:-1], posixpath.join(package_dir.path, "__init__.pyc")))


def _pyc_version(data: bytes) -> str | None:
    """The string constant stored next to ``__version__`` in a compiled module (no unmarshal)."""
    if b"__version__" not in data:
        return None
    # Short ASCII constants are marshalled as type 'z'/'Z' (0x7a/0x5a, +0x80 when referenced)
    # followed by a one-byte length.
    for match in re.finditer(rb"[\x5a\x7a\xda\xfa]([\x03-\x28])", data):
        length = match.group(1)[0]
        start = match.end()
        candidate = data[start : start + length]
        if _VERSION_LIKE.fullmatch(candidate):
            return candidate.decode("ascii")
    return None
