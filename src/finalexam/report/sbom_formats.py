"""SBOM output formats. The SBOM libraries are imported on first use: they take seconds to
load, and most runs write no SBOM."""

from __future__ import annotations

from finalexam.model import Report
from finalexam.report.base import RenderOptions


class CycloneDxJsonReporter:
    name = "cyclonedx-json"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "CycloneDX 1.6 SBOM (JSON)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        from cyclonedx.schema import OutputFormat

        from finalexam.report.cyclonedx import render_bom

        return render_bom(report, options, OutputFormat.JSON)


class CycloneDxXmlReporter:
    name = "cyclonedx-xml"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "CycloneDX 1.6 SBOM (XML)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        from cyclonedx.schema import OutputFormat

        from finalexam.report.cyclonedx import render_bom

        return render_bom(report, options, OutputFormat.XML)


class SpdxJsonReporter:
    name = "spdx-json"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "SPDX 2.3 SBOM (JSON)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        from spdx_tools.spdx.writer.json import json_writer

        from finalexam.report.spdx import render_document

        return render_document(report, options, json_writer.write_document_to_stream)


class SpdxTagValueReporter:
    name = "spdx-tag"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "SPDX 2.3 SBOM (tag-value)"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        from spdx_tools.spdx.writer.tagvalue import tagvalue_writer

        from finalexam.report.spdx import render_document

        return render_document(report, options, tagvalue_writer.write_document_to_stream)
