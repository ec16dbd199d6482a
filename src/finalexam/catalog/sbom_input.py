"""SBOM documents as input: CycloneDX (JSON, XML) and SPDX 2.x (JSON, tag-value).

A stored SBOM given as the scan target is read into components, so it can be re-checked
against today's vulnerability data. Inside an artifact, only files named like SBOMs
(``*.cdx.json``, ``bom.xml``, ``*.spdx.json``, ``*.spdx``...) are read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from finalexam.catalog import xmlsafe
from finalexam.formats import jsonsafe
from finalexam.model import Component, Confidence, FileEntry, FileType, Location
from finalexam.vuln.purl import ecosystem_for_purl, parse_purl

NAME = "sbom-input"
_MAX_SIZE = 256 * 1024 * 1024
_SBOM_SUFFIXES = (
    ".cdx.json",
    ".cdx.xml",
    ".cyclonedx.json",
    ".cyclonedx.xml",
    ".spdx.json",
    ".spdx",
    "bom.json",
    "bom.xml",
    "sbom.json",
)


_MARKERS = (b'"bomFormat"', b'"spdxVersion"', b"cyclonedx.org/schema/bom", b"SPDXVersion:")


def _ecosystem(purl: str | None) -> str:
    parsed = parse_purl(purl) if purl else None
    if parsed is None:
        return "generic"
    return ecosystem_for_purl(parsed) or parsed.type


def _component(
    name: str,
    version: str | None,
    purl: str | None,
    location: Location,
    fmt: str,
    licenses: Iterable[str] = (),
    hashes: Iterable[tuple[str, str]] = (),
    supplier: str | None = None,
) -> Component:
    return Component(
        name=name,
        version=version or None,
        ecosystem=_ecosystem(purl),
        purl=purl or None,
        licenses=tuple(sorted({lic for lic in licenses if lic})),
        hashes=tuple(sorted(set(hashes))),
        locations=(location,),
        found_by=(NAME,),
        confidence=Confidence.HIGH,
        evidence=(f"listed in {fmt} SBOM",),
        supplier=supplier or None,
        declared=True,
    )


# -- CycloneDX ------------------------------------------------------------------------


def _cdx_json(document: Mapping[str, Any], location: Location) -> Iterator[Component]:
    def walk(items: Any) -> Iterator[Mapping[str, Any]]:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                yield item
                yield from walk(item.get("components"))

    for item in walk(document.get("components")):
        name = item.get("name")
        if not isinstance(name, str) or not name:
            continue
        group = item.get("group")
        purl = item.get("purl") if isinstance(item.get("purl"), str) else None
        full = f"{group}:{name}" if isinstance(group, str) and group and not purl else name
        licenses = []
        for entry in item.get("licenses") or []:
            if isinstance(entry, dict):
                lic = entry.get("license") or {}
                value = entry.get("expression") or (
                    lic.get("id") or lic.get("name") if isinstance(lic, dict) else None
                )
                if isinstance(value, str):
                    licenses.append(value)
        hashes = [
            (str(h.get("alg", "")).lower().replace("-", ""), str(h.get("content", "")))
            for h in item.get("hashes") or []
            if isinstance(h, dict) and h.get("content")
        ]
        version = item.get("version") if isinstance(item.get("version"), str) else None
        yield _component(full, version, purl, location, "CycloneDX", licenses, hashes)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cdx_xml(root: ElementTree.Element, location: Location) -> Iterator[Component]:
    def child_text(element: ElementTree.Element, name: str) -> str | None:
        for child in element:
            if _local(child.tag) == name:
                return (child.text or "").strip() or None
        return None

    for element in root.iter():
        if _local(element.tag) != "component":
            continue
        name = child_text(element, "name")
        if not name:
            continue
        purl = child_text(element, "purl")
        group = child_text(element, "group")
        full = f"{group}:{name}" if group and not purl else name
        licenses = [
            (e.text or "").strip()
            for e in element.iter()
            if _local(e.tag) in ("id", "expression") and e is not element
        ]
        yield _component(
            full, child_text(element, "version"), purl, location, "CycloneDX", licenses
        )


# -- SPDX -----------------------------------------------------------------------------


def _spdx_purl(refs: Iterable[Mapping[str, Any]]) -> str | None:
    for ref in refs:
        if str(ref.get("referenceType", "")).lower() == "purl":
            locator = ref.get("referenceLocator")
            if isinstance(locator, str):
                return locator
    return None


def _spdx_license(value: Any) -> list[str]:
    if isinstance(value, str) and value not in ("NOASSERTION", "NONE", ""):
        return [value]
    return []


def _spdx_json(document: Mapping[str, Any], location: Location) -> Iterator[Component]:
    for package in document.get("packages") or []:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        refs = [r for r in package.get("externalRefs") or [] if isinstance(r, dict)]
        hashes = [
            (str(c.get("algorithm", "")).lower().replace("-", ""), str(c.get("checksumValue")))
            for c in package.get("checksums") or []
            if isinstance(c, dict) and c.get("checksumValue")
        ]
        supplier = package.get("supplier")
        yield _component(
            package["name"],
            package.get("versionInfo") if isinstance(package.get("versionInfo"), str) else None,
            _spdx_purl(refs),
            location,
            "SPDX",
            _spdx_license(package.get("licenseConcluded"))
            or _spdx_license(package.get("licenseDeclared")),
            hashes,
            supplier if isinstance(supplier, str) and supplier != "NOASSERTION" else None,
        )


def _spdx_tag_value(text: str, location: Location) -> Iterator[Component]:
    packages: list[dict[str, Any]] = []
    for line in text.splitlines():
        tag, sep, value = line.partition(":")
        if not sep:
            continue
        tag, value = tag.strip(), value.strip()
        if tag == "PackageName":
            packages.append({"name": value, "refs": []})
        elif not packages:
            continue
        elif tag == "PackageVersion":
            packages[-1]["versionInfo"] = value
        elif tag == "ExternalRef":
            parts = value.split()
            if len(parts) >= 3:
                packages[-1]["refs"].append(
                    {"referenceType": parts[1], "referenceLocator": parts[2]}
                )
        elif tag == "PackageLicenseConcluded":
            packages[-1]["licenseConcluded"] = value
    for package in packages:
        yield _component(
            package["name"],
            package.get("versionInfo"),
            _spdx_purl(package["refs"]),
            location,
            "SPDX",
            _spdx_license(package.get("licenseConcluded")),
        )


def read_sbom(data: bytes, location: Location) -> list[Component] | None:
    """Components of a CycloneDX or SPDX document; None when ``data`` is not one."""
    head = data[:4096].lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.startswith(b"{"):
        try:
            document = jsonsafe.loads(data)
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        if document.get("bomFormat") == "CycloneDX":
            return list(_cdx_json(document, location))
        if str(document.get("spdxVersion", "")).startswith("SPDX-"):
            return list(_spdx_json(document, location))
        return None
    if head.startswith(b"<"):
        if b"cyclonedx.org/schema/bom" not in head:
            return None
        root = xmlsafe.parse(data, max_size=_MAX_SIZE)
        if root is None:
            return None
        return list(_cdx_xml(root, location)) if _local(root.tag) == "bom" else None
    if head.startswith((b"SPDXVersion:", b"##")) and b"SPDXVersion:" in head:
        return list(_spdx_tag_value(data.decode("utf-8", "replace"), location))
    return None


class SbomInputCataloger:
    name = NAME
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("json", "xml", "text")  # CycloneDX and SPDX documents shipped in the artifact

    def accepts(self, entry: FileEntry) -> bool:
        if entry.size > _MAX_SIZE or entry.file_type not in (
            FileType.JSON,
            FileType.XML,
            FileType.TEXT,
        ):
            return False
        return entry.depth == 0 or entry.name.lower().endswith(_SBOM_SUFFIXES)

    def catalog(self, entry: FileEntry) -> Iterable[Component]:
        named = entry.name.lower().endswith(_SBOM_SUFFIXES)
        if not named and not any(marker in bytes(entry.data[:8192]) for marker in _MARKERS):
            return []  # the scan target is some other text file: do not read it all
        return read_sbom(bytes(entry.data), entry.location) or []

    def finish(self) -> Iterable[Component]:
        return []
