"""The Log4Shell story, end to end: a release built here and an SBOM received from a vendor
are stored; the advisory appears in the DB; `monitor run` alerts once on each, the dashboard
shows both exposed, and a waiver with an expiry quiets one until it expires."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from finalexam.cli import main
from finalexam.store import Store
from finalexam.store.queries import find_release, get_release
from finalexam.web.app import create_app
from finalexam.web.security import Security
from portfolio_support import (
    LOG4J_PURL,
    LOG4SHELL,
    build_db,
    cyclonedx_sbom,
    log4j_jar,
    recording_server,
    serve,
    shared_record,
    smtp_server,
)


def status_of(url: str, product: str, version: str) -> str:
    with Store(url) as store, store.reading() as connection:
        return str(get_release(connection, find_release(connection, product, version))["status"])


def test_log4shell_story(
    tmp_path: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "osv.sqlite3"
    lodash = shared_record("npm", "GHSA-35jh-r3h4-6jhm")
    log4shell = shared_record("Maven", LOG4SHELL)
    build_db(db, [lodash])  # the DB before the advisory was published
    common = ["--db", str(db), "--store-url", store_url]

    war = log4j_jar(tmp_path / "shop-1.4.3.war")
    assert (
        main(
            [
                "scan",
                str(war),
                "--store",
                "--product",
                "shop",
                "--version",
                "1.4.3",
                *common,
                "-o",
                f"json={tmp_path / 'shop.json'}",
            ]
        )
        == 0
    )
    sbom = cyclonedx_sbom(
        tmp_path / "vendor-agent.cdx.json",
        [("log4j-core", "2.14.1", LOG4J_PURL), ("lodash", "4.17.21", "pkg:npm/lodash@4.17.21")],
    )
    assert (
        main(["portfolio", "add", str(sbom), "--product", "agent", "--version", "3.1", *common])
        == 0
    )
    assert status_of(store_url, "shop", "1.4.3") == "passed"
    assert status_of(store_url, "agent", "3.1") == "passed"

    build_db(db, [lodash, log4shell])  # `db update` brings the advisory
    sarif = tmp_path / "alerts.sarif"
    with recording_server() as hooks, smtp_server() as mail:
        channels = [
            "--alert",
            f"webhook={hooks.url}/hook",
            "--alert",
            f"slack={hooks.url}/slack",
            "--alert",
            f"teams={hooks.url}/teams",
            "--alert",
            f"email={mail.url()}",
            "--alert",
            f"file={sarif}",
        ]
        capsys.readouterr()
        assert main(["monitor", "run", *common, *channels]) == 0
        out = capsys.readouterr().out
        assert "2 new exposures" in out and "2 verdict changes" in out

        # one webhook call per alert: a new exposure and a verdict change for each release
        alerts = [a for body in hooks.bodies("/hook") for a in body["alerts"]]
        assert len(alerts) == 4
        new = sorted(
            (a["release"]["product"], a["advisory"], a["severity"], a["version"])
            for a in alerts
            if a["kind"] == "new-exposure"
        )
        assert new == [
            ("agent", LOG4SHELL, "critical", "2.14.1"),
            ("shop", LOG4SHELL, "critical", "2.14.1"),
        ]
        assert all("CVE-2021-44228" in a["aliases"] for a in alerts if a["kind"] == "new-exposure")
        changes = sorted(
            (a["release"]["product"], a["before"], a["after"])
            for a in alerts
            if a["kind"] == "verdict-change"
        )
        assert changes == [("agent", "passed", "failed"), ("shop", "passed", "failed")]
        assert len(hooks.bodies("/slack")) == 4 and len(hooks.bodies("/teams")) == 4
        assert len(mail.messages) == 4
        assert any(
            LOG4SHELL in m.get_content() and "shop 1.4.3" in m.get_content() for m in mail.messages
        )
        results = json.loads(sarif.read_text())["runs"][0]["results"]
        assert sorted(r["ruleId"] for r in results) == [
            LOG4SHELL,
            LOG4SHELL,
            "verdict-change",
            "verdict-change",
        ]

        # a second run with the same DB: nothing new, nothing sent again
        sent = len(hooks.requests)
        assert main(["monitor", "run", *common, *channels]) == 0
        assert len(hooks.requests) == sent and len(mail.messages) == 4
        assert "0 new exposures" in capsys.readouterr().out

    # the dashboard shows both releases exposed
    with Store(store_url) as store, serve(create_app(store, Security(False), str(db))) as base:
        page = urllib.request.urlopen(f"{base}/advisories/CVE-2021-44228").read().decode()
        assert ">shop 1.4.3</a>" in page and ">agent 3.1</a>" in page
        overview = urllib.request.urlopen(f"{base}/").read().decode()
        assert 'id="count-critical">2<' in overview
        api = json.loads(urllib.request.urlopen(f"{base}/api/v1/advisories/{LOG4SHELL}").read())
        assert sorted(i["release"]["product"] for i in api) == ["agent", "shop"]

    # a waiver with an expiry quiets the vendor agent (and only it)
    assert (
        main(
            [
                "portfolio",
                "waive",
                "--release",
                "agent",
                "3.1",
                "--rule",
                "CVE-2021-44228",
                "--reason",
                "JNDI lookups disabled by the vendor's configuration",
                "--expires",
                "2099-12-31",
                "--store-url",
                store_url,
            ]
        )
        == 0
    )
    with recording_server() as hooks:
        assert (
            main(
                [
                    "monitor",
                    "run",
                    *common,
                    "--alert",
                    f"webhook={hooks.url}",
                    "--timestamp",
                    "2099-06-01",
                ]
            )
            == 0
        )
        assert status_of(store_url, "agent", "3.1") == "passed"
        assert status_of(store_url, "shop", "1.4.3") == "failed"
        [body] = hooks.bodies()
        assert [(a["kind"], a["release"]["product"], a["after"]) for a in body["alerts"]] == [
            ("verdict-change", "agent", "passed")
        ]
        # the day after it expires, the finding is back
        assert (
            main(
                [
                    "monitor",
                    "run",
                    *common,
                    "--alert",
                    f"webhook={hooks.url}",
                    "--timestamp",
                    "2100-01-01",
                ]
            )
            == 0
        )
        assert status_of(store_url, "agent", "3.1") == "failed"
        assert [a["after"] for a in hooks.bodies()[-1]["alerts"]] == ["failed"]

    capsys.readouterr()
    assert main(["portfolio", "history", "agent", "3.1", "--json", "--store-url", store_url]) == 0
    history = [item["status"] for item in json.loads(capsys.readouterr().out)]
    assert history == ["passed", "failed", "passed", "failed"]
