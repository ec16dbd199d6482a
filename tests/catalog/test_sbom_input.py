"""CycloneDX (JSON, XML) and SPDX (JSON, tag-value) documents read into components."""

from __future__ import annotations

import json
from pathlib import Path

from finalexam.catalog.sbom_input import read_sbom
from finalexam.model import Location

WHERE = Location(("sbom",))

CDX_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1">
  <components>
    <component type="library">
      <group>org.apache.logging.log4j</group>
      <name>log4j-core</name>
      <version>2.14.1</version>
      <licenses><license><id>Apache-2.0</id></license></licenses>
      <purl>pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1</purl>
      <components>
        <component type="library"><name>inner</name><version>1.0</version></component>
      </components>
    </component>
  </components>
</bom>
"""

SPDX_TV = """SPDXVersion: SPDX-2.3
DataLicense: CC0-1.0
SPDXID: SPDXRef-DOCUMENT
DocumentName: app

PackageName: lodash
SPDXID: SPDXRef-Package-lodash
PackageVersion: 4.17.20
PackageLicenseConcluded: MIT
ExternalRef: PACKAGE-MANAGER purl pkg:npm/lodash@4.17.20

PackageName: no-purl
PackageVersion: 1.0
"""


def test_cyclonedx_json_nested_components() -> None:
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "components": [
            {
                "type": "library",
                "name": "requests",
                "version": "2.19.1",
                "purl": "pkg:pypi/requests@2.19.1",
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "hashes": [{"alg": "SHA-256", "content": "ab" * 32}],
                "components": [
                    {
                        "type": "library",
                        "name": "idna",
                        "version": "2.7",
                        "purl": "pkg:pypi/idna@2.7",
                    }
                ],
            },
            {"type": "library", "group": "com.example", "name": "lib", "version": "1"},
        ],
    }
    components = read_sbom(json.dumps(document).encode(), WHERE)
    assert components is not None
    by_name = {c.name: c for c in components}
    assert set(by_name) == {"requests", "idna", "com.example:lib"}
    assert by_name["requests"].ecosystem == "PyPI"
    assert by_name["requests"].licenses == ("Apache-2.0",)
    assert by_name["requests"].hashes == (("sha256", "ab" * 32),)
    assert by_name["com.example:lib"].ecosystem == "generic"
    assert by_name["idna"].locations == (WHERE,) and by_name["idna"].found_by == ("sbom-input",)


def test_cyclonedx_xml() -> None:
    components = read_sbom(CDX_XML, WHERE)
    assert components is not None
    by_name = {c.name: c for c in components}
    assert by_name["log4j-core"].purl == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    assert by_name["log4j-core"].ecosystem == "Maven"
    assert by_name["log4j-core"].licenses == ("Apache-2.0",)
    assert by_name["inner"].version == "1.0"


def test_spdx_json() -> None:
    document = {
        "spdxVersion": "SPDX-2.3",
        "packages": [
            {
                "name": "golang.org/x/text",
                "versionInfo": "v0.3.7",
                "licenseConcluded": "BSD-3-Clause",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:golang/golang.org/x/text@v0.3.7",
                    }
                ],
            },
            {"name": "thing", "versionInfo": "NOASSERTION", "licenseConcluded": "NOASSERTION"},
        ],
    }
    components = read_sbom(json.dumps(document).encode(), WHERE)
    assert components is not None
    text = next(c for c in components if c.name == "golang.org/x/text")
    assert (text.ecosystem, text.version, text.licenses) == ("Go", "v0.3.7", ("BSD-3-Clause",))


def test_spdx_tag_value() -> None:
    components = read_sbom(SPDX_TV.encode(), WHERE)
    assert components is not None
    assert [(c.name, c.version, c.purl) for c in components] == [
        ("lodash", "4.17.20", "pkg:npm/lodash@4.17.20"),
        ("no-purl", "1.0", None),
    ]


def test_other_documents_are_not_sboms() -> None:
    assert read_sbom(b'{"name": "package.json"}', WHERE) is None
    assert read_sbom(b"<project></project>", WHERE) is None
    assert read_sbom(b"plain text", WHERE) is None
    assert read_sbom(b"{broken", WHERE) is None


def test_exam_reads_sbom_target_and_named_sboms_inside_archives(tmp_path: Path) -> None:
    from builders import write, zip_bytes
    from finalexam.config import Config
    from finalexam.exam import run_exam

    bom = json.dumps(
        {
            "bomFormat": "CycloneDX",
            "components": [
                {"name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"}
            ],
        }
    )
    config = Config(db=str(tmp_path / "no.sqlite3"))
    direct = run_exam(write(tmp_path / "x.json", bom.encode()), config)
    assert [c.purl for c in direct.components] == ["pkg:npm/lodash@4.17.20"]
    nested = write(tmp_path / "a.zip", zip_bytes({"meta/bom.json": bom, "other.json": bom}))
    report = run_exam(nested, config)
    (component,) = report.components
    assert [str(loc) for loc in component.locations] == ["a.zip!/meta/bom.json"]
    text = write(tmp_path / "notes.txt", b"just some text\n" * 1000)
    assert run_exam(text, config).components == ()
