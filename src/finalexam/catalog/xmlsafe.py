"""Parse untrusted XML metadata (pom.xml, .nuspec): no DTDs, no entities, bounded size."""

from __future__ import annotations

import xml.etree.ElementTree as ET

MAX_XML = 8 * 1024 * 1024


def parse(text: str) -> ET.Element | None:
    """The root element with namespaces stripped, or None for anything unsafe or broken."""
    if len(text) > MAX_XML or "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def child_text(element: ET.Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None
