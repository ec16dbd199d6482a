"""monitor run and alerts: new and closed exposures, de-duplication, digests, retries, and
bodies that Slack, Teams, an SMTP server and SARIF readers accept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from finalexam.monitor.alerts import deliver, parse_channel, slack_body, teams_body
from finalexam.monitor.recheck import run_monitor
from finalexam.store import Store
from finalexam.store.queries import changes, exposed, list_alerts
from finalexam.vuln.store import VulnDatabase
from portfolio_support import (
    LOG4SHELL,
    RELEASE_POLICY,
    build_db,
    make_report,
    recording_server,
    shared_record,
    smtp_server,
)

TODAY = date(2026, 1, 1)
HOSTILE = "evil<script>alert(1)</script>\u202egnp.exe\x1b[31m"


def recheck(store: Store, db: Path) -> object:
    with VulnDatabase(db) as database:
        return run_monitor(store, database, TODAY)


@pytest.fixture
def portfolio(tmp_path: Path) -> tuple[Store, Path]:
    store = Store(str(tmp_path / "p.sqlite3"))
    for index in range(3):
        packages = [
            ("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1" if index < 2 else "2.17.1"),
            ("npm", "lodash", "4.17.20"),
            ("npm", HOSTILE, "1.0"),
        ]
        store.add_exam(
            make_report("app", f"1.{index}", packages), "app", f"1.{index}", "built", RELEASE_POLICY
        )
    return store, build_db(tmp_path / "osv.sqlite3", [])


def test_new_and_withdrawn_advisories_open_and_close_exposures(
    portfolio: tuple[Store, Path],
) -> None:
    store, db = portfolio
    log4shell, lodash = (
        shared_record("Maven", LOG4SHELL),
        shared_record("npm", "GHSA-35jh-r3h4-6jhm"),
    )
    build_db(db, [log4shell, lodash])
    first = recheck(store, db)
    assert sorted((o.release.version, o.exposure.advisory) for o in first.opened) == [  # type: ignore[attr-defined]
        ("1.0", "GHSA-35jh-r3h4-6jhm"),
        ("1.0", LOG4SHELL),
        ("1.1", "GHSA-35jh-r3h4-6jhm"),
        ("1.1", LOG4SHELL),
        ("1.2", "GHSA-35jh-r3h4-6jhm"),
    ]
    with store.reading() as connection:
        assert {i["release"]["version"] for i in exposed(connection, "CVE-2021-44228")} == {
            "1.0",
            "1.1",
        }
    # the DB withdraws the lodash advisory: its exposures close, the verdicts follow
    withdrawn = dict(lodash, withdrawn="2026-01-01T00:00:00Z")
    build_db(db, [log4shell, withdrawn])
    second = recheck(store, db)
    assert second.opened == []  # type: ignore[attr-defined]
    assert len(second.closed) == 3  # type: ignore[attr-defined]
    with store.reading() as connection:
        last = changes(connection)
        assert {i["advisory"] for i in last["closed"]} == {"GHSA-35jh-r3h4-6jhm"}
        assert all(i["closed_reason"].startswith("no longer matched") for i in last["closed"])
        assert [v["after"] for v in last["verdicts"]] == ["passed"]  # 1.2 had only lodash
    store.close()


def test_alerts_are_sent_once_per_channel_and_retried_after_a_failure(
    portfolio: tuple[Store, Path], tmp_path: Path
) -> None:
    store, db = portfolio
    build_db(db, [shared_record("Maven", LOG4SHELL)])
    run = recheck(store, db)
    with recording_server() as down, recording_server() as up:
        down.status = 500
        failing, working = parse_channel(f"webhook={down.url}"), parse_channel(f"webhook={up.url}")
        results = deliver(store, run.run_id, [failing, working])  # type: ignore[attr-defined]
        assert results[0].error is not None and results[1].error is None
        assert len(up.requests) == 4  # 2 exposures + 2 verdict changes, one message each
        down.status = 200
        again = recheck(store, db)  # nothing new in this run...
        deliver(store, again.run_id, [failing, working])  # type: ignore[attr-defined]
        assert len(down.requests) == 4 + 4  # ...but the failed ones are retried
        assert len(up.requests) == 4  # and nothing is sent twice
    with store.reading() as connection:
        log = list_alerts(connection)
        assert len(log) == 4 and all(len(a["deliveries"]) == 2 for a in log)
    store.close()


def test_digest_sends_one_message_per_channel(portfolio: tuple[Store, Path]) -> None:
    store, db = portfolio
    build_db(db, [shared_record("Maven", LOG4SHELL), shared_record("npm", "GHSA-35jh-r3h4-6jhm")])
    run = recheck(store, db)
    with recording_server() as hooks, smtp_server() as mail:
        channels = [parse_channel(f"slack={hooks.url}/s"), parse_channel(f"email={mail.url()}")]
        deliver(store, run.run_id, channels, digest=True)  # type: ignore[attr-defined]
        [body] = hooks.bodies("/s")
        assert body["text"] == "finalexam: 5 new exposures, 3 verdict changes"
        assert len(body["blocks"]) == 1 + 8
        [message] = mail.messages
        assert message["Subject"] == "finalexam: 5 new exposures, 3 verdict changes"
        assert message.get_content().count("\n") == 8
    store.close()


def test_alert_bodies_neutralise_hostile_package_names(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "p.sqlite3"))
    store.add_exam(
        make_report("app", "1", [("npm", HOSTILE, "1.0")]), "app", "1", "built", RELEASE_POLICY
    )
    record = {
        "id": "MAL-2099-0042",
        "modified": "2026-01-01T00:00:00Z",
        "summary": "Malicious code in a hostile name",
        "affected": [{"package": {"ecosystem": "npm", "name": HOSTILE}}],
    }
    db = build_db(tmp_path / "osv.sqlite3", [record])
    run = recheck(store, db)
    with store.reading() as connection:
        from finalexam.monitor.alerts import Alert

        alerts = [Alert(a["id"], a["kind"], a["payload"]) for a in list_alerts(connection)]
    texts = [block["text"]["text"] for block in slack_body(alerts)["blocks"][1:]]
    assert texts and all("<script>" not in text and "\u202e" not in text for text in texts)
    assert any("&lt;script&gt;" in text and "\\u202e" in text for text in texts)
    teams = [b["text"] for b in teams_body(alerts)["attachments"][0]["content"]["body"]]
    assert all("\x1b" not in text and "<script>" not in text for text in teams)
    assert any("\\<script\\>" in text for text in teams)
    with smtp_server() as mail:
        deliver(store, run.run_id, [parse_channel(f"email={mail.url()}")])  # type: ignore[attr-defined]
        text = "".join(m.get_content() for m in mail.messages)
        assert "\u202e" not in text and "\x1b" not in text and "\\u202e" in text
    store.close()


def test_file_channels_write_the_runs_alerts_as_json_and_sarif(
    portfolio: tuple[Store, Path], tmp_path: Path
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    store, db = portfolio
    build_db(db, [shared_record("Maven", LOG4SHELL)])
    run = recheck(store, db)
    sarif, plain = tmp_path / "alerts.sarif", tmp_path / "alerts.json"
    deliver(store, run.run_id, [parse_channel(f"file={sarif}"), parse_channel(f"file={plain}")])  # type: ignore[attr-defined]
    document = json.loads(sarif.read_text())
    schema_path = Path(__file__).parents[2] / "src/finalexam/report/schema"
    schemas = sorted(schema_path.glob("sarif*.json"))
    if schemas:
        jsonschema.validate(document, json.loads(schemas[0].read_text()))
    assert {r["ruleId"] for r in document["runs"][0]["results"]} == {LOG4SHELL, "verdict-change"}
    assert len(json.loads(plain.read_text())["alerts"]) == 4
    store.close()


@pytest.mark.parametrize(
    "spec",
    ["pager=x", "webhook=ftp://x", "email=smtp://host", "email=http://x?from=a&to=b", "file="],
)
def test_bad_channels_are_usage_errors(spec: str) -> None:
    from finalexam.errors import UsageError

    with pytest.raises(UsageError):
        parse_channel(spec)


def test_a_rewritten_advisory_is_matched_again_and_unchanged_ones_are_not(
    portfolio: tuple[Store, Path],
) -> None:
    store, db = portfolio
    log4shell = shared_record("Maven", LOG4SHELL)
    build_db(db, [log4shell])
    recheck(store, db)
    assert recheck(store, db).rechecked == 0  # type: ignore[attr-defined]
    # the advisory is corrected: versions up to 2.17.1 are affected too
    wider = json.loads(json.dumps(log4shell))
    for affected in wider["affected"]:
        for item in affected.get("ranges") or []:
            item["events"] = [{"introduced": "2.0-beta9"}, {"fixed": "2.18.0"}]
    wider["modified"] = "2030-01-01T00:00:00Z"
    build_db(db, [wider])
    run = recheck(store, db)
    assert [(o.release.version, o.exposure.advisory) for o in run.opened] == [("1.2", LOG4SHELL)]  # type: ignore[attr-defined]
    assert recheck(store, db).rechecked == 0  # type: ignore[attr-defined]
    store.close()
