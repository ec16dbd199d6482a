"""Report renderers, registered here explicitly by format name."""

from __future__ import annotations

from finalexam.report.base import Reporter
from finalexam.report.html import HtmlReporter
from finalexam.report.json import JsonReporter
from finalexam.report.junit import JunitReporter
from finalexam.report.markdown import MarkdownReporter
from finalexam.report.sarif import SarifReporter
from finalexam.report.sbom_formats import (
    CycloneDxJsonReporter,
    CycloneDxXmlReporter,
    SpdxJsonReporter,
    SpdxTagValueReporter,
)
from finalexam.report.table import TableReporter

REPORTERS: dict[str, Reporter] = {
    reporter.name: reporter
    for reporter in (
        JsonReporter(),
        TableReporter(),
        SarifReporter(),
        HtmlReporter(),
        MarkdownReporter(),
        JunitReporter(),
        CycloneDxJsonReporter(),
        CycloneDxXmlReporter(),
        SpdxJsonReporter(),
        SpdxTagValueReporter(),
    )
}
