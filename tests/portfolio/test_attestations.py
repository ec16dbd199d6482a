"""Attestations kept with the exam: signed by `scan --attest --store`, or received with
`portfolio add --attestation`; served by the API byte for byte, and still verifiable."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from finalexam.cli import main
from finalexam.store import Store
from finalexam.web.app import create_app
from finalexam.web.security import Security
from portfolio_support import build_db, cyclonedx_sbom, log4j_jar, serve


def test_attestations_are_stored_with_the_exam_and_served(tmp_path: Path) -> None:
    db = build_db(tmp_path / "osv.sqlite3", [])
    url = str(tmp_path / "p.sqlite3")
    key = tmp_path / "exam-key"
    assert main(["key", "generate", "--out", str(key)]) == 0
    war = log4j_jar(tmp_path / "shop-1.4.3.war")
    signed = tmp_path / "shop.intoto.jsonl"
    assert (
        main(
            [
                "scan",
                str(war),
                "--db",
                str(db),
                "--attest",
                str(signed),
                "--key",
                str(key),
                "--store",
                "--store-url",
                url,
                "--product",
                "shop",
                "--version",
                "1.4.3",
            ]
        )
        == 0
    )
    sbom = cyclonedx_sbom(
        tmp_path / "agent.cdx.json", [("left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0")]
    )
    received = tmp_path / "vendor.intoto.jsonl"
    received.write_bytes(signed.read_bytes())  # what a supplier would ship beside its SBOM
    assert (
        main(
            [
                "portfolio",
                "add",
                str(sbom),
                "--product",
                "agent",
                "--version",
                "3.1",
                "--attestation",
                str(received),
                "--db",
                str(db),
                "--store-url",
                url,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "portfolio",
                "add",
                str(sbom),
                "--product",
                "x",
                "--version",
                "1",
                "--attestation",
                str(sbom.with_suffix(".missing")),
                "--store-url",
                url,
            ]
        )
        == 2
    )

    with Store(url) as store, serve(create_app(store, Security(False), str(db))) as base:
        listing = json.loads(
            urllib.request.urlopen(f"{base}/api/v1/releases/1/attestations").read()
        )
        assert [(a["format"], a["origin"]) for a in listing] == [("intoto-jsonl", "signed here")]
        served = urllib.request.urlopen(
            f"{base}/api/v1/releases/1/attestations/{listing[0]['id']}"
        ).read()
        assert served == signed.read_bytes()
        other = json.loads(urllib.request.urlopen(f"{base}/api/v1/releases/2/attestations").read())
        assert [a["origin"] for a in other] == ["received"]
        page = urllib.request.urlopen(f"{base}/releases/1").read().decode()
        assert 'id="attestations"' in page

    downloaded = tmp_path / "downloaded.intoto.jsonl"
    downloaded.write_bytes(served)
    assert (
        main(
            [
                "verify",
                str(war),
                "--attestation",
                str(downloaded),
                "--key",
                f"{key}.pub",
                "--policy",
                "release",
            ]
        )
        == 0
    )
