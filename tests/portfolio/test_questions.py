"""Questions asked of the portfolio: where is a component (any version, ranges), which
releases an advisory hits (by any alias), SBOM export and VEX documents."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from finalexam.cli import main
from finalexam.errors import UsageError
from finalexam.monitor.export import vex_document
from finalexam.monitor.recheck import run_monitor
from finalexam.store import Store
from finalexam.store.queries import parse_component_query, where
from finalexam.vuln.store import VulnDatabase
from portfolio_support import LOG4SHELL, RELEASE_POLICY, build_db, make_report, shared_record

LOG4J = "org.apache.logging.log4j:log4j-core"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(str(tmp_path / "p.sqlite3"))
    for product, version in (("a", "2.14.1"), ("b", "2.15.0"), ("c", "2.17.1"), ("d", "1.2")):
        opened.add_exam(
            make_report(product, "1", [("Maven", LOG4J, version)]),
            product,
            "1",
            "built",
            RELEASE_POLICY,
        )
    opened.add_exam(
        make_report("e", "1", [("PyPI", "Requests", "2.19.1")]), "e", "1", "built", RELEASE_POLICY
    )
    return opened


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pkg:maven/org.apache.logging.log4j/log4j-core", ["a", "b", "c", "d"]),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", ["a"]),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0,<2.15.0", ["a"]),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@>=2.0,<=2.15.0", ["a", "b"]),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@vers:maven/>=2.0.0|<2.17.0", ["a", "b"]),
        ("pkg:maven/org.apache.logging.log4j/log4j-core@<2", ["d"]),
        ("pkg:pypi/requests@<2.20", ["e"]),  # names compared as the ecosystem normalises them
        ("pkg:npm/lodash", []),
    ],
)
def test_where_is_a_component(store: Store, query: str, expected: list[str]) -> None:
    with store.reading() as connection:
        found = where(connection, parse_component_query(query))
    assert [item["release"]["product"] for item in found] == expected


@pytest.mark.parametrize("bad", ["log4j-core", "pkg:unknowntype/x", ""])
def test_where_refuses_what_is_not_a_package_url(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_component_query(bad)


def test_vex_says_what_is_and_is_not_affected(store: Store, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    db = build_db(tmp_path / "osv.sqlite3", [shared_record("Maven", LOG4SHELL)])
    with VulnDatabase(db) as database:
        run_monitor(store, database, date(2026, 1, 1))
    with store.reading() as connection:
        openvex = vex_document(connection, "openvex")
        cyclonedx = vex_document(connection, "cyclonedx")
    states = {s["products"][0]["@id"]: s["status"] for s in openvex["statements"]}
    assert states == {
        "pkg:generic/a@1": "affected",
        "pkg:generic/b@1": "not_affected",
        "pkg:generic/c@1": "not_affected",
        "pkg:generic/d@1": "affected",
    }
    affected = next(s for s in openvex["statements"] if s["status"] == "affected")
    assert affected["vulnerability"] == {"name": LOG4SHELL, "aliases": ["CVE-2021-44228"]}
    assert "2.15.0" in affected["action_statement"]
    not_affected = next(s for s in openvex["statements"] if s["status"] == "not_affected")
    assert not_affected["justification"] == "vulnerable_code_not_present"
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cyclonedx))
    assert errors is None, errors
    by_state = {v["analysis"]["state"]: len(v["affects"]) for v in cyclonedx["vulnerabilities"]}
    assert by_state == {"exploitable": 2, "not_affected": 2}
    del jsonschema


def test_export_writes_one_sbom_per_release(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "sboms"
    url = str(store.url)
    store.close()
    assert main(["portfolio", "export", str(out), "--format", "spdx-json", "--store-url", url]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{p}-1.spdx.json" for p in "abcde"]
    document = json.loads((out / "a-1.spdx.json").read_text())
    assert document["spdxVersion"] == "SPDX-2.3"
    assert any(p["name"] == LOG4J for p in document["packages"])


def test_the_portfolio_commands_answer_in_text_and_json(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = build_db(tmp_path / "osv.sqlite3", [shared_record("Maven", LOG4SHELL)])
    url = str(store.url)
    store.close()
    common = ["--store-url", url]
    assert main(["monitor", "run", "--db", str(db), *common]) == 0
    capsys.readouterr()
    assert main(["portfolio", "list", "--status", "failed", *common]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["a", "d"]
    assert main(["portfolio", "exposed", "CVE-2021-44228", "--json", *common]) == 0
    assert {i["release"]["product"] for i in json.loads(capsys.readouterr().out)} == {"a", "d"}
    assert (
        main(
            [
                "portfolio",
                "where",
                "pkg:maven/org.apache.logging.log4j/log4j-core",
                "--versions",
                ">=2.15.0",
                *common,
            ]
        )
        == 0
    )
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["b", "c"]
    assert main(["portfolio", "changes", *common]) == 0
    out = capsys.readouterr().out
    assert "2 new, 0 closed, 2 verdict changes" in out and "VERDICT  a  1  passed -> failed" in out
    assert (
        main(["portfolio", "vex", "--format", "cyclonedx", "-o", str(tmp_path / "v.json"), *common])
        == 0
    )
    assert json.loads((tmp_path / "v.json").read_text())["bomFormat"] == "CycloneDX"
    assert main(["portfolio", "where", "log4j-core", *common]) == 2
    assert main(["portfolio", "history", "nope", "1", *common]) == 2


def test_serving_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    url = str(tmp_path / "p.sqlite3")
    assert main(["serve", "--host", "0.0.0.0", "--port", "1", "--store-url", url]) == 2
    assert main(["serve", "--require-token", "--port", "1", "--store-url", url]) == 2
