"""``-o cyclonedx-json`` / ``-o cyclonedx-xml``: CycloneDX 1.6 via cyclonedx-python-lib.

The artifact is ``metadata.component``; components found directly in it are the BOM's
top-level components, and what a nested archive holds is nested under that archive's
component. Depends-on edges go to ``dependencies``. Locations, confidence and method are in
each component's ``evidence``. Deterministic: bom-refs are component ids, the serial number
comes from the artifact hash, the timestamp from ``--timestamp`` / SOURCE_DATE_EPOCH.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from decimal import Decimal

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.dependency import Dependency as CdxDependency
from cyclonedx.model.license import License
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from packageurl import PackageURL

from finalexam.model import Component, Report
from finalexam.report.base import RenderOptions
from finalexam.report.sbom import (
    TOOL_NAME,
    SbomGraph,
    build_graph,
    confidence_score,
    primary_component,
    sbom_timestamp,
    serial_uuid,
    split_contact,
    technique,
)

ROOT_REF = "artifact"
_HASHES = {
    "SHA-1": HashAlgorithm.SHA_1,
    "SHA-256": HashAlgorithm.SHA_256,
    "SHA-384": HashAlgorithm.SHA_384,
    "SHA-512": HashAlgorithm.SHA_512,
    "MD5": HashAlgorithm.MD5,
}
_MAX_OCCURRENCES = 50  # a package copied into hundreds of places lists the first fifty


def _licenses(component: Component) -> list[License]:
    factory = LicenseFactory()
    if not component.licenses:
        return []
    if len(component.licenses) == 1:
        return [factory.make_from_string(component.licenses[0])]
    # Several declared licenses: one expression, as CycloneDX allows a single expression.
    expression = " AND ".join(f"({text})" for text in component.licenses)
    return [factory.make_with_expression(expression)]


def _hashes(pairs: tuple[tuple[str, str], ...]) -> list[HashType]:
    return [
        HashType(alg=_HASHES[alg], content=value)
        for alg, value in sorted(pairs)
        if alg in _HASHES and value
    ]


def _evidence(component: Component) -> ComponentEvidence:
    methods = [
        Method(
            technique=AnalysisTechnique(technique(found_by)),
            confidence=Decimal(str(confidence_score(component))),
            value=found_by,
        )
        for found_by in component.found_by
    ]
    identity = Identity(
        field=IdentityField.PURL if component.purl else IdentityField.NAME,
        confidence=Decimal(str(confidence_score(component))),
        concluded_value=component.purl or component.name,
        methods=methods,
    )
    # Explicit refs: the library orders occurrences by ref, and a generated one is random.
    occurrences = [
        Occurrence(bom_ref=f"{component.id}:{index:03d}", location=str(location))
        for index, location in enumerate(sorted(component.locations)[:_MAX_OCCURRENCES])
    ]
    return ComponentEvidence(identity=[identity], occurrences=occurrences)


def _supplier(text: str | None) -> OrganizationalEntity | None:
    if not text:
        return None
    name, email = split_contact(text)
    contacts = [OrganizationalContact(email=email)] if email else None
    return OrganizationalEntity(name=name, contacts=contacts)


def _component(component: Component, graph: SbomGraph) -> CdxComponent:
    group, name = None, component.name
    package_url = PackageURL.from_string(component.purl) if component.purl else None
    if package_url is not None and package_url.type == "maven" and package_url.namespace:
        group, name = package_url.namespace, package_url.name
    properties = [Property(name="finalexam:ecosystem", value=component.ecosystem)]
    properties += [Property(name="finalexam:found_by", value=f) for f in component.found_by]
    properties.append(Property(name="finalexam:confidence", value=component.confidence.value))
    if component.declared:
        properties.append(Property(name="finalexam:declared", value="true"))
    return CdxComponent(
        name=name,
        group=group,
        version=component.version,
        type=ComponentType.LIBRARY,
        bom_ref=component.id,
        supplier=_supplier(component.supplier),
        description=component.description,
        hashes=_hashes(component.hashes),
        licenses=_licenses(component),
        purl=package_url,
        cpe=component.cpe,
        properties=properties,
        evidence=_evidence(component),
        components=[_component(child, graph) for child in graph.children(component.id)],
    )


def build_bom(report: Report, options: RenderOptions) -> Bom:
    graph = build_graph(report)
    timestamp = datetime.fromisoformat(sbom_timestamp(options).replace("Z", "+00:00"))
    artifact = report.artifact
    tool = CdxComponent(name=TOOL_NAME, version=report.tool_version, type=ComponentType.APPLICATION)
    primary = primary_component(report)
    root_properties = [Property(name="finalexam:kind", value=artifact.kind)]
    if primary is not None:
        root_properties.append(Property(name="finalexam:primary-component", value=primary.id))
    root = CdxComponent(
        name=artifact.name,
        version=artifact.version or (primary.version if primary else None),
        type=ComponentType.APPLICATION,
        bom_ref=ROOT_REF,
        hashes=_hashes((("SHA-256", artifact.sha256),)),
        purl=PackageURL.from_string(primary.purl) if primary and primary.purl else None,
        supplier=_supplier(primary.supplier) if primary else None,
        properties=root_properties,
    )
    top = [_component(c, graph) for c in graph.children(None)]
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=root,
        timestamp=timestamp,
        properties=[Property(name="finalexam:artifact-sha256", value=artifact.sha256 or "")],
    )
    # Every component gets an entry (an empty one means "no known dependencies").
    depended = {target for targets in graph.depends_on.values() for target in targets}
    root_deps = [c.id for c in graph.children(None) if c.id not in depended]
    dependencies = [
        CdxDependency(
            ref=BomRef(ROOT_REF), dependencies=[CdxDependency(BomRef(r)) for r in root_deps]
        )
    ]
    for component in graph.components:
        targets = graph.depends_on.get(component.id, [])
        dependencies.append(
            CdxDependency(
                ref=BomRef(component.id), dependencies=[CdxDependency(BomRef(t)) for t in targets]
            )
        )
    return Bom(
        components=top,
        serial_number=serial_uuid(report),
        version=1,
        metadata=metadata,
        dependencies=dependencies,
    )


def render_bom(report: Report, options: RenderOptions, output_format: OutputFormat) -> bytes:
    bom = build_bom(report, options)
    outputter = make_outputter(bom, output_format, SchemaVersion.V1_6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library's advisory warnings are not for users
        text = outputter.output_as_string(indent=2)
    return (text.rstrip("\n") + "\n").encode("utf-8")
