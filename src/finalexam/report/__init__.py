"""Report renderers, registered here explicitly by format name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from finalexam.model import PluginStatus, Report
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


def with_reporters(report: Report, formats: Iterable[str]) -> Report:
    """The report as the reporters of ``formats`` write it: each listed among its plug-ins with
    its version (a report rendered again lists the reporters of that rendering)."""
    plugins = [p for p in report.plugins if p.kind != "reporter"]
    plugins += [
        PluginStatus(name, "reporter", "ok", None, REPORTERS[name].version)
        for name in sorted(set(formats))
    ]
    return replace(report, plugins=tuple(sorted(plugins, key=lambda p: (p.kind, p.name))))
