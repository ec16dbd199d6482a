"""Imported YARA rule sets: ``finalexam rules update --source`` (a directory tree or a zip),
rules YARA-X rejects skipped with a warning each, the set's identity in the report, its rules
in every exam, and a third-party rule that cannot stall the exam."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from binbuild import compile_c
from builders import write, zip_bytes
from finalexam.analyze import yara as yara_analyzer
from finalexam.analyze.yara import YaraAnalyzer, severity_of
from finalexam.attest.statement import rule_sets
from finalexam.cli import main
from finalexam.config import Config
from finalexam.errors import ConfigError
from finalexam.exam import run_exam
from finalexam.model import IssueKind, Severity
from schema import assert_valid_report

# Rules written the way public sets write them (YARA Forge / signature-base: meta score,
# author, reference; hex and text strings; a module; THOR's external variables).
MINER = """
import "elf"

rule MAL_Linux_Miner_Stratum_Dec26 : miner linux {
    meta:
        description = "ELF with a stratum mining pool URL and an XMRig option"
        author = "example"
        score = 85
    strings:
        $pool = "stratum+tcp://" ascii
        $opt = "--donate-level" ascii
    condition:
        uint32(0) == 0x464c457f and (elf.type == elf.ET_EXEC or elf.type == elf.ET_DYN)
        and all of them
}

rule HKTL_Generic_Banner : hacktool {
    meta:
        description = "A scanner banner string"
        score = 50
    strings:
        $banner = "ACME-SCANNER-BANNER" ascii wide
    condition:
        $banner
}
"""
BROKEN = """
rule SUSP_Uses_Unknown_Identifier {
    condition: thor_only_variable > 3
}

rule SUSP_Ok_In_Broken_File {
    meta:
        description = "kept although its neighbour is rejected"
    strings:
        $a = "NEIGHBOUR-MARKER"
    condition:
        $a
}
"""
CUCKOO = """
import "cuckoo"

rule SUSP_Sandbox_Only {
    condition: cuckoo.network.http_request(/evil/)
}
"""
NOT_YARA = "rule { this is not YARA"
LIBYARA_REGEX = r"""
rule SUSP_Libyara_Regex {
    strings:
        $re = /GET \/[a-z]{2,8}\.php\?id=\d+&x={/
    condition:
        $re
}
"""
BY_FILENAME = """
rule SUSP_Named_Dropper {
    meta:
        severity = "critical"
        kind = "malicious"
    strings:
        $a = "#!/bin/sh"
    condition:
        $a at 0 and filename == "dropper.sh"
}
"""

MINER_C = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    const char *pool = "stratum+tcp://pool.example.invalid:3333";
    const char *option = "--donate-level";
    if (argc > 5) puts(pool), puts(option);
    return 0;
}
"""


def _rule_tree(root: Path) -> Path:
    write(root / "malware" / "miners.yar", MINER.encode())
    write(root / "suspicious" / "broken.yara", BROKEN.encode())
    write(root / "suspicious" / "sandbox.yar", CUCKOO.encode())
    write(root / "suspicious" / "notyara.yar", NOT_YARA.encode())
    write(root / "thor" / "names.yar", BY_FILENAME.encode())
    write(root / "thor" / "regex.yar", LIBYARA_REGEX.encode())  # a lone `{`: libyara's syntax
    write(root / "README.md", b"not a rule file")
    return root


def _update(store: Path, *args: str) -> int:
    return main(["rules", "update", "--yara-store", str(store), *args])


def test_update_from_a_directory_skips_rejected_rules_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _rule_tree(tmp_path / "signature-base")
    store = tmp_path / "store"
    assert _update(store, "--source", str(source)) == 0
    captured = capsys.readouterr()
    warnings = captured.err.strip().splitlines()
    assert all(line.startswith("finalexam: warning: ") for line in warnings)
    assert sorted(line.removeprefix("finalexam: warning: ") for line in warnings) == [
        "suspicious/broken.yara: rule SUSP_Uses_Unknown_Identifier skipped: unknown "
        "identifier `thor_only_variable`",
        "suspicious/notyara.yar: line 1: syntax error (expecting identifier, found `{`): skipped",
        "suspicious/sandbox.yar: rule SUSP_Sandbox_Only skipped: depends on ignored module "
        "`cuckoo`",
    ]
    assert "imported YARA rule set signature-base: 5 rules from 6 files (3 skipped)" in (
        captured.out
    )
    assert main(["rules", "sets", "--json", "--yara-store", str(store)]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    # sha256 of the inputs: of the sorted "<sha256>  <path>" lines of the rule files
    lines = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(source).as_posix()}\n"
        for p in sorted(source.rglob("*.yar*"))
    )
    assert listed == {
        "name": "signature-base",
        "source": str(source.resolve()),
        "sha256": hashlib.sha256(lines.encode()).hexdigest(),
        "rules": 5,
        "files": 6,
        "skipped": 3,
        "imported": listed["imported"],
        "engine": yara_analyzer.ENGINE,
    }
    assert main(["rules", "list", "--family", "yara", "--yara-store", str(store)]) == 0
    assert "signature-base" in capsys.readouterr().out


def test_update_from_a_zip_replaces_the_set_of_that_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    first = write(tmp_path / "forge.zip", zip_bytes({"packages/full/rules.yar": MINER}))
    assert _update(store, "--source", str(first), "--name", "forge") == 0
    second = write(
        tmp_path / "forge-2.zip",
        zip_bytes({"rules/a.yar": MINER, "rules/b.yar": BY_FILENAME, "../escape.yar": MINER}),
    )
    assert _update(store, "--source", str(second), "--name", "forge") == 0
    capsys.readouterr()
    assert main(["rules", "sets", "--json", "--yara-store", str(store)]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["sha256"] == hashlib.sha256(second.read_bytes()).hexdigest()
    assert (listed["files"], listed["rules"]) == (2, 3)  # the member outside the tree: ignored
    kept = sorted(p.name for p in (store / "forge").iterdir())
    assert kept == ["manifest.json", f"rules-{listed['sha256'][:16]}.yarx"]  # the old one: gone
    assert main(["rules", "remove", "forge", "--yara-store", str(store)]) == 0
    assert not (store / "forge").exists()


def test_a_set_where_nothing_compiles_is_exit_2_and_stores_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    bad = write(tmp_path / "bad" / "x.yar", b"rule a { condition: nope }\n")
    assert _update(store, "--source", str(bad.parent)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no rule compiles with yara-x" in err
    assert "x.yar: rule a skipped: unknown identifier `nope`" in err
    assert not store.exists() or not any(store.iterdir())
    text = write(tmp_path / "notes.txt", b"hello")
    assert _update(store, "--source", str(text)) == 2
    assert "not a YARA rule file" in capsys.readouterr().err


def test_exam_runs_imported_rules_and_records_the_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    assert _update(store, "--source", str(_rule_tree(tmp_path / "rules")), "--name", "sb") == 0
    miner = compile_c(tmp_path, "miner", ["-O0"], MINER_C).read_bytes()
    dist = write(
        tmp_path / "dist.zip",
        zip_bytes(
            {
                "bin/miner": miner,
                "share/banner.txt": "ACME-SCANNER-BANNER\n",
                "share/dropper.sh": "#!/bin/sh\necho hi\n",
                "share/other.sh": "#!/bin/sh\necho hi\n",
            }
        ),
    )
    out = tmp_path / "report.json"
    code = main(["scan", str(dist), "--yara-store", str(store), "-o", f"json={out}"])
    document = json.loads(out.read_text())
    assert_valid_report(document)
    found = {(f["rule_id"], f["location"], f["severity"]) for f in document["findings"]}
    assert {
        ("yara.sb.MAL_Linux_Miner_Stratum_Dec26", "dist.zip!/bin/miner", "high"),
        ("yara.sb.HKTL_Generic_Banner", "dist.zip!/share/banner.txt", "low"),
        ("yara.sb.SUSP_Named_Dropper", "dist.zip!/share/dropper.sh", "critical"),
    } <= found
    assert not any(f[1] == "dist.zip!/share/other.sh" for f in found)  # filename == ...
    miner_finding = next(
        f for f in document["findings"] if f["rule_id"] == "yara.sb.MAL_Linux_Miner_Stratum_Dec26"
    )
    evidence = miner_finding["evidence"]
    assert evidence["rule_set"]["name"] == "sb"
    assert evidence["namespace"] == "malware/miners.yar"
    pool = miner.index(b"stratum+tcp://")
    assert {"identifier": "$pool", "offset": pool, "length": 14} in evidence["strings"]
    section = document["yara_rules"]
    assert section["engine"] == yara_analyzer.ENGINE and section["bundled"] == 5
    (imported,) = section["imported"]
    assert (imported["name"], imported["rules"]) == ("sb", 5)
    assert {"name": "yara-imported:sb", "files": 6, "digest": {"sha256": imported["sha256"]}} in (
        rule_sets(Config(yara_store=str(store)))
    )  # and in a signed exam statement
    assert code == 1  # the high and critical imported rules block under the default policy
    blocked = " ".join(v["message"] for v in document["verdict"]["violations"])
    assert "bin/miner" in blocked and "banner.txt" not in blocked


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({}, Severity.MEDIUM),
        ({"severity": "HIGH"}, Severity.HIGH),
        ({"severity": "bogus", "score": 90}, Severity.HIGH),
        ({"score": 75}, Severity.MEDIUM),
        ({"score": "80"}, Severity.HIGH),
        ({"score": 45}, Severity.LOW),
        ({"score": 10}, Severity.INFO),
        ({"score": True}, Severity.MEDIUM),
    ],
)
def test_third_party_severity(meta: dict[str, object], expected: Severity) -> None:
    assert severity_of(meta) is expected


def test_a_slow_third_party_rule_is_time_boxed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = (
        "rule SUSP_Quadratic { condition: for all i in (0..filesize) : "
        "( for all j in (0..filesize) : (uint8(i) != uint8(j) or true) ) }\n"
    )
    store = tmp_path / "store"
    assert _update(store, "--source", str(write(tmp_path / "slow.yar", slow.encode()))) == 0
    monkeypatch.setattr(yara_analyzer, "TIMEOUT_SECONDS", 1)
    target = write(tmp_path / "data.bin", b"A" * 200_000)
    report = run_exam(target, Config(only=("yara",), yara_store=str(store)))
    (issue,) = [i for i in report.issues if i.kind is IssueKind.TIME_BUDGET]
    assert "timed out" in issue.message and str(issue.location) == "data.bin"
    assert report.complete is False


def test_a_damaged_store_is_a_config_error_unless_yara_is_off(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _update(store, "--source", str(write(tmp_path / "m.yar", MINER.encode()))) == 0
    next((store / "m").glob("*.yarx")).write_bytes(b"not compiled rules")
    with pytest.raises(ConfigError, match=r"cannot be loaded by yara-x.*rules update --source"):
        YaraAnalyzer(Config(yara_store=str(store)))
    YaraAnalyzer(Config(yara_store=str(store), disable=("yara",)))
