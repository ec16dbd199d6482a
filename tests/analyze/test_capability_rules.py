"""Every capability rule file follows the rule convention and its own examples hold."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from finalexam.analyze.binary import capabilities
from finalexam.analyze.binary.capabilities import (
    RULES_DIR,
    RuleError,
    example_matches,
    load_rule,
    load_rules,
)
from finalexam.model import Severity

RULE_FILES = sorted(RULES_DIR.glob("*.toml"))


def test_rules_exist_for_every_required_capability() -> None:
    ids = {rule.id for rule in load_rules()}
    assert {
        "network-client",
        "network-server",
        "dns-resolution",
        "process-creation",
        "dynamic-loading",
        "process-injection",
        "keylogging",
        "screen-capture",
        "anti-debug",
        "anti-vm",
        "token-manipulation",
        "registry-persistence",
        "service-persistence",
        "crypto",
        "compression",
        "disk-wiping",
        "disk-wiping-windows",
        "file-enumeration",
        "ransom-note",
        "service-stop",
        "evasion-impair-defenses",
        "evasion-log-clearing",
        "evasion-self-deletion",
        "c2-framework",
        "behavior-ransomware",
        "behavior-defense-evasion",
        "self-copy",
        "behavior-self-install",
        "network-raw",
    } <= ids


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_file_convention(path: Path) -> None:
    data = tomllib.loads(path.read_text())
    assert data["id"] == path.stem
    for key in ("title", "severity", "description"):
        assert isinstance(data[key], str) and data[key]
    Severity.parse(data["severity"])
    assert data["examples"]["match"] and data["examples"]["benign"]
    load_rule(path)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_examples(path: Path) -> None:
    rule = load_rule(path)
    for example in rule.match_examples:
        assert example_matches(rule.id, example), f"{rule.id} should match {example!r}"
    for example in rule.benign_examples:
        assert not example_matches(rule.id, example), f"{rule.id} should not match {example!r}"


def test_malformed_rules_are_rejected(tmp_path: Path) -> None:
    wrong_id = tmp_path / "a.toml"
    wrong_id.write_text(
        'id = "b"\ntitle = "t"\nseverity = "low"\ndescription = "d"\n[imports]\nany = ["x"]\n'
    )
    with pytest.raises(RuleError, match="differs from the file name"):
        load_rule(wrong_id)
    no_family = tmp_path / "c.toml"
    no_family.write_text('id = "c"\ntitle = "t"\nseverity = "low"\ndescription = "d"\n')
    with pytest.raises(RuleError, match="no family"):
        load_rule(no_family)


def test_strings_are_found_in_utf16_and_any_case() -> None:
    facts = capabilities.BinaryFacts("pe", "x86_64", "executable")
    data = b"MZ\0\0" + "cmd /c VSSADMIN Delete Shadows /all".encode("utf-16-le")
    matched = {match.rule.id for match in capabilities.match_all(facts, data)}
    assert "disk-wiping-windows" in matched
    assert "disk-wiping-windows" not in {
        match.rule.id for match in capabilities.match_all(facts, b"MZ vssadmin list shadows")
    }


def test_hyperscan_and_plain_search_agree() -> None:
    pytest.importorskip("hyperscan")
    wanted = capabilities.rule_strings(load_rules())
    needles = [(t, t.encode()) for t in wanted] + [(t, t.encode("utf-16-le")) for t in wanted]
    plain = capabilities._search_each(needles)
    fast = capabilities._string_scanner(wanted)
    data = b"x TracerPid: /PROC/%d/maps " + "VBoxService vmtoolsd".encode("utf-16-le")
    for wide in (False, True):
        assert plain(data, wide) == fast(data, wide)
    assert fast(data, True).keys() >= {"tracerpid", "/proc/%d/maps", "vboxservice", "vmtoolsd"}
    assert fast(data, True)["/proc/%d/maps"] == data.index(b"/PROC/%d/maps")
    assert "vboxservice" not in fast(data, False)


def test_the_pattern_prefilter_never_drops_a_match() -> None:
    pytest.importorskip("hyperscan")
    rules = load_rules()
    patterns = capabilities._rule_patterns(rules)
    present = capabilities._pattern_prefilter(patterns)
    assert present is not None
    texts = [
        item.strip()
        for rule in rules
        for example in (*rule.match_examples, *rule.benign_examples)
        for family, _, items in [part.partition(":") for part in example.split(";")]
        if family.strip() == "patterns"
        for item in items.split(",")
    ]
    assert len(texts) > 30
    for text in texts:
        data = f"padding {text} padding".encode()
        matched = {p for p in patterns if capabilities._compile(p).search(data)}
        assert matched <= present(data), text
    # and it lets through only what may match: a file without any of them runs no pattern
    assert not present(b"\x7fELF plain bytes with nothing to say" * 1000)
