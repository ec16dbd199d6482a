from __future__ import annotations

from typing import Any

import pytest

from finalexam.vuln.ranges import fixed_versions, match_affected


def entry(*ranges: dict[str, Any], versions: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"package": {"ecosystem": "PyPI", "name": "x"}, "ranges": list(ranges)}
    if versions is not None:
        out["versions"] = versions
    return out


def eco(*events: dict[str, str], kind: str = "ECOSYSTEM") -> dict[str, Any]:
    return {"type": kind, "events": list(events)}


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9", False), ("1.0", True), ("1.5", True), ("2.0rc1", True), ("2.0", False), ("3", False)],
)
def test_introduced_fixed_half_open(version: str, affected: bool) -> None:
    item = entry(eco({"introduced": "1.0"}, {"fixed": "2.0"}))
    assert (match_affected(item, "PyPI", version) is not None) is affected


@pytest.mark.parametrize(("version", "affected"), [("2.0", True), ("2.0.post1", False)])
def test_last_affected_is_inclusive(version: str, affected: bool) -> None:
    item = entry(eco({"introduced": "0"}, {"last_affected": "2.0"}))
    assert (match_affected(item, "PyPI", version) is not None) is affected


def test_limit_is_exclusive() -> None:
    item = entry(eco({"introduced": "1.0"}, {"limit": "1.5"}))
    assert match_affected(item, "PyPI", "1.4") is not None
    assert match_affected(item, "PyPI", "1.5") is None


def test_several_intervals_in_one_range_and_several_ranges() -> None:
    item = entry(
        eco({"introduced": "1.0"}, {"fixed": "1.2"}, {"introduced": "2.0"}, {"fixed": "2.1"}),
        eco({"introduced": "5.0"}),
    )
    hits = {
        v
        for v in ["0.5", "1.1", "1.2", "1.9", "2.0.5", "2.1", "4", "5.0", "9"]
        if match_affected(item, "PyPI", v)
    }
    assert hits == {"1.1", "2.0.5", "5.0", "9"}


def test_git_range_is_skipped_and_the_next_range_still_counts() -> None:
    git = {
        "type": "GIT",
        "repo": "https://example.org/x",
        "events": [{"introduced": "abc"}, {"fixed": "def.patch"}],
    }
    item = entry(git, eco({"introduced": "0"}, {"fixed": "1.0"}))
    match = match_affected(item, "PyPI", "0.5")
    assert match is not None and match.range_type == "ECOSYSTEM"
    assert match_affected(entry(git), "PyPI", "0.5") is None  # GIT only: undecidable


def test_versions_list_with_equal_spelling() -> None:
    item = entry(versions=["1.0", "1.1"])
    assert match_affected(item, "PyPI", "1.1.0") is not None
    assert match_affected(item, "PyPI", "1.2") is None


def test_no_ranges_no_versions_means_every_version() -> None:
    item = {"package": {"ecosystem": "npm", "name": "evil"}}
    match = match_affected(item, "npm", "9.9.9")
    assert match is not None and match.how == "all-versions"
    assert match_affected(item, "npm", None) is not None


def test_introduced_zero_only_matches_without_version() -> None:
    assert match_affected(entry(eco({"introduced": "0"})), "PyPI", None) is not None
    assert match_affected(entry(eco({"introduced": "0"}, {"fixed": "1"})), "PyPI", None) is None


def test_semver_range_in_go_and_unparseable_version() -> None:
    item = {
        "package": {"ecosystem": "Go", "name": "golang.org/x/text"},
        "ranges": [eco({"introduced": "0"}, {"fixed": "0.3.8"}, kind="SEMVER")],
    }
    assert match_affected(item, "Go", "v0.3.7") is not None
    assert match_affected(item, "Go", "v0.3.8") is None
    assert match_affected(item, "Go", "not a version") is None


def test_fixed_versions_ignore_git() -> None:
    item = entry(
        {"type": "GIT", "events": [{"fixed": "abc"}]},
        eco({"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "2"}, {"fixed": "2.5"}),
    )
    assert fixed_versions(item) == ["1.0", "2.5"]
