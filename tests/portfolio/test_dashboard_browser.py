"""The dashboard in a real headless Chromium: navigation, search, and a waiver added in the
page that changes the release's verdict."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from finalexam.monitor.recheck import run_monitor
from finalexam.store import Store
from finalexam.vuln.store import VulnDatabase
from finalexam.web.app import create_app
from finalexam.web.security import Security
from portfolio_support import LOG4SHELL, RELEASE_POLICY, build_db, make_report, serve, shared_record

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
TODAY = date(2026, 1, 1)

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


def test_navigate_search_and_waive_in_the_browser(browser: Any, tmp_path: Path) -> None:
    log4j = ("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1")
    db = build_db(tmp_path / "osv.sqlite3", [shared_record("Maven", LOG4SHELL)])
    with Store(str(tmp_path / "p.sqlite3")) as store:
        store.add_exam(
            make_report("shop", "1.4.3", [log4j, ("npm", "left-pad", "1.3.0")]),
            "shop",
            "1.4.3",
            "built",
            RELEASE_POLICY,
        )
        store.add_exam(
            make_report("agent", "3.1", [log4j]), "agent", "3.1", "received", RELEASE_POLICY
        )
        with VulnDatabase(db) as database:
            run_monitor(store, database, TODAY)
        app = create_app(store, Security(require_token=False), str(db), today=lambda: TODAY)
        with serve(app) as base:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(base + "/")
            rows = page.locator("#releases tr.release")
            assert rows.count() == 2
            assert page.locator("#releases tr.release[data-status=failed]").count() == 2
            assert page.locator("svg.chart rect").count() >= 1  # the trend, drawn server-side

            page.locator("#releases").get_by_role("link", name="agent", exact=True).click()
            page.wait_for_url("**/releases/*")
            assert page.locator("h1 .status").inner_text() == "FAILED"
            assert LOG4SHELL in page.locator("#exposures").inner_text()

            page.fill("#waive input[name=rule_id]", "CVE-2021-44228")
            page.fill("#waive input[name=reason]", "JNDI lookups are disabled in this product")
            page.fill("#waive input[name=expires]", "2099-12-31")
            page.click("#waive button[type=submit]")
            page.wait_for_load_state()
            assert "1 verdict change" in page.locator(".message").inner_text()
            assert page.locator("h1 .status").inner_text() == "PASSED"
            assert "(waived)" in page.locator("#exposures").inner_text()
            assert "2099-12-31" in page.locator("#waivers").inner_text()
            page.screenshot(path=str(tmp_path / "release.png"), full_page=True)

            page.get_by_role("link", name="Overview", exact=True).click()
            statuses = page.locator("#releases tr.release").evaluate_all(
                "rows => rows.map(r => [r.cells[0].innerText, r.dataset.status])"
            )
            assert sorted(statuses) == [["agent", "passed"], ["shop", "failed"]]

            page.fill("nav input[name=q]", "log4j")
            page.press("nav input[name=q]", "Enter")
            page.wait_for_url("**/components?q=log4j")
            results = page.locator("#results tbody tr")
            assert results.count() == 2
            page.locator("#results").get_by_role("link", name="shop 1.4.3").click()
            page.wait_for_url("**/releases/1")

            page.goto(f"{base}/advisories/{LOG4SHELL}")
            assert page.locator("#affected tbody tr").count() == 2
            assert problems == []
            page.close()
