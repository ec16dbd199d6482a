"""Indicators in a file's bytes: URLs, host names of tunnels and catchers, quoted IPv4
addresses and e-mail addresses, found fast on big files (substring anchors, one Hyperscan
pass for the costly patterns)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

from finalexam.analyze.indicators.categories import bare_hosts, host_of, ip_category
from finalexam.model import Blob

hyperscan: ModuleType | None
try:
    import hyperscan
except ImportError:  # pragma: no cover - the pure-Python path gives the same answer
    hyperscan = None

MAX_PER_FILE = 500
# Files bigger than this are read a chunk at a time (a JDK's 130 MB lib/modules image), each
# chunk with a margin longer than any indicator on either side (URLs are at most 2,056 bytes).
CHUNK_BYTES = 16 * 1024 * 1024
_MARGIN = 4096

_URL = re.compile(rb"(?:https?|ftp|wss?)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{3,2048}")
_ONION = rb"(?<![\w.-])[a-z2-7]{16}(?:[a-z2-7]{40})?\.onion\b"


@cache
def _host_only() -> re.Pattern[bytes]:
    """Names under a tunnel, dynamic-DNS or interaction-catcher host found without a URL
    around them (``rules/hosts/categories/*.toml``: ``bare``), and ``.onion`` names."""
    hosts = b"|".join(re.escape(host.encode()) for host in bare_hosts())
    return re.compile(
        rb"(?<![\w.-])[a-z0-9][a-z0-9-]{0,62}\.(?:" + hosts + rb")(?![\w-])|" + _ONION,
        re.IGNORECASE,
    )


@cache
def _host_hints() -> tuple[bytes, ...]:
    """Literal hints: the host-only pattern is costly per byte, so it only runs when one of
    these is present (plain substring search: case-insensitive regex alternations are slow in
    ``re``)."""
    return (*(host.encode() for host in bare_hosts()), b".onion")


# The opening quote is consumed rather than looked behind at: a leading character class lets
# ``re`` skip ahead to candidates (3x faster on big JSON); it can never be part of the
# previous match (digits and dots), so the matches are the same.
# After "==", ">=", "~=" a four-part number is a version ('types-setuptools==67.2.0.1').
_IPV4_QUOTED = re.compile(rb"""(?:["'/@(]|(?<![=<>~!])=)((?:\d{1,3}\.){3}\d{1,3})(?=["':/,)])""")
_EMAIL_LOCAL = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}\Z")
_EMAIL_DOMAIN = re.compile(rb"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")


def _emails(data: bytes) -> list[tuple[str, int]]:
    """E-mail addresses, found from each ``@`` outwards (fast on big files)."""
    found: list[tuple[str, int]] = []
    position = data.find(b"@")
    while position >= 0 and len(found) < MAX_PER_FILE:
        left = _EMAIL_LOCAL.search(data, max(0, position - 64), position)
        right = _EMAIL_DOMAIN.match(data, position + 1, position + 256)
        # ``//user:password@host`` or ``//token@host`` is a URL's credentials, not an e-mail:
        # the URL is the indicator (redacted), its userinfo must not become one of its own
        userinfo = left is not None and data[left.start() - 1 : left.start()] in (b":", b"/")
        if left and right and not userinfo:
            found.append(((left.group(0) + b"@" + right.group(0)).decode("ascii"), left.start()))
        position = data.find(b"@", position + 1)
    return found


def _clean_url(raw: str) -> str:
    url = raw.rstrip(".,;:'\")]}>*")
    if url.count("(") < url.count(")"):
        url = url.rstrip(")")
    return url


_HINT_CHUNK = 4 * 1024 * 1024


# A quoted IPv4 address can only be where this shape is (``_IPV4_QUOTED`` with its
# look-ahead consumed): Hyperscan tells whether it occurs at all, for one pass over the file
# instead of ``re`` stopping at every quote of a JSON document.
_IPV4_SHAPE = rb"""["'/@=(](?:[0-9]{1,3}\.){3}[0-9]{1,3}["':/,)]"""
_IPV4_ID = 0  # the host hints follow, from 1


@cache
def _hint_database() -> tuple[Any, Any] | None:
    """Host hints (case-insensitive literals) and the quoted-IP shape, as one Hyperscan
    database and its scratch (None without Hyperscan)."""
    if hyperscan is None:
        return None
    single = hyperscan.HS_FLAG_SINGLEMATCH
    hints = _host_hints()
    database = hyperscan.Database()
    database.compile(
        expressions=[_IPV4_SHAPE] + [re.escape(hint) for hint in hints],
        ids=list(range(len(hints) + 1)),
        elements=len(hints) + 1,
        flags=[single] + [hyperscan.HS_FLAG_CASELESS | single] * len(hints),
    )
    return database, hyperscan.Scratch(database)


def _hints(data: bytes) -> tuple[bool, bool]:
    """Whether a host hint occurs (case-insensitively), and whether a quoted IPv4 address
    may: one Hyperscan pass; without it, every chunk lowered and searched for each hint
    (one chunk at a time: a copy of the whole file would double what a big binary costs)."""
    compiled = _hint_database()
    if compiled is not None and hyperscan is not None:
        database, scratch = compiled
        found: set[int] = set()

        def on_match(ident: int, _start: int, _end: int, _flags: int, _context: object) -> bool:
            found.add(ident)
            return _IPV4_ID in found and len(found) > 1  # both answers known: stop

        with contextlib.suppress(hyperscan.ScanTerminated):  # stopped early
            database.scan(data, match_event_handler=on_match, scratch=scratch)
        return bool(found - {_IPV4_ID}), _IPV4_ID in found
    hints = _host_hints()
    overlap = max(len(hint) for hint in hints) - 1
    for start in range(0, len(data), _HINT_CHUNK):
        chunk = data[max(0, start - overlap) : start + _HINT_CHUNK].lower()
        if any(hint in chunk for hint in hints):
            return True, True
    return False, True


_SCHEMES = (b"https", b"http", b"wss", b"ftp", b"ws")


def _urls(data: bytes) -> Iterator[re.Match[bytes]]:
    """The matches of ``_URL.finditer``, found from each "://" (a plain substring search)
    instead of trying the scheme alternation at every byte of the file."""
    consumed = 0
    position = data.find(b"://")
    while position >= 0:
        for scheme in _SCHEMES:
            start = position - len(scheme)
            if start >= consumed and data[start:position] == scheme:
                match = _URL.match(data, start)
                if match is not None:
                    yield match
                    consumed = match.end()
                break
        position = data.find(b"://", max(position + 3, consumed))


@dataclass(frozen=True)
class Found:
    kind: str
    value: str
    offset: int


def extract(data: bytes, *, text: bool) -> list[Found]:
    """Indicators in a file's bytes; IPs outside URLs and e-mails only in text files."""
    found: dict[tuple[str, str], Found] = {}

    def add(kind: str, value: str, offset: int) -> None:
        if len(found) < MAX_PER_FILE:
            found.setdefault((kind, value), Found(kind, value, offset))

    for match in _urls(data):
        url = _clean_url(match.group(0).decode("ascii", "replace"))
        host = host_of(url)
        if not host or ("." not in host and ":" not in host and host != "localhost"):
            continue
        if "{" in host or "%" in host or "$" in host:
            continue  # templates, not endpoints
        add("url", url, match.start())
        if ip_category(host) is not None:
            add("ip", host, match.start())
        else:
            add("domain", host, match.start())
    host_hint, maybe_ip = _hints(data)
    for match in _host_only().finditer(data) if host_hint else ():
        add("domain", match.group(0).decode("ascii", "replace").lower(), match.start())
    if text:
        for match in _IPV4_QUOTED.finditer(data) if maybe_ip else ():
            value = match.group(1).decode("ascii")
            valid = all(int(octet) <= 255 for octet in value.split("."))
            if valid and ip_category(value) == "raw-ip" and not value.startswith("0."):
                add("ip", value, match.start(1))
        for value, offset in _emails(data):
            if not value.lower().endswith((".png", ".jpg", ".gif", ".svg", ".js", ".css")):
                add("email", value, offset)
    return sorted(found.values(), key=lambda f: (f.offset, f.kind, f.value))


def extract_chunked(data: Blob, *, text: bool, chunk: int = CHUNK_BYTES) -> list[Found]:
    """``extract`` over a file of any size, one chunk in memory at a time: each chunk owns the
    indicators that start in it, and is read with a margin before (so a match never starts
    mid-word) and after (so one that starts near its end is whole)."""
    if len(data) <= chunk:
        return extract(data if isinstance(data, bytes) else bytes(data), text=text)
    found: dict[tuple[str, str], Found] = {}
    for own in range(0, len(data), chunk):
        low = max(0, own - _MARGIN)
        for item in extract(bytes(data[low : own + chunk + _MARGIN]), text=text):
            offset = low + item.offset
            key = (item.kind, item.value)
            if own <= offset < own + chunk and key not in found and len(found) < MAX_PER_FILE:
                found[key] = Found(item.kind, item.value, offset)
    return sorted(found.values(), key=lambda f: (f.offset, f.kind, f.value))
