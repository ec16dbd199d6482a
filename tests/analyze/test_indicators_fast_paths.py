"""The indicator analyzer's shortcuts (one Hyperscan pass for hints and quoted IPs, host
classification memoised) give what the plain search and the ordered suffix scan give."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finalexam.analyze.indicators import extract as indicator_extract
from finalexam.analyze.indicators.categories import categories, classify, host_of, ip_category
from finalexam.analyze.indicators.extract import extract

PIECES = st.sampled_from(
    [
        b'"', b"'", b"/", b"@", b"=", b"(", b")", b":", b",", b" ", b"\n", b".",
        b"10.0.0.1", b"8.8.8.8", b"256.1.2.3", b"1.2.3", b"203.0.113.9", b"999",
        b"https://", b"x.NGROK.io", b"abc.duckdns.org", b"hooks.slack.com/services/T",
        b"pypi.org", b"user@example.com", b"a" * 16 + b".onion", b"Zq", b"7",
    ]
)  # fmt: skip


@given(st.lists(PIECES, max_size=40), st.booleans())
def test_hyperscan_and_plain_paths_extract_the_same(pieces: list[bytes], text: bool) -> None:
    data = b"".join(pieces)
    fast = extract(data, text=text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(indicator_extract, "_hint_database", lambda: None)
        plain = extract(data, text=text)
    assert fast == plain


def reference_classify(kind: str, value: str) -> str:
    """The ordered suffix scan, written plainly."""
    if kind == "email":
        host = target = value.rsplit("@", 1)[-1].lower()
    elif kind == "url":
        host = host_of(value)
        target = value.split("://", 1)[-1].lower()
    else:
        host = target = value.lower()
    ip = ip_category(host)
    if ip is not None:
        return ip
    if host.endswith(".onion"):
        return "onion"
    for category in categories():
        for suffix in category.hosts:
            if "/" in suffix:
                if target.startswith(suffix) or f".{suffix}" in target:
                    return category.name
            elif suffix.startswith("."):
                if host.endswith(suffix):
                    return category.name
            elif host == suffix or host.endswith("." + suffix):
                return category.name
    return "email" if kind == "email" else "other"


HOSTS = st.sampled_from(
    [
        "discord.com", "cdn.discordapp.com", "github.com", "x.github.io", "bit.ly",
        "learn.microsoft.com", "microsoft.com", "example.com", "foo.test", "1.2.3.4",
        "evil.ngrok.io", "files.pythonhosted.org", "unknown.tld", "api.telegram.org",
    ]
)  # fmt: skip
PATHS = st.sampled_from(["", "/api/webhooks/1", "/attachments/x", "/en-us/docs", "/p?q=1"])


@given(HOSTS, PATHS, st.sampled_from(["url", "domain", "email"]))
def test_classification_keeps_category_order(host: str, path: str, kind: str) -> None:
    value = {"url": f"https://{host}{path}", "domain": host, "email": f"me@{host}"}[kind]
    assert classify(kind, value) == reference_classify(kind, value)
