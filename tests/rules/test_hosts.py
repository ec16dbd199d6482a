"""Host categories and the release diff's reference hosts are data: every file parses, no
host is listed twice or where an earlier entry already decides it, the reference globs are
well formed, and a broken file says which file and what is wrong."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from finalexam.analyze.indicators import categories as hosts
from finalexam.analyze.indicators.categories import (
    HostDataError,
    categories,
    classify,
    is_reference_host,
    read_category,
    reference_globs,
)
from finalexam.analyze.indicators.extract import extract


def _decides(earlier: str, later: str) -> bool:
    """Whether entry ``earlier`` matches every host or URL that ``later`` matches."""
    if "/" in earlier:
        return later.startswith(earlier) or f".{earlier}" in later
    host = later.split("/", 1)[0]
    if earlier.startswith("."):
        return host.endswith(earlier)
    return host == earlier or host.endswith("." + earlier)


def test_every_category_file_parses_in_rank_order() -> None:
    found = categories()
    assert [c.rank for c in found] == sorted({c.rank for c in found})
    stems = {p.stem for p in (hosts.RULES_DIR / "categories").glob("*.toml")}
    assert {c.name for c in found} == stems
    assert {"webhook", "tunnel", "registry", "docs"} <= stems
    assert hosts.suspicious() >= {"raw-ip", "onion", "webhook", "tunnel", "paste-site"}
    assert "registry" not in hosts.suspicious()


def test_no_host_is_listed_twice_or_after_an_entry_that_decides_it() -> None:
    seen: list[tuple[str, str]] = []  # (category, entry) in the order classify tries them
    for category in categories():
        for entry in category.hosts:
            for where, earlier in seen:
                assert earlier != entry, f"{entry} is in {where} and {category.name}"
                assert not _decides(earlier, entry), (
                    f"{category.name}: {entry} is already decided by {earlier} ({where})"
                )
            seen.append((category.name, entry))


def test_reference_globs_are_well_formed_and_distinct() -> None:
    globs = reference_globs()
    assert len(set(globs)) == len(globs)
    for glob in globs:
        assert glob == glob.lower() and glob.count("*") <= 1
        assert "*" not in glob or glob.startswith("*.")
    assert is_reference_host("docs.python.org") and is_reference_host("github.com")
    assert not is_reference_host("raw.githubusercontent.com")
    assert not is_reference_host("wikipedia.org")  # only its language subdomains
    assert all(fnmatch.fnmatchcase(g.removeprefix("*."), "*") for g in globs)


def test_bare_hosts_are_found_without_a_url_around_them() -> None:
    for category in categories():
        for host in category.bare:
            text = f"connect to box1.{host.upper()} now".encode()
            assert [(f.kind, f.value) for f in extract(text, text=True)] == [
                ("domain", f"box1.{host}")
            ]
            assert classify("domain", f"box1.{host}") == category.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('rank = 1\nhosts = ["a.org"]\nbare = ["b.org"]\n', "must be plain names among hosts"),
        ('rank = 1\nhosts = ["a.org", "a.org"]\n', "listed twice: a.org"),
        ('rank = 1\nhosts = ["Evil.ORG"]\n', "is not a lowercase host name"),
        ('rank = 0\nhosts = ["a.org"]\n', "rank must be a positive whole number"),
        ('rank = 1\nhosts = ["a.org"]\nsuspicious = "yes"\n', "suspicious must be true or false"),
        ("rank = 1\nhosts = []\n", "needs at least one host"),
        ("rank = [\n", "x.toml"),
    ],
)
def test_broken_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(HostDataError, match=message):
        read_category(path)
