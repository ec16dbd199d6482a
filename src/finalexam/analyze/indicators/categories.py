"""Host categories: what kind of endpoint a URL, domain, IP or e-mail names.

The categories are data, one file each under ``rules/hosts/categories/``::

    id = "tunnel"                    # the category, equal to the file stem
    title = "Tunnels to a developer's machine"
    description = "Why a reviewer cares."
    rank = 5                         # the first category with a matching host wins
    suspicious = true                # in executable code, an endpoint of this kind is a finding
    always_high = false              # high severity in live code, wherever it is
    hosts = ["ngrok.io", ".onion-like-suffix", "discord.com/api/webhooks"]
    bare = ["ngrok.io"]              # also found without a URL: ``<label>.<host>`` anywhere

    [examples]
    match = ["https://abc.ngrok.io/x", "x.ngrok.io"]   # URLs or hosts of this category
    benign = ["ngrok.com"]

A host entry ``a.b`` matches ``a.b`` and its subdomains; ``.b`` matches names ending in
``.b``; an entry with a path (``discord.com/api/webhooks``) matches URLs under it. Raw public
IPs, private addresses and ``.onion`` names are recognised by their shape, not listed.
``rules/hosts/reference.toml`` holds the hosts a release diff treats as reference links
(shell-style globs over the whole host name).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from finalexam.ruledata import flag, strings

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "hosts"
REQUIRED_FIELDS = ("id", "title", "description")  # no severity: a category finds nothing alone
REFERENCE = "reference"
# categories decided by the shape of the address rather than by a list of hosts
SHAPE_SUSPICIOUS = frozenset({"raw-ip", "onion"})
HOST_ENTRY = re.compile(r"^\.?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[a-z0-9._~/-]+)?$")
HOST_GLOB = re.compile(r"^(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*$")


class HostDataError(ValueError):
    """A host file that cannot be used (a packaging error: the suite lints them all)."""


@dataclass(frozen=True)
class HostCategory:
    name: str
    rank: int
    hosts: tuple[str, ...]
    bare: tuple[str, ...] = ()
    suspicious: bool = False
    always_high: bool = False


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise HostDataError(f"{path}: {error}") from None


def _entries(data: dict[str, Any], key: str, path: Path, shape: re.Pattern[str]) -> tuple[str, ...]:
    value = strings(data, key, str(path), HostDataError, "host names")
    for entry in value:
        if not shape.match(entry):
            raise HostDataError(f"{path}: {key}: {entry!r} is not a lowercase host name")
    duplicates = sorted({entry for entry in value if value.count(entry) > 1})
    if duplicates:
        raise HostDataError(f"{path}: {key}: listed twice: {', '.join(duplicates)}")
    return tuple(value)


def read_category(path: Path) -> HostCategory:
    data = _read(path)
    rank = data.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise HostDataError(f"{path}: rank must be a positive whole number")
    hosts = _entries(data, "hosts", path, HOST_ENTRY)
    if not hosts:
        raise HostDataError(f"{path}: hosts: needs at least one host")
    bare = _entries(data, "bare", path, HOST_ENTRY)
    if stray := [b for b in bare if b not in hosts or "/" in b or b.startswith(".")]:
        raise HostDataError(f"{path}: bare: {', '.join(stray)} must be plain names among hosts")
    return HostCategory(
        name=path.stem,
        rank=rank,
        hosts=hosts,
        bare=bare,
        suspicious=flag(data, "suspicious", str(path), HostDataError),
        always_high=flag(data, "always_high", str(path), HostDataError),
    )


@cache
def categories() -> tuple[HostCategory, ...]:
    """The bundled categories, in rank order (ranks are unique: the order decides)."""
    found = sorted(
        (read_category(path) for path in (RULES_DIR / "categories").glob("*.toml")),
        key=lambda c: c.rank,
    )
    ranks = [c.rank for c in found]
    if len(set(ranks)) != len(ranks):
        raise HostDataError(f"{RULES_DIR / 'categories'}: two categories share a rank")
    return tuple(found)


@cache
def suspicious() -> frozenset[str]:
    """Categories whose endpoints in executable code are findings."""
    return SHAPE_SUSPICIOUS | {c.name for c in categories() if c.suspicious}


@cache
def always_high() -> frozenset[str]:
    return frozenset(c.name for c in categories() if c.always_high)


@cache
def bare_hosts() -> tuple[str, ...]:
    """Hosts found without a URL around them, in rank order."""
    return tuple(host for category in categories() for host in category.bare)


@cache
def reference_globs() -> tuple[str, ...]:
    path = RULES_DIR / f"{REFERENCE}.toml"
    return _entries(_read(path), "globs", path, HOST_GLOB)


def is_reference_host(host: str) -> bool:
    """Whether a release diff treats a new endpoint on ``host`` as a reference link."""
    return any(fnmatch.fnmatchcase(host, glob) for glob in reference_globs())


def example_matches(rule_id: str, example: str) -> bool:
    """A category's example is a URL or host of that category; the reference file's, a host
    (or a URL on a host) the release diff treats as a reference."""
    if rule_id == REFERENCE:
        return is_reference_host(host_of(example) if "://" in example else example.lower())
    return classify("url" if "://" in example else "domain", example) == rule_id


def host_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.split(":", 1)[0].lower().rstrip(".")


def ip_category(host: str) -> str | None:
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
        host = host_of(value)
        rest = value.split("://", 1)[-1].lower()
        target = rest
    else:
        host = value.lower()
        target = host
    ip = ip_category(host)
    if ip is not None:
        return ip
    if host.endswith(".onion"):
        return "onion"
    # The first category with a matching entry wins: by host (memoised, hosts recur across
    # thousands of URLs) or by one of the few entries with a path, which look at the URL.
    ordered = categories()
    rank = min(_host_rank(host), _path_rank(target))
    if rank < len(ordered):
        return ordered[rank].name
    return "email" if kind == "email" else "other"


@lru_cache(maxsize=65536)
def _host_rank(host: str) -> int:
    for rank, category in enumerate(categories()):
        for suffix in category.hosts:
            if "/" in suffix:
                continue
            if suffix.startswith("."):
                if host.endswith(suffix):
                    return rank
            elif host == suffix or host.endswith("." + suffix):
                return rank
    return len(categories())


@cache
def _path_entries() -> tuple[tuple[int, str], ...]:
    return tuple(
        (rank, suffix)
        for rank, category in enumerate(categories())
        for suffix in category.hosts
        if "/" in suffix
    )


def _under_path_entry(target: str) -> tuple[int, int] | None:
    """The rank of the first entry with a path a URL (without its scheme, lower case) falls
    under, and where the entry ends in it."""
    for rank, suffix in _path_entries():
        if target.startswith(suffix):
            return rank, len(suffix)
        at = target.find(f".{suffix}")
        if at >= 0:
            return rank, at + 1 + len(suffix)
    return None


def beyond_entry(url: str) -> str | None:
    """What a URL names past the category entry with a path it falls under (a webhook's id
    and token after ``discord.com/api/webhooks/``), or None when it falls under none."""
    rest = url.split("://", 1)[-1]
    found = _under_path_entry(rest.lower())
    return None if found is None else rest[found[1] :]


def _path_rank(target: str) -> int:
    found = _under_path_entry(target)
    return len(categories()) if found is None else found[0]
