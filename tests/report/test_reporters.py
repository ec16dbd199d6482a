from __future__ import annotations

import json
import pkgutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import finalexam.report as report_package
from finalexam.config import Config
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions
from finalexam.report.markdown import cell
from sample_findings import FINDINGS, build_report, loc
from schema import assert_valid_report

STAMP = "2026-06-01T00:00:00Z"
SARIF_SCHEMA = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "schemas"
    / "sarif-schema-2.1.0.json"
)
OWNED = ("json", "table", "sarif", "html", "markdown", "junit")


@pytest.fixture(scope="module")
def waiver_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("w") / "waivers.toml"
    path.write_text(
        '[[waivers]]\nrule_id = "secrets.*"\nreason = "revoked test key | see <ticket>"\n'
        'approved_by = "sec-team"\nexpires = 2027-01-31\n'
    )
    return path


@pytest.fixture(scope="module")
def report(waiver_file: Path) -> Any:
    return build_report(cfg=Config(waivers=(str(waiver_file),), timestamp=STAMP))


def render(report: Any, name: str, **options: Any) -> bytes:
    return REPORTERS[name].render(report, RenderOptions(**options))


def test_every_reporter_class_is_registered() -> None:
    import importlib
    import inspect

    registered = {type(r) for r in REPORTERS.values()}
    for info in pkgutil.iter_modules(report_package.__path__):
        module = importlib.import_module(f"finalexam.report.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            is_reporter = callable(getattr(obj, "render", None)) and isinstance(
                getattr(obj, "name", None), str
            )
            if is_reporter and obj.__module__ == module.__name__:
                assert obj in registered, f"{obj.__name__} is not in REPORTERS"
    assert set(OWNED) <= set(REPORTERS)


def test_json_document_carries_checks_and_waivers(report: Any) -> None:
    document = json.loads(render(report, "json"))
    assert_valid_report(document)
    checks = {c["rule"]: c for c in document["verdict"]["checks"]}
    assert checks["secrets"] == {
        "rule": "secrets",
        "action": "block",
        "description": "a secret of medium severity or more in shipped code or configuration "
        "(medium or high confidence)",
        "matched": 0,
        "waived": 1,
        "passed": True,
    }
    assert not checks["malicious"]["passed"]
    (waived,) = document["suppressed"]
    assert waived["waiver"]["approved_by"] == "sec-team"
    assert waived["waiver"]["expires"] == "2027-01-31"


@cache
def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


def test_sarif_validates_against_the_official_schema(report: Any) -> None:
    if not SARIF_SCHEMA.is_file():
        pytest.skip("shared SARIF schema not available")
    log = json.loads(render(report, "sarif"))
    errors = sorted(sarif_validator().iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_rules_levels_locations_and_suppressions(report: Any) -> None:
    (run,) = json.loads(render(report, "sarif"))["runs"]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert len(results) == len(FINDINGS)
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        assert physical["artifactLocation"]["uriBaseId"] == "ARTIFACT_ROOT"
        artifact = run["artifacts"][physical["artifactLocation"]["index"]]
        assert artifact["location"]["uri"] == physical["artifactLocation"]["uri"]
    by_rule = {r["ruleId"]: r for r in results}
    dll = by_rule["binary.unsigned-windows-executable"]
    uri = dll["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "app-1.0-py3-none-any.whl!/lib/app.jar!/native/win/helper.dll"
    # the DLL's artifact chains to the jar, the jar to the wheel
    chain = []
    index: int | None = uri["index"]
    while index is not None:
        chain.append(run["artifacts"][index]["location"]["uri"])
        index = run["artifacts"][index].get("parentIndex")
    assert chain == [
        "app-1.0-py3-none-any.whl!/lib/app.jar!/native/win/helper.dll",
        "app-1.0-py3-none-any.whl!/lib/app.jar",
        "app-1.0-py3-none-any.whl",
    ]
    assert by_rule["GHSA-7rjr-3q55-vv33"]["level"] == "error"
    assert by_rule["behavior.base64-exec"]["level"] == "warning"
    assert by_rule["capability.network-client"]["level"] == "note"
    assert by_rule["secrets.aws-access-key"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3,
        "snippet": {"text": "AWS_KEY = 'AKIA************MPLE'"},
    }
    (suppression,) = by_rule["secrets.aws-access-key"]["suppressions"]
    assert suppression["status"] == "accepted"
    assert suppression["justification"] == "revoked test key | see <ticket>"
    assert "suppressions" not in by_rule["malicious.known-hash"]
    assert by_rule["malicious.known-hash"]["properties"]["policy"] == "violation"
    rule = rules[by_rule["GHSA-7rjr-3q55-vv33"]["ruleIndex"]]
    assert rule["properties"]["security-severity"] == "9.5"
    assert "security" in rule["properties"]["tags"]
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"] == (
        "broken.zip: not a zip file"
    )


def test_sarif_fingerprints_are_stable_and_content_derived(report: Any, waiver_file: Path) -> None:
    first = json.loads(render(report, "sarif"))["runs"][0]["results"]
    again = build_report(
        list(reversed(FINDINGS)),
        cfg=Config(waivers=(str(waiver_file),), timestamp="2026-07-01"),
    )
    second = json.loads(render(again, "sarif"))["runs"][0]["results"]
    fingerprints = [r["partialFingerprints"]["finalexam/v1"] for r in first]
    assert fingerprints == [r["partialFingerprints"]["finalexam/v1"] for r in second]
    assert len(set(fingerprints)) == len(fingerprints)
    moved = [
        replace(f, location=loc("elsewhere.py")) if i == 0 else f for i, f in enumerate(FINDINGS)
    ]
    third = json.loads(render(build_report(moved), "sarif"))["runs"][0]["results"]
    assert {r["partialFingerprints"]["finalexam/v1"] for r in third} != set(fingerprints)


def test_markdown_comment(report: Any) -> None:
    text = render(report, "markdown").decode()
    assert text.startswith("## ❌ finalexam: app-1.0-py3-none-any.whl FAILED\n")
    assert "**malicious**" in text
    assert "| behavior | 0 | 1 | 1 | 0 | 0 | 2 |" in text
    assert "revoked test key \\| see &lt;ticket&gt;" in text  # table-safe, no raw HTML
    assert cell("a|b\nc <script>") == "a\\|b c &lt;script&gt;"


def test_junit_one_test_case_per_policy_rule(report: Any) -> None:
    root = ET.fromstring(render(report, "junit"))
    (suite,) = root.findall("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == [c.rule for c in report.verdict.checks] + ["exam.complete"]
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {c.rule for c in report.verdict.checks if not c.passed}
    assert "secrets" not in failed  # waived
    waived = cases["secrets"].find("properties/property[@name='waived']")
    assert waived is not None and waived.get("value") == "1"
    assert suite.get("failures") == str(len(failed)) == root.get("failures")
    assert suite.get("tests") == str(len(cases))
    malicious = cases["malicious"].find("failure")
    assert malicious is not None and "malicious.known-hash" in (malicious.text or "")
    unfixed = cases["unfixed-vulnerability"].find("system-out")
    assert unfixed is not None and "GHSA-7rjr-3q55-vv33" in (unfixed.text or "")
    assert suite.find("properties/property[@name='verdict']").get("value") == "FAILED"  # type: ignore[union-attr]
    incomplete = ET.fromstring(
        render(replace(report, complete=False, allowed_incomplete=()), "junit")
    )
    assert incomplete.get("errors") == "1"
    error = incomplete.find("testsuite/testcase[@name='exam.complete']/error")
    assert error is not None and "[corrupt] app-1.0-py3-none-any.whl!/broken.zip" in (
        error.text or ""
    )


def test_table_summary(report: Any) -> None:
    text = render(report, "table", width=140).decode()
    assert "FAILED (release)" in text
    assert "behavior" in text and "critical" in text
    assert "1 finding(s) waived" in text
    assert "malicious: critical malicious malicious.known-hash" in text


def test_reports_are_byte_identical_for_the_same_input(waiver_file: Path) -> None:
    cfg = Config(waivers=(str(waiver_file),), timestamp=STAMP)
    first = build_report(cfg=cfg)
    second = build_report(list(reversed(FINDINGS)), cfg=cfg)
    for name in OWNED:
        assert render(first, name) == render(second, name), name


def test_no_wall_clock_without_a_timestamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    report = build_report()
    for name in ("sarif", "html", "markdown", "junit", "table"):
        data = render(report, name)
        assert b"2026-" not in data.replace(b"2026-06-01", b""), name
        assert render(report, name) == data
    stamped = render(report, "sarif", timestamp=STAMP)
    assert json.loads(stamped)["runs"][0]["invocations"][0]["endTimeUtc"] == STAMP


def test_sarif_fits_github_code_scanning_limits(
    report: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (run,) = json.loads(render(report, "sarif"))["runs"]
    for rule in run["tool"]["driver"]["rules"]:
        assert len(rule["properties"]["tags"]) <= 20
        assert rule["shortDescription"]["text"] and len(rule["id"]) <= 255
    for result in run["results"]:
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith(("/", "file:")) and " " not in uri
    import finalexam.report.sarif as sarif_module

    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 4)
    (capped,) = json.loads(render(report, "sarif"))["runs"]
    assert len(capped["results"]) == 4
    assert [r["level"] for r in capped["results"]] == ["error"] * 4  # most severe kept
    assert capped["properties"]["truncated"] == {"results": len(FINDINGS), "kept": 4}


def test_html_caps_rows_for_people(report: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import finalexam.report.html as html_module

    monkeypatch.setattr(html_module, "MAX_FINDING_ROWS", 3)
    page = render(report, "html").decode()
    assert page.count('<tr class="finding ') == 3
    assert f"Showing the 3 most severe of {len(FINDINGS)} findings" in page


def test_markdown_fits_a_pull_request_comment() -> None:
    from finalexam.model import FindingKind, Severity
    from sample_findings import finding

    many = [
        finding(
            FindingKind.BEHAVIOR,
            f"behavior.rule-{i % 37}",
            list(Severity)[i % 5],
            loc(f"pkg/{'deep/' * 20}module_{i}.py"),
            title="A rather long title that explains the behaviour " * 3,
        )
        for i in range(3000)
    ]
    text = render(build_report(many), "markdown").decode()
    assert len(text) < 65_536  # GitHub's comment limit
    assert "… 2980 more in the full report." in text


def test_findings_without_a_location_point_at_their_component_or_artifact() -> None:
    from finalexam.model import FindingKind, Severity
    from sample_findings import COMPONENTS, finding

    orphan = [
        finding(
            FindingKind.VULNERABILITY,
            "GHSA-0000-1111-2222",
            Severity.HIGH,
            None,
            component=COMPONENTS[0].purl,
        ),
        finding(FindingKind.INTEGRITY, "integrity.signature-missing", Severity.LOW, None),
    ]
    report = build_report(orphan)
    (run,) = json.loads(render(report, "sarif"))["runs"]
    uris = {
        r["ruleId"]: r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in run["results"]
    }
    assert uris == {
        "GHSA-0000-1111-2222": str(COMPONENTS[0].locations[0]),
        "integrity.signature-missing": "app-1.0-py3-none-any.whl",
    }
    for name in OWNED:
        assert render(report, name)


def test_hostile_finding_text_stays_text() -> None:
    from finalexam.model import Evidence, FindingKind, Severity
    from sample_findings import finding

    evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>|`"
    hostile = [
        finding(
            FindingKind.BEHAVIOR,
            "behavior.x",
            Severity.HIGH,
            loc(f'app/"{evil}.py'),
            title=evil,
            message=evil,
            evidence=Evidence(snippet=evil, details={"note": evil}),
        )
    ]
    report = build_report(hostile)
    page = render(report, "html").decode()
    assert "<script>alert" not in page and "<img" not in page
    assert page.count("<script>") == 1  # the report's own, pinned by hash
    markdown = render(report, "markdown").decode()
    assert "<script>" not in markdown and "<img" not in markdown
    root = ET.fromstring(render(report, "junit"))
    assert root.find("testsuite") is not None
    assert json.loads(render(report, "sarif"))["runs"][0]["results"][0]["message"][
        "text"
    ].startswith(evil)
