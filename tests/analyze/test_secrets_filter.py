"""The generic-secret filter: its drops, its features, its model file and what findings carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finalexam.analyze.secrets.analyzer import SecretsAnalyzer
from finalexam.analyze.secrets.features import FEATURES, GenericCandidate, features, key_kind
from finalexam.analyze.secrets.filter import (
    MODEL_PATH,
    ModelError,
    decide,
    default_model,
    dropped,
    load_model,
)
from finalexam.analyze.secrets.scan import scan_bytes
from finalexam.config import Config
from finalexam.model import Confidence


def candidate(
    key: str, value: str, line: str | None = None, path: str = "app/settings.py"
) -> GenericCandidate:
    return GenericCandidate(
        rule_id="generic-quoted-assignment",
        key=key,
        value=value,
        line=line if line is not None else f'{key} = "{value}"',
        path=path,
        op="=",
    )


def test_every_feature_is_named_and_the_model_was_trained_on_them() -> None:
    assert len(features(candidate("db_password", "Vq8kLm2xR4"))) == len(FEATURES)
    model = default_model()
    assert model.trees and 0 < model.thresholds["low"] <= model.thresholds["medium"]
    assert model.thresholds["medium"] <= model.thresholds["high"] < 1
    assert MODEL_PATH.stat().st_size < 64 * 1024


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("db_password", "${DB_PASSWORD}"),
        ("db_password", "********"),
        ("db_password", "changeme"),
        ("db_password", "abc"),
        ("FORGOT_PASSWORD", "Forgot your password?"),
        ("LABEL_PASSWORD", "Salasana"),
        ("password_label", "Пароль"),
        ("passthroughBehavior", "when_no_match"),
        ("keyboard", "Qw8vLz2xKm"),
        ("publicKey", "MIGfMA0GCSqGSIb3DQEBAQUAA4GN"),
        ("token", "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_values_and_names_that_are_never_credentials_are_dropped(key: str, value: str) -> None:
    assert dropped(candidate(key, value))
    assert decide(candidate(key, value)) is None


def test_key_kinds_take_whole_words() -> None:
    assert key_kind(["db", "password"]) == "password"
    assert key_kind(["client", "secret"]) == "secret"
    assert key_kind(["apikey"]) == "key"
    assert key_kind(["passport"]) == key_kind(["author"]) == key_kind(["tokenizer"]) == ""
    assert key_kind(["scheme"], "generic-url-userinfo") == "password"


def test_random_values_under_credential_names_score_above_words_and_identifiers() -> None:
    real = decide(candidate("db_password", "Vq8#kLm2!xR4"))
    assert real is not None and real[0] in (Confidence.HIGH, Confidence.MEDIUM)
    identifier = decide(
        candidate("password", "request.form.password", 'password = "request.form.password"')
    )
    assert identifier is None or identifier[1] < real[1]


def test_findings_of_filtered_rules_carry_name_score_and_every_line() -> None:
    text = b'DB_PASSWORD = "Vq8kLm2xR4zT"\nother = 1\nbackup_password = "Vq8kLm2xR4zT"\n'
    (hit,) = [h for h in scan_bytes(text, "app/settings.py", binary=False) if h.rule.filter]
    assert hit.lines == (1, 3) and hit.occurrences == 2 and hit.name == "DB_PASSWORD"
    assert hit.score is not None and 0 < hit.score <= 1


def test_filtered_rules_do_not_read_strings_of_binaries() -> None:
    blob = b"\x7fELF\x00\x00" + b'db_password = "Vq8kLm2xR4zT"\x00' * 3
    assert [h for h in scan_bytes(blob, "bin/app", binary=True, kind="elf") if h.rule.filter] == []


def test_the_analyzer_reports_the_filter_evidence(tmp_path: Path) -> None:
    from finalexam.model import FileEntry, FileType, Location

    data = b'SMTP_PASSWORD = "Vq8kLm2xR4zT"\n'
    entry = FileEntry(
        Location(("app.zip", "app/settings.py")),
        len(data),
        "0" * 64,
        "0" * 40,
        FileType.TEXT,
        _loader=lambda: data,
    )
    (finding,) = SecretsAnalyzer(Config()).analyze(entry).findings
    details = finding.evidence.details
    assert details["name"] == "SMTP_PASSWORD" and details["lines"] == [1]
    assert "Vq8kLm2xR4zT" not in json.dumps(details)


def test_a_model_file_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text())
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({**data, "features": data["features"][:-1]}))
    with pytest.raises(ModelError, match="other features"):
        load_model(bad)
    tree = data["trees"][0]
    bad.write_text(json.dumps({**data, "trees": [{**tree, "left": [5000, *tree["left"][1:]]}]}))
    with pytest.raises(ModelError, match="outside the tree"):
        load_model(bad)
    bad.write_text("{")
    with pytest.raises(ModelError, match=r"model\.json"):
        load_model(bad)
