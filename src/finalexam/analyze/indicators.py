"""Network indicators: URLs, domains, IP addresses and e-mail addresses in every file.

Text files and binaries alike are searched as bytes (a binary's printable strings are where
its URLs live). Each indicator is classified — package registries, source hosting,
documentation and well-known services on one side; raw public IPs, paste sites, Discord/
Telegram/Slack webhooks, tunnels, dynamic DNS, ``.onion``, URL shorteners, file drops and
out-of-band interaction catchers on the other — and lands in ``Report.indicators``. A
suspicious endpoint inside executable code is also a finding.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

from finalexam.analyze.base import Analysis, ExamState
from finalexam.config import Config
from finalexam.model import (
    Blob,
    Confidence,
    Evidence,
    FileEntry,
    FileType,
    Finding,
    FindingKind,
    Indicator,
    Location,
    Severity,
)

hyperscan: ModuleType | None
try:
    import hyperscan
except ImportError:  # pragma: no cover - the pure-Python path gives the same answer
    hyperscan = None

NAME = "indicators"
MAX_PER_FILE = 500
# Files bigger than this are read a chunk at a time (a JDK's 130 MB lib/modules image), each
# chunk with a margin longer than any indicator on either side (URLs are at most 2,056 bytes).
CHUNK_BYTES = 16 * 1024 * 1024
_MARGIN = 4096
_TEXT_TYPES = frozenset({FileType.SCRIPT, FileType.TEXT, FileType.JSON, FileType.XML})
_CODE_SUFFIXES = (
    ".py", ".pth", ".js", ".mjs", ".cjs", ".ts", ".sh", ".bash", ".ps1", ".psm1", ".bat",
    ".cmd", ".rb", ".pl", ".php", ".vbs", ".gyp",
)  # fmt: skip
_INSTALL_NAMES = frozenset({"setup.py", "extconf.rb", "binding.gyp", "install.rb"})

_URL = re.compile(rb"(?:https?|ftp|wss?)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{3,2048}")
_HOST_ONLY = re.compile(
    rb"(?<![\w.-])[a-z0-9][a-z0-9-]{0,62}\.(?:ngrok(?:-free)?\.(?:io|app|dev)|trycloudflare\.com"
    rb"|duckdns\.org|no-ip\.(?:org|com|biz)|ddns\.net|hopto\.org|zapto\.org|loca\.lt"
    rb"|serveo\.net|oast\.(?:fun|pro|me|live|site|online)|interact\.sh|burpcollaborator\.net"
    rb"|oastify\.com|dnslog\.cn|ceye\.io)(?![\w-])|(?<![\w.-])[a-z2-7]{16}(?:[a-z2-7]{40})?\.onion\b",
    re.IGNORECASE,
)
# Literal hints: the host-only pattern is costly per byte, so it only runs when one of these
# is present (plain substring search: case-insensitive regex alternations are slow in re).
_HOST_HINTS = (
    b"ngrok", b"trycloudflare", b"duckdns", b"no-ip", b"ddns.net", b"hopto.org", b"zapto.org",
    b"loca.lt", b"serveo", b"oast", b"interact.sh", b"burpcollaborator", b"dnslog.cn",
    b"ceye.io", b".onion",
)  # fmt: skip
# The opening quote is consumed rather than looked behind at: a leading character class lets
# ``re`` skip ahead to candidates (3x faster on big JSON); it can never be part of the
# previous match (digits and dots), so the matches are the same.
_IPV4_QUOTED = re.compile(rb"""["'/@=(]((?:\d{1,3}\.){3}\d{1,3})(?=["':/,)])""")
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


SUSPICIOUS = frozenset(
    {
        "raw-ip",
        "paste-site",
        "webhook",
        "tunnel",
        "dynamic-dns",
        "onion",
        "url-shortener",
        "oob-interaction",
        "file-drop",
        "ip-lookup",
    }
)

_ALWAYS_HIGH = frozenset({"webhook", "oob-interaction"})

# (category, host suffixes); the first matching category wins, most specific first.
_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("webhook", ("discord.com/api/webhooks", "discordapp.com/api/webhooks", "api.telegram.org",
                 "hooks.slack.com", "webhook.site", "pipedream.net", "requestbin.net",
                 "requestcatcher.com")),
    ("oob-interaction", ("burpcollaborator.net", "oastify.com", "interact.sh", "oast.fun",
                         "oast.pro", "oast.me", "oast.live", "oast.site", "oast.online",
                         "dnslog.cn", "ceye.io", "canarytokens.com")),
    ("file-drop", ("cdn.discordapp.com/attachments", "media.discordapp.net/attachments",
                   "transfer.sh", "anonfiles.com", "file.io", "gofile.io", "mediafire.com",
                   "dl.dropboxusercontent.com", "filebin.net", "temp.sh", "bashupload.com")),
    ("paste-site", ("pastebin.com", "paste.ee", "hastebin.com", "rentry.co", "rentry.org",
                    "ghostbin.com", "pastie.org", "dpaste.com", "paste.c-net.org")),
    ("tunnel", ("ngrok.io", "ngrok-free.app", "ngrok.app", "ngrok.dev", "trycloudflare.com",
                "serveo.net", "loca.lt", "localtunnel.me", "localhost.run", "pagekite.me")),
    ("dynamic-dns", ("duckdns.org", "no-ip.org", "no-ip.com", "no-ip.biz", "ddns.net",
                     "hopto.org", "zapto.org", "servebeer.com", "dynu.net", "afraid.org",
                     "sytes.net", "myftp.org")),
    ("url-shortener", ("bit.ly", "tinyurl.com", "cutt.ly", "is.gd", "t.ly", "rb.gy",
                       "shorturl.at", "goo.gl", "ow.ly", "tiny.cc")),
    ("ip-lookup", ("ip-api.com", "ipinfo.io", "ipapi.co", "api.ipify.org", "ifconfig.me",
                   "icanhazip.com", "checkip.amazonaws.com", "geoplugin.net", "ipwho.is",
                   "wtfismyip.com")),
    ("registry", ("pypi.org", "pypi.python.org", "files.pythonhosted.org", "registry.npmjs.org",
                  "npmjs.com", "npmjs.org", "yarnpkg.com", "rubygems.org", "crates.io",
                  "repo.maven.apache.org", "repo1.maven.org", "proxy.golang.org", "pkg.go.dev",
                  "nuget.org", "packagist.org", "deb.debian.org", "conda.anaconda.org",
                  "anaconda.org", "unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com",
                  "snapcraft.io", "flathub.org", "formulae.brew.sh", "chocolatey.org")),
    ("source-hosting", ("github.com", "githubusercontent.com", "gitlab.com", "bitbucket.org",
                        "sourceforge.net", "codeberg.org", "github.io", "gitee.com",
                        "git.kernel.org", "googlesource.com", "sr.ht")),
    ("docs", ("readthedocs.io", "readthedocs.org", "python.org", "docs.rs", "mozilla.org",
              "w3.org", "whatwg.org", "ietf.org", "rfc-editor.org", "opensource.org",
              "apache.org", "gnu.org", "creativecommons.org", "wikipedia.org",
              "stackoverflow.com", "json-schema.org", "semver.org", "spdx.org", "nodejs.org",
              "ecma-international.org", "unicode.org", "iana.org", "xml.org", "purl.org",
              "schema.org", "microsoft.com/en-us", "learn.microsoft.com", "mit-license.org",
              "shields.io", "badge.fury.io", "codecov.io", "travis-ci.org", "travis-ci.com",
              "circleci.com", "coveralls.io", "pydata.org", "scipy.org", "numpy.org",
              "djangoproject.com", "palletsprojects.com", "sphinx-doc.org", "typescriptlang.org")),
    ("example", ("example.com", "example.org", "example.net", "localhost", ".invalid", ".test",
                 ".example", ".local")),
    ("well-known", ("google.com", "googleapis.com", "gstatic.com", "microsoft.com",
                    "windows.net", "azure.com", "amazonaws.com", "amazon.com", "aws.amazon.com",
                    "cloudflare.com", "apple.com", "facebook.com", "twitter.com", "x.com",
                    "youtube.com", "mozilla.net", "openai.com", "huggingface.co", "slack.com",
                    "discord.com", "discord.gg", "telegram.org", "t.me", "linkedin.com",
                    "gravatar.com", "cloud.google.com", "digicert.com", "letsencrypt.org",
                    "sentry.io", "docker.com", "docker.io", "kubernetes.io", "jquery.com",
                    "fonts.googleapis.com", "gmail.com", "outlook.com", "yahoo.com")),
)  # fmt: skip


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0].lower().rstrip(".")


def _ip_category(host: str) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    if address.is_private or address.is_link_local or address.is_reserved:
        return "private-ip"
    if address.is_multicast:
        return "other"
    return "raw-ip"


def classify(kind: str, value: str) -> str:
    """Category of one indicator (see the module docstring)."""
    if kind == "email":
        host = value.rsplit("@", 1)[-1].lower()
        target = host
    elif kind == "url":
        host = _host_of(value)
        rest = value.split("://", 1)[-1].lower()
        target = rest
    else:
        host = value.lower()
        target = host
    ip = _ip_category(host)
    if ip is not None:
        return ip
    if host.endswith(".onion"):
        return "onion"
    # The first category with a matching suffix wins: by host (memoised, hosts recur across
    # thousands of URLs) or by one of the few suffixes with a path, which look at the URL.
    rank = min(_host_rank(host), _path_rank(target))
    if rank < len(_CATEGORIES):
        return _CATEGORIES[rank][0]
    return "email" if kind == "email" else "other"


@lru_cache(maxsize=65536)
def _host_rank(host: str) -> int:
    for rank, (_, suffixes) in enumerate(_CATEGORIES):
        for suffix in suffixes:
            if "/" in suffix:
                continue
            if suffix.startswith("."):
                if host.endswith(suffix):
                    return rank
            elif host == suffix or host.endswith("." + suffix):
                return rank
    return len(_CATEGORIES)


_PATH_SUFFIXES = tuple(
    (rank, suffix)
    for rank, (_, suffixes) in enumerate(_CATEGORIES)
    for suffix in suffixes
    if "/" in suffix
)


def _path_rank(target: str) -> int:
    for rank, suffix in _PATH_SUFFIXES:
        if target.startswith(suffix) or f".{suffix}" in target:
            return rank
    return len(_CATEGORIES)


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
_IPV4_ID = len(_HOST_HINTS)


@cache
def _hint_database() -> tuple[Any, Any] | None:
    """Host hints (case-insensitive literals) and the quoted-IP shape, as one Hyperscan
    database and its scratch (None without Hyperscan)."""
    if hyperscan is None:
        return None
    single = hyperscan.HS_FLAG_SINGLEMATCH
    database = hyperscan.Database()
    database.compile(
        expressions=[re.escape(hint) for hint in _HOST_HINTS] + [_IPV4_SHAPE],
        ids=list(range(len(_HOST_HINTS) + 1)),
        elements=len(_HOST_HINTS) + 1,
        flags=[hyperscan.HS_FLAG_CASELESS | single] * len(_HOST_HINTS) + [single],
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
    overlap = max(len(hint) for hint in _HOST_HINTS) - 1
    for start in range(0, len(data), _HINT_CHUNK):
        chunk = data[max(0, start - overlap) : start + _HINT_CHUNK].lower()
        if any(hint in chunk for hint in _HOST_HINTS):
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
class _Found:
    kind: str
    value: str
    offset: int


def extract(data: bytes, *, text: bool) -> list[_Found]:
    """Indicators in a file's bytes; IPs outside URLs and e-mails only in text files."""
    found: dict[tuple[str, str], _Found] = {}

    def add(kind: str, value: str, offset: int) -> None:
        if len(found) < MAX_PER_FILE:
            found.setdefault((kind, value), _Found(kind, value, offset))

    for match in _urls(data):
        url = _clean_url(match.group(0).decode("ascii", "replace"))
        host = _host_of(url)
        if not host or ("." not in host and ":" not in host and host != "localhost"):
            continue
        if "{" in host or "%" in host or "$" in host:
            continue  # templates, not endpoints
        add("url", url, match.start())
        if _ip_category(host) is not None:
            add("ip", host, match.start())
        else:
            add("domain", host, match.start())
    host_hint, maybe_ip = _hints(data)
    for match in _HOST_ONLY.finditer(data) if host_hint else ():
        add("domain", match.group(0).decode("ascii", "replace").lower(), match.start())
    if text:
        for match in _IPV4_QUOTED.finditer(data) if maybe_ip else ():
            value = match.group(1).decode("ascii")
            valid = all(int(octet) <= 255 for octet in value.split("."))
            if valid and _ip_category(value) == "raw-ip" and not value.startswith("0."):
                add("ip", value, match.start(1))
        for value, offset in _emails(data):
            if not value.lower().endswith((".png", ".jpg", ".gif", ".svg", ".js", ".css")):
                add("email", value, offset)
    return sorted(found.values(), key=lambda f: (f.offset, f.kind, f.value))


def extract_chunked(data: Blob, *, text: bool, chunk: int = CHUNK_BYTES) -> list[_Found]:
    """``extract`` over a file of any size, one chunk in memory at a time: each chunk owns the
    indicators that start in it, and is read with a margin before (so a match never starts
    mid-word) and after (so one that starts near its end is whole)."""
    if len(data) <= chunk:
        return extract(data if isinstance(data, bytes) else bytes(data), text=text)
    found: dict[tuple[str, str], _Found] = {}
    for own in range(0, len(data), chunk):
        low = max(0, own - _MARGIN)
        for item in extract(bytes(data[low : own + chunk + _MARGIN]), text=text):
            offset = low + item.offset
            key = (item.kind, item.value)
            if own <= offset < own + chunk and key not in found and len(found) < MAX_PER_FILE:
                found[key] = _Found(item.kind, item.value, offset)
    return sorted(found.values(), key=lambda f: (f.offset, f.kind, f.value))


@dataclass
class IndicatorAnalyzer:
    config: Config
    name: str = NAME

    def accepts(self, entry: FileEntry) -> bool:
        return entry.size > 0 and entry.file_type not in (
            FileType.ARCHIVE,
            FileType.IMAGE,
            FileType.SYMLINK,
            FileType.EMPTY,
        )

    def analyze(self, entry: FileEntry) -> Analysis:
        is_text = entry.file_type in _TEXT_TYPES
        found = extract_chunked(entry.data, text=is_text)
        analysis = Analysis()
        name = entry.name.lower()
        is_code = name.endswith(_CODE_SUFFIXES) or entry.file_type is FileType.SCRIPT
        install = name in _INSTALL_NAMES or name.endswith(".pth")
        reported: set[str] = set()
        for item in found:
            category = classify(item.kind, item.value)
            analysis.indicators.append(
                Indicator(item.kind, item.value, category, (entry.location,))
            )
            if is_code and category in SUSPICIOUS and item.kind in ("url", "domain", "ip"):
                key = _host_of(item.value) if item.kind == "url" else item.value
                if key in reported:  # one finding per host, not per URL and domain
                    continue
                reported.add(key)
                analysis.findings.append(_endpoint_finding(entry, item, category, install, is_text))
        return analysis

    def finish(self, state: ExamState) -> Analysis:
        return Analysis()


def _endpoint_finding(
    entry: FileEntry, item: _Found, category: str, install: bool, is_text: bool
) -> Finding:
    data = entry.data
    line = bytes(data[: item.offset]).count(b"\n") + 1 if is_text else None
    # a live webhook or interaction catcher in code is where stolen data goes; the bare
    # service name (documentation mentioning webhook.site) is only a lead
    live = item.kind == "url" and _has_path(item.value)
    severity = Severity.HIGH if install or (category in _ALWAYS_HIGH and live) else Severity.MEDIUM
    where = "install-time code" if install else "code"
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id=f"ind-{category}",
        severity=severity,
        title=f"Suspicious endpoint in {where}: {category}",
        message=f"{item.value} ({category}) is reachable from {where}",
        location=entry.location,
        found_by=NAME,
        confidence=Confidence.HIGH if install else Confidence.MEDIUM,
        evidence=Evidence(
            snippet=item.value[:160],
            line=line,
            offset=item.offset,
            details={"category": category, "indicator": item.kind},
        ),
        fingerprint_key=item.value,
    )


def _has_path(url: str) -> bool:
    """Whether a URL names something on its host (a webhook id, a bot token, a bin)."""
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    return len(path.strip("/")) >= 6


def make(config: Config) -> IndicatorAnalyzer:
    return IndicatorAnalyzer(config)


__all__ = ["SUSPICIOUS", "IndicatorAnalyzer", "Location", "classify", "extract", "make"]
