"""``-o junit``: JUnit XML for CI dashboards: one test case per policy rule.

A block rule that caught findings fails; a warn rule that caught findings passes with the
findings in ``system-out``; ``exam.complete`` errors when the exam could not finish.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from finalexam.model import Report
from finalexam.report.base import RenderOptions, gaps_summary, issue_line
from finalexam.report.document import report_timestamp

_ILLEGAL = {c: None for c in range(32) if c not in (9, 10, 13)}


def _text(value: str) -> str:
    """XML 1.0 cannot carry most control characters."""
    return value.translate(_ILLEGAL)


def to_junit(report: Report, options: RenderOptions) -> ET.Element:
    verdict = report.verdict
    suite_name = f"finalexam policy {verdict.policy}: {report.artifact.name}"
    classname = f"finalexam.policy.{verdict.policy}"
    suite = ET.Element("testsuite", name=_text(suite_name))
    suite_properties = ET.SubElement(suite, "properties")
    ET.SubElement(suite_properties, "property", name="verdict", value=report.status.value.upper())
    failures = errors = 0
    by_rule: dict[str, list[str]] = {}
    for violation in verdict.violations:
        by_rule.setdefault(violation.rule, []).append(violation.message)
    warned: dict[str, list[str]] = {}
    for warning in verdict.warnings:
        rule, _, message = warning.partition(": ")
        warned.setdefault(rule, []).append(message)
    for check in verdict.checks:
        case = ET.SubElement(
            suite, "testcase", classname=_text(classname), name=_text(check.rule), time="0"
        )
        properties = ET.SubElement(case, "properties")
        for key, value in (
            ("description", check.description),
            ("action", check.action),
            ("matched", str(check.matched)),
            ("waived", str(check.waived)),
        ):
            ET.SubElement(properties, "property", name=key, value=_text(value))
        if not check.passed:
            failures += 1
            messages = by_rule.get(check.rule, [])
            failure = ET.SubElement(
                case,
                "failure",
                message=_text(f"{check.matched} finding(s) blocked by {check.rule}"),
                type="policy-violation",
            )
            failure.text = _text("\n".join(messages))
        elif check.rule in warned:
            ET.SubElement(case, "system-out").text = _text("\n".join(warned[check.rule]))
    complete = ET.SubElement(
        suite, "testcase", classname="finalexam.exam", name="exam.complete", time="0"
    )
    if not report.complete:
        errors += 1
        error = ET.SubElement(
            complete,
            "error",
            message=_text(f"the exam is INCOMPLETE: {gaps_summary(report)}"),
            type="exam-incomplete",
        )
        error.text = _text("\n".join(issue_line(i) for i in report.gaps))
    others = [i for i in report.issues if i not in report.gaps]
    if others:
        ET.SubElement(complete, "system-out").text = _text("\n".join(issue_line(i) for i in others))
    rule_ids = {check.rule for check in verdict.checks}
    other = [w for w in verdict.warnings if w.partition(": ")[0] not in rule_ids]
    if other:
        ET.SubElement(suite, "system-err").text = _text("\n".join(other))
    suite.set("tests", str(len(verdict.checks) + 1))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", "0")
    timestamp = report_timestamp(options)
    if timestamp:
        suite.set("timestamp", timestamp)
    root = ET.Element(
        "testsuites",
        name="finalexam",
        tests=suite.get("tests", "0"),
        failures=str(failures),
        errors=str(errors),
        time="0",
    )
    root.append(suite)
    return root


class JunitReporter:
    name = "junit"
    version = "1.0"
    requires: tuple[str, ...] = ()
    description = "JUnit XML, one test case per policy rule"

    def render(self, report: Report, options: RenderOptions) -> bytes:
        root = to_junit(report, options)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
