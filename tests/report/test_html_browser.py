"""The HTML report in a real headless Chromium: loads clean, filters work, screenshot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from finalexam.config import Config
from finalexam.model import Severity
from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions
from sample_findings import FINDINGS, build_report

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="Debian chromium not installed",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
            args=ARGS,
        )
        yield launched
        launched.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "request",
        lambda request: (
            problems.append(f"request: {request.url}")
            if not request.url.startswith(("file:", "data:"))
            else None
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready=true]")
    return page, problems


def visible_fingerprints(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#findings tbody tr.finding:not([hidden])",
            "rows => rows.map(r => r.dataset.fingerprint)",
        )
    )


def test_html_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    waivers = tmp_path / "w.toml"
    waivers.write_text('[[waivers]]\nrule_id = "secrets.*"\nreason = "revoked"\n')
    report = build_report(cfg=Config(waivers=(str(waivers),), timestamp="2026-06-01"))
    html = tmp_path / "report.html"
    html.write_bytes(REPORTERS["html"].render(report, RenderOptions()))
    page, problems = open_page(browser, html)

    assert page.text_content("#verdict") == "FAILED"
    assert len(visible_fingerprints(page)) == len(FINDINGS)
    assert page.locator("#summary svg").count() == 3
    assert page.locator("#components tbody tr").count() == 5

    page.select_option("#filter-severity", "critical")
    critical = {f.fingerprint for f in FINDINGS if f.severity is Severity.CRITICAL}
    assert set(visible_fingerprints(page)) == critical
    assert page.text_content("#shown-count") == str(len(critical))

    page.select_option("#filter-severity", "info")
    page.select_option("#filter-kind", "binary")
    assert len(visible_fingerprints(page)) == 3

    page.select_option("#filter-kind", "")
    page.fill("#filter-text", "helper.dll")
    (only,) = visible_fingerprints(page)
    assert only == next(f.fingerprint for f in FINDINGS if "helper.dll" in str(f.location))

    page.fill("#filter-text", "")
    page.uncheck("#filter-waived")
    assert len(visible_fingerprints(page)) == len(FINDINGS) - 1
    page.fill("#filter-text", "no such thing anywhere")
    assert page.is_visible("#no-match")
    page.fill("#filter-text", "")

    row = page.locator("#findings tr.finding", has_text="malicious.known-hash")
    row.locator("button.toggle").click()
    assert page.locator("#findings tr.evidence-row:not([hidden])").count() == 1
    assert (
        "malicious.known-hash found"
        in page.locator("#findings tr.evidence-row:not([hidden])").inner_text()
    )

    page.fill("#filter-components", "maven")
    assert page.text_content("#components-count") == "1"
    assert page.locator("#tree details").count() >= 2  # wheel and the nested jar

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert problems == []
    page.close()


def test_empty_report_page_loads_clean(browser: Any, tmp_path: Path) -> None:
    report = build_report([], [], cfg=Config(timestamp="2026-06-01"))
    html = tmp_path / "empty.html"
    html.write_bytes(REPORTERS["html"].render(report, RenderOptions()))
    page, problems = open_page(browser, html)
    assert page.text_content("#verdict") == "PASSED"
    assert page.is_visible("text=No findings.")
    page.screenshot(path=str(tmp_path / "empty.png"))
    assert problems == []
    page.close()
