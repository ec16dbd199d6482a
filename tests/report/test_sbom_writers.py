from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.tagvalue import tagvalue_parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from builders import write, zip_bytes
from catalog_helpers import exam
from finalexam.model import Report
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions
from finalexam.report.document import to_document
from schema import assert_valid_report

SBOM_FORMATS = ("cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag")


def pom(group: str, artifact: str, version: str) -> str:
    return f"groupId={group}\nartifactId={artifact}\nversion={version}\n"


@pytest.fixture(scope="module")
def war_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    jar = zip_bytes(
        {
            "META-INF/maven/com.acme/core/pom.properties": pom("com.acme", "core", "3.1.0"),
            "META-INF/maven/org.slf4j/slf4j-api/pom.properties": pom(
                "org.slf4j", "slf4j-api", "2.0.9"
            ),
        }
    )
    wheel = zip_bytes(
        {
            "tool/_vendor/vendor.txt": "six==1.16.0\n",
            "tool-1.0.dist-info/METADATA": "Name: tool\nVersion: 1.0\nLicense: MIT OR Apache-2.0\n"
            "Requires-Dist: six\nMaintainer: Tool Team <team@example.org>\n",
            "tool-1.0.dist-info/RECORD": "tool/_vendor/vendor.txt,,\n",
        }
    )
    war = zip_bytes(
        {
            "META-INF/maven/com.acme/shop/pom.properties": pom("com.acme", "shop", "1.0"),
            "WEB-INF/lib/core-3.1.0.jar": jar,
            "WEB-INF/tools/tool-1.0-py3-none-any.whl": wheel,
        }
    )
    target = write(tmp_path_factory.mktemp("sbom") / "shop-1.0.war", war)
    return exam(target)


def render(report: Report, name: str, timestamp: str | None = None) -> str:
    return REPORTERS[name].render(report, RenderOptions(timestamp=timestamp)).decode()


def test_cyclonedx_json_validates_and_nests(war_report: Report) -> None:
    text = render(war_report, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert bom["serialNumber"].startswith("urn:uuid:")
    root = bom["metadata"]["component"]
    assert root["hashes"][0]["content"] == war_report.artifact.sha256
    # The war's own pom.properties names the artifact itself.
    assert root["purl"] == "pkg:maven/com.acme/shop@1.0" and root["version"] == "1.0"
    assert bom["metadata"]["tools"]["components"][0]["name"] == "finalexam"
    top = {c["purl"]: c for c in bom["components"]}
    # war -> jar (core) -> shaded slf4j; the war's own component holds its jars.
    shop = top["pkg:maven/com.acme/shop@1.0"]
    core = next(c for c in shop["components"] if c["name"] == "core")
    assert core["group"] == "com.acme"
    assert [c["purl"] for c in core["components"]] == ["pkg:maven/org.slf4j/slf4j-api@2.0.9"]
    tool = next(c for c in shop["components"] if c["name"] == "tool")
    assert [c["purl"] for c in tool["components"]] == ["pkg:pypi/six@1.16.0"]
    assert tool["licenses"] == [{"expression": "MIT OR Apache-2.0"}]
    assert tool["supplier"]["name"] == "Tool Team"
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    six_ref = tool["components"][0]["bom-ref"]
    assert deps[tool["bom-ref"]] == [six_ref]  # Requires-Dist: six, resolved to the component
    assert deps["artifact"] == [shop["bom-ref"]]


def test_cyclonedx_xml_validates(war_report: Report) -> None:
    pytest.importorskip("lxml")
    from cyclonedx.validation.xml import XmlValidator

    text = render(war_report, "cyclonedx-xml")
    assert XmlValidator(SchemaVersion.V1_6).validate_str(text) is None
    root = ET.fromstring(text)
    assert root.tag == "{http://cyclonedx.org/schema/bom/1.6}bom"


def test_spdx_json_and_tag_value_validate(war_report: Report) -> None:
    for name, parse in (
        ("spdx-json", lambda text: JsonLikeDictParser().parse(json.loads(text))),
        ("spdx-tag", lambda text: tagvalue_parser.Parser().parse(text)),
    ):
        text = render(war_report, name)
        document = parse(text)
        messages = validate_full_spdx_document(document)
        assert messages == [], (name, messages[:3])
        kinds = {(r.relationship_type.name, r.spdx_element_id) for r in document.relationships}
        assert ("DESCRIBES", "SPDXRef-DOCUMENT") in kinds
        by_name = {p.name: p.spdx_id for p in document.packages}
        contains = {
            (r.spdx_element_id, r.related_spdx_element_id)
            for r in document.relationships
            if r.relationship_type.name == "CONTAINS"
        }
        assert ("SPDXRef-Artifact", by_name["com.acme:shop"]) in contains
        assert (by_name["com.acme:shop"], by_name["com.acme:core"]) in contains
        assert (by_name["com.acme:core"], by_name["org.slf4j:slf4j-api"]) in contains
        depends = {
            (r.spdx_element_id, r.related_spdx_element_id)
            for r in document.relationships
            if r.relationship_type.name == "DEPENDS_ON"
        }
        assert depends == {(by_name["tool"], by_name["six"])}


def test_ntia_minimum_elements(war_report: Report) -> None:
    bom = json.loads(render(war_report, "cyclonedx-json", "2024-05-01T12:00:00Z"))
    assert bom["metadata"]["timestamp"] == "2024-05-01T12:00:00+00:00"
    assert bom["metadata"]["tools"]["components"]  # author of the SBOM data

    def walk(components: list[dict[str, object]]) -> list[dict[str, object]]:
        out = []
        for component in components:
            out.append(component)
            out.extend(walk(component.get("components", [])))  # type: ignore[arg-type]
        return out

    for component in walk(bom["components"]):
        assert component["name"] and component["version"] and component["bom-ref"]
        assert component.get("purl")
    assert len(bom["dependencies"]) == len(walk(bom["components"])) + 1


@pytest.mark.parametrize("name", SBOM_FORMATS)
def test_deterministic_and_timestamp(
    war_report: Report, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = render(war_report, name)
    assert render(war_report, name) == first
    assert "1970-01-01T00:00:00" in first  # no clock: a fixed time unless one is asked for
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = render(war_report, name)
    assert "2023-11-14T22:13:20" in dated
    assert render(war_report, name) == dated


def test_same_artifact_rescanned_gives_identical_bytes(war_report: Report, tmp_path: Path) -> None:
    again = exam(Path(war_report.artifact.path))
    for name in SBOM_FORMATS:
        assert render(again, name) == render(war_report, name)


def test_empty_report_still_valid(tmp_path: Path) -> None:
    report = exam(write(tmp_path / "empty.zip", zip_bytes({"README": "nothing here\n"})))
    text = render(report, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    document = JsonLikeDictParser().parse(json.loads(render(report, "spdx-json")))
    assert validate_full_spdx_document(document) == []
    assert io.StringIO(render(report, "spdx-tag")).readline().startswith("## Document")


def test_odd_artifact_names_and_the_json_report(tmp_path: Path) -> None:
    egg = zip_bytes({"EGG-INFO/PKG-INFO": "Name: old\nVersion: 0.1\n"})
    report = exam(write(tmp_path / "my app (final) #1.egg", egg))
    assert [c.purl for c in report.components] == ["pkg:pypi/old@0.1"]
    document = JsonLikeDictParser().parse(json.loads(render(report, "spdx-json")))
    assert validate_full_spdx_document(document) == []
    assert_valid_report(to_document(report, RenderOptions()))


def test_pinned_requirement_picks_that_version() -> None:
    from finalexam.model import Artifact, Component, Dependency
    from finalexam.report.sbom import build_graph

    guava = [
        Component(name="guava", version=v, ecosystem="Maven", purl=f"pkg:maven/g/guava@{v}")
        for v in ("31.1-jre", "32.1.2-jre")
    ]
    app = Component(
        name="app",
        version="1",
        ecosystem="Maven",
        purl="pkg:maven/g/app@1",
        dependencies=(Dependency("pkg:maven/g/guava", requirement="32.1.2-jre"),),
    )
    report = Report(
        artifact=Artifact(name="a", path="a", sha256="0" * 64, size=1, kind="zip"),
        tool_version="0",
        components=(app, *guava),
    )
    graph = build_graph(report)
    assert graph.depends_on[app.id] == [guava[1].id]


def test_container_rootfs_with_several_ecosystems(tmp_path: Path) -> None:
    from builders import tar_bytes

    rootfs = tar_bytes(
        {
            "etc/os-release": "ID=debian\nVERSION_ID=12\n",
            "var/lib/dpkg/status": "Package: python3.11\nStatus: install ok installed\n"
            "Version: 3.11.2-6\nArchitecture: amd64\n",
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA": "Name: six\n"
            "Version: 1.16.0\n",
            "srv/app/node_modules/ms/package.json": '{"name": "ms", "version": "2.1.3"}',
            "opt/conda/conda-meta/zlib-1.3-0.json": '{"name": "zlib", "version": "1.3"}',
        }
    )
    report = exam(write(tmp_path / "rootfs.tar", rootfs))
    assert {c.ecosystem for c in report.components} == {"Debian:12", "PyPI", "npm", "conda"}
    text = render(report, "cyclonedx-json")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert len(json.loads(text)["components"]) == 4
    document = JsonLikeDictParser().parse(json.loads(render(report, "spdx-json")))
    assert validate_full_spdx_document(document) == []
