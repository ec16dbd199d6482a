"""The one redaction and the one neutralisation every report value goes through."""

from __future__ import annotations

import pytest

from finalexam.redact import neutralize, redact, redact_secret, safe_text

CASES = [
    (
        "https://ci:s3cr3t-Passw0rd@repo.example.com/simple/",
        "https://ci:***@repo.example.com/simple/",
    ),
    (
        "git+https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/o/r",
        "git+https://***@github.com/o/r",
    ),
    (
        "https://x.example/a?page=2&access_token=abc123def456&q=1",
        "https://x.example/a?page=2&access_token=***&q=1",
    ),
    (
        "https://s3.amazonaws.com/b/k?X-Amz-Signature=f00dfeed&X-Amz-Expires=60",
        "https://s3.amazonaws.com/b/k?X-Amz-Signature=***&X-Amz-Expires=60",
    ),
    (
        "https://hooks.slack.com/services/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",
        "https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/***",
    ),
    (
        "https://api.telegram.org/bot123456:AAHk-9sT4Zq7wLm3Np8Rv2Xc6Yb1Jd5Kf0/sendMessage",
        "https://api.telegram.org/bot123456:***/sendMessage",
    ),
    ("token = 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789'", "token = 'ghp_…6789'"),
    ("key AKIAIOSFODNN7EXAMPLE in env", "key AKIA…MPLE in env"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY----- ***",
    ),
    (
        "https://pypi.org/simple/requests/ and user@example.com",
        "https://pypi.org/simple/requests/ and user@example.com",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # applying it twice changes nothing


def test_redact_secret_never_shows_more_than_a_fifth() -> None:
    assert redact_secret("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == "ghp_…6789"
    assert redact_secret("abc") == "***"


def test_neutralize_makes_controls_visible_and_keeps_text() -> None:
    assert neutralize("a\x1b[31mb\x9bc\u202ed\u2066e") == "a\\x1b[31mb\\x9bc\\u202ed\\u2066e"
    assert neutralize("line one\n\tline two") == "line one\n\tline two"
    assert neutralize("name\twith\nbreaks", lines=False) == "name\\x09with\\x0abreaks"
    assert (
        safe_text("\x1b]8;;https://u:pw@h.example/\x07") == "\\x1b]8;;https://u:***@h.example/\\x07"
    )
