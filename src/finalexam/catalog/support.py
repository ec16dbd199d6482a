"""Helpers shared by catalogers: purls, SPDX licenses, RFC 822 style paragraphs, os-release."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from packageurl import PackageURL

from finalexam.model import FileEntry, Location

# Metadata files are small; a bigger one is hostile or broken and is read only this far.
MAX_METADATA = 16 * 1024 * 1024


def purl(
    kind: str,
    name: str,
    version: str | None = None,
    namespace: str | None = None,
    qualifiers: Mapping[str, str] | None = None,
    subpath: str | None = None,
) -> str:
    """A valid package URL (the library does the escaping and the type-specific rules)."""
    clean = {k: v for k, v in (qualifiers or {}).items() if v}
    return PackageURL(
        type=kind,
        namespace=namespace or None,
        name=name,
        version=version or None,
        qualifiers=clean or None,
        subpath=subpath,
    ).to_string()


def versionless(purl_text: str) -> str:
    """``pkg:npm/a@1`` -> ``pkg:npm/a``: the identity of a package regardless of version."""
    try:
        parsed = PackageURL.from_string(purl_text)
    except ValueError:
        return purl_text
    return PackageURL(type=parsed.type, namespace=parsed.namespace, name=parsed.name).to_string()


def pypi_name(name: str) -> str:
    """PEP 503 normalised project name (the form purls and OSV use)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_text(entry: FileEntry, limit: int = MAX_METADATA) -> str:
    return entry.text(limit)


# -- licenses ------------------------------------------------------------------------------

# Free-text license names seen in package metadata, mapped to SPDX identifiers. Ambiguous
# names ("BSD", "Apache Software License" without a version) are left out on purpose.
_LICENSE_ALIASES = {
    "mit": "MIT",
    "mit license": "MIT",
    "the mit license": "MIT",
    "mit/x11": "MIT",
    "expat": "MIT",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "simplified bsd": "BSD-2-Clause",
    "bsd-2": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "the apache software license, version 2.0": "Apache-2.0",
    "the apache license, version 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "isc license": "ISC",
    "isc license (iscl)": "ISC",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "mpl 2.0": "MPL-2.0",
    "mpl-2": "MPL-2.0",
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gpl-2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "gpl-3+": "GPL-3.0-or-later",
    "lgplv2+": "LGPL-2.1-or-later",
    "lgplv3+": "LGPL-3.0-or-later",
    "gnu general public license v2 (gplv2)": "GPL-2.0-only",
    "gnu general public license v3 (gplv3)": "GPL-3.0-only",
    "gnu lesser general public license v3 (lgplv3)": "LGPL-3.0-only",
    "eclipse public license 2.0": "EPL-2.0",
    "eclipse public license - v 2.0": "EPL-2.0",
    "eclipse public license - v 1.0": "EPL-1.0",
    "public domain": "LicenseRef-Public-Domain",
    "unlicense": "Unlicense",
    "the unlicense (unlicense)": "Unlicense",
    "zlib": "Zlib",
    "zlib/libpng": "Zlib",
    "cc0": "CC0-1.0",
    "cc0 1.0 universal (cc0 1.0) public domain dedication": "CC0-1.0",
    "boost software license 1.0 (bsl-1.0)": "BSL-1.0",
}

# "License :: OSI Approved :: X" trove classifiers -> SPDX.
_CLASSIFIER_PREFIX = "License :: "


@cache
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def spdx_expression(text: str | None) -> str | None:
    """A valid SPDX expression for a declared license text, or None when it is not one.

    Known free-text names are mapped; anything else that the SPDX licensing does not know as
    a whole expression is left out rather than guessed.
    """
    if not text:
        return None
    cleaned = " ".join(text.split()).strip().strip(";,")
    if not cleaned or len(cleaned) > 200 or "\n" in text.strip():
        return None
    alias = _LICENSE_ALIASES.get(cleaned.lower())
    if alias is not None:
        return alias
    if cleaned.startswith(_CLASSIFIER_PREFIX):
        last = cleaned.rsplit("::", 1)[-1].strip()
        return _LICENSE_ALIASES.get(last.lower()) or spdx_expression(last.strip("()"))
    try:
        licensing = _licensing()
        parsed = licensing.parse(cleaned, validate=True, strict=True)
    except Exception:
        return None
    if parsed is None:
        return None
    keys = licensing.license_keys(parsed)
    if not keys or any(key.lower().startswith("licenseref-") for key in keys):
        return None
    return str(parsed)


def licenses_of(*texts: str | None) -> tuple[str, ...]:
    """SPDX expressions from the declared texts; the first valid one wins per distinct text."""
    found: list[str] = []
    for text in texts:
        expression = spdx_expression(text)
        if expression and expression not in found:
            found.append(expression)
    return tuple(found)


# -- RFC 822 style paragraphs (dpkg status, apk installed) ---------------------------------


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """Debian control paragraphs: ``Key: value`` lines, continuation lines start with space."""
    current: dict[str, str] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                yield current
            current, key = {}, None
            continue
        if line[0] in " \t" and key is not None:
            current[key] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip()
        current[key] = value.strip()
    if current:
        yield current


# -- operating system --------------------------------------------------------------------

OS_RELEASE_PATHS = ("etc/os-release", "usr/lib/os-release")


def is_os_release(entry: FileEntry) -> bool:
    return entry.path.endswith(OS_RELEASE_PATHS) and entry.size < 64 * 1024


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().isidentifier():
            values[key.strip()] = value.strip().strip("\"'")
    return values


def root_of(location: Location, suffix: str) -> Location:
    """The location of the tree that holds ``suffix`` (e.g. the image holding var/lib/...)."""
    path = location.path
    prefix = path[: len(path) - len(suffix)].rstrip("/")
    if not prefix:
        return location.parent or location
    return Location((*location.chain[:-1], prefix))


def archive_locations(location: Location) -> Iterable[Location]:
    """Every enclosing archive of a location, innermost first."""
    parent = location.parent
    while parent is not None:
        yield parent
        parent = parent.parent
