"""What kind of endpoint an indicator names: the category of a URL, domain, IP or e-mail.

Registries, source hosting, documentation and well-known services on one side; raw public
IPs, paste sites, webhooks, tunnels, dynamic DNS, ``.onion``, URL shorteners, file drops and
out-of-band interaction catchers on the other (``SUSPICIOUS``).
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

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

ALWAYS_HIGH = frozenset({"webhook", "oob-interaction"})

# (category, host suffixes); the first matching category wins, most specific first.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
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
    # The first category with a matching suffix wins: by host (memoised, hosts recur across
    # thousands of URLs) or by one of the few suffixes with a path, which look at the URL.
    rank = min(_host_rank(host), _path_rank(target))
    if rank < len(CATEGORIES):
        return CATEGORIES[rank][0]
    return "email" if kind == "email" else "other"


@lru_cache(maxsize=65536)
def _host_rank(host: str) -> int:
    for rank, (_, suffixes) in enumerate(CATEGORIES):
        for suffix in suffixes:
            if "/" in suffix:
                continue
            if suffix.startswith("."):
                if host.endswith(suffix):
                    return rank
            elif host == suffix or host.endswith("." + suffix):
                return rank
    return len(CATEGORIES)


_PATH_SUFFIXES = tuple(
    (rank, suffix)
    for rank, (_, suffixes) in enumerate(CATEGORIES)
    for suffix in suffixes
    if "/" in suffix
)


def _path_rank(target: str) -> int:
    for rank, suffix in _PATH_SUFFIXES:
        if target.startswith(suffix) or f".{suffix}" in target:
            return rank
    return len(CATEGORIES)
