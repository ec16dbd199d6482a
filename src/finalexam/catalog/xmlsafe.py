"""Parse untrusted XML metadata (pom.xml, .nuspec, CycloneDX XML): no DTDs, no entities.

A document type declaration is where entity bombs ("billion laughs") and external entities
live; metadata never needs one, so a document that has one is refused (``UnsafeDocument``:
the plug-in reading it records it as not examined) rather than parsed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import defusedxml
import defusedxml.ElementTree as defused

from finalexam.errors import UnsafeDocument

MAX_XML = 8 * 1024 * 1024


def parse(text: str | bytes, max_size: int = MAX_XML) -> ET.Element | None:
    """The root element with namespaces stripped; None for broken XML.

    Raises ``UnsafeDocument`` for a DTD or entity declaration, or a document over
    ``max_size``.
    """
    if len(text) > max_size:
        raise UnsafeDocument(f"XML document of {len(text)} bytes (over {max_size}): not parsed")
    try:
        root: ET.Element = defused.fromstring(text, forbid_dtd=True, forbid_entities=True)
    except defusedxml.DefusedXmlException as error:
        raise UnsafeDocument(f"XML document refused: {error}") from None
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
