"""``-o spdx-json`` / ``-o spdx-tag``: SPDX 2.3 via spdx-tools.

The examined artifact is the package the document DESCRIBES; it CONTAINS the components
found directly in it, a nested archive's component CONTAINS its own, and declared
dependencies are DEPENDS_ON relationships. Namespace from the artifact hash, creation time
from ``--timestamp`` / SOURCE_DATE_EPOCH: the same input gives the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from license_expression import get_spdx_licensing
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

from finalexam.model import Component, Report
from finalexam.report.base import RenderOptions
from finalexam.report.sbom import (
    TOOL_NAME,
    build_graph,
    primary_component,
    sbom_timestamp,
    serial_uuid,
    split_contact,
)

ROOT_ID = "SPDXRef-Artifact"
_CHECKSUMS = {
    "SHA-1": ChecksumAlgorithm.SHA1,
    "SHA-256": ChecksumAlgorithm.SHA256,
    "SHA-384": ChecksumAlgorithm.SHA384,
    "SHA-512": ChecksumAlgorithm.SHA512,
    "MD5": ChecksumAlgorithm.MD5,
}
_MAX_LOCATIONS = 20


def _uri_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "artifact"


def package_id(component: Component) -> str:
    return f"SPDXRef-Package-{component.id}"


def _actor(text: str | None) -> Actor | SpdxNoAssertion:
    if not text:
        return SpdxNoAssertion()
    name, email = split_contact(text)
    return Actor(ActorType.ORGANIZATION, name, email) if name else SpdxNoAssertion()


def _license(component: Component, refs: dict[str, str]) -> Any:
    if not component.licenses:
        return SpdxNoAssertion()
    text = " AND ".join(f"({t})" if len(component.licenses) > 1 else t for t in component.licenses)
    for token in re.findall(r"LicenseRef-[A-Za-z0-9.-]+", text):
        refs.setdefault(token, token.removeprefix("LicenseRef-").replace("-", " "))
    try:
        return get_spdx_licensing().parse(text)
    except Exception:
        return SpdxNoAssertion()


def _package(component: Component, refs: dict[str, str]) -> Package:
    references = []
    if component.purl:
        references.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", component.purl)
        )
    if component.cpe:
        kind = "cpe23Type" if component.cpe.startswith("cpe:2.3:") else "cpe22Type"
        references.append(
            ExternalPackageRef(ExternalPackageRefCategory.SECURITY, kind, component.cpe)
        )
    locations = [str(location) for location in sorted(component.locations)]
    shown = locations[:_MAX_LOCATIONS]
    more = len(locations) - len(shown)
    comment = (
        f"found by {', '.join(component.found_by)}; confidence {component.confidence.value}"
        + ("; declared (lock file or manifest)" if component.declared else "")
        + "; locations: "
        + "; ".join(shown)
        + (f"; and {more} more" if more else "")
    )
    return Package(
        spdx_id=package_id(component),
        name=component.name,
        download_location=SpdxNoAssertion(),
        version=component.version,
        supplier=_actor(component.supplier),
        files_analyzed=False,
        checksums=[
            Checksum(_CHECKSUMS[alg], value)
            for alg, value in sorted(component.hashes)
            if alg in _CHECKSUMS and value
        ],
        license_concluded=SpdxNoAssertion(),
        license_declared=_license(component, refs),
        copyright_text=SpdxNoAssertion(),
        description=component.description,
        comment=comment,
        external_references=references,
        primary_package_purpose=PackagePurpose.LIBRARY,
    )


def build_document(report: Report, options: RenderOptions) -> Document:
    graph = build_graph(report)
    artifact = report.artifact
    created = datetime.fromisoformat(sbom_timestamp(options).replace("Z", "+00:00"))
    creation = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=artifact.name,
        document_namespace=f"https://finalexam.dev/spdx/{_uri_safe(artifact.name)}-"
        f"{serial_uuid(report)}",
        creators=[Actor(ActorType.TOOL, f"{TOOL_NAME}-{report.tool_version}")],
        created=created,
    )
    primary = primary_component(report)
    root_references = []
    if primary is not None and primary.purl:
        root_references.append(
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", primary.purl)
        )
    root = Package(
        spdx_id=ROOT_ID,
        name=artifact.name,
        download_location=SpdxNoAssertion(),
        version=artifact.version or (primary.version if primary else None),
        external_references=root_references,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, artifact.sha256)] if artifact.sha256 else [],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        supplier=_actor(primary.supplier if primary else None),
        comment=f"examined artifact ({artifact.kind})",
        primary_package_purpose=PackagePurpose.APPLICATION,
    )
    refs: dict[str, str] = {}
    packages = [root] + [_package(c, refs) for c in graph.components]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ROOT_ID)]
    for component in graph.components:
        parent = graph.parent.get(component.id)
        container = package_id(graph.by_id[parent]) if parent else ROOT_ID
        relationships.append(
            Relationship(container, RelationshipType.CONTAINS, package_id(component))
        )
        for target in graph.depends_on.get(component.id, []):
            relationships.append(
                Relationship(
                    package_id(component),
                    RelationshipType.DEPENDS_ON,
                    package_id(graph.by_id[target]),
                )
            )
    relationships.sort(
        key=lambda r: (r.relationship_type.name, r.spdx_element_id, str(r.related_spdx_element_id))
    )
    extracted = [
        ExtractedLicensingInfo(
            license_id=ref,
            extracted_text=f"{name} (declared by package metadata)",
            license_name=name,
        )
        for ref, name in sorted(refs.items())
    ]
    return Document(
        creation_info=creation,
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=extracted,
    )


def render_document(report: Report, options: RenderOptions, write: Callable[..., None]) -> bytes:
    stream = io.StringIO()
    write(build_document(report, options), stream, validate=False)
    return (stream.getvalue().rstrip("\n") + "\n").encode("utf-8")
