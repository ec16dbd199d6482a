"""Rules tooling over a family defined here: a tiny regex engine with real rule files."""

from __future__ import annotations

import json
import pkgutil
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import finalexam.cli as cli_package
from finalexam import ruleset
from finalexam.cli import COMMANDS, main
from finalexam.docgen import configuration_markdown, rules_markdown
from finalexam.ruleset import RuleFamily, lint, load_rules, run_examples

DOCS = Path(__file__).resolve().parents[2] / "docs"

GOOD = {
    "digits.toml": """id = "digits"
title = "Long digit run"
severity = "medium"
description = "Ten or more digits in a row | may be an account number."
pattern = "[0-9]{10,}"

[examples]
match = ["acct 1234567890"]
benign = ["call 123-456"]
""",
    "shout.toml": """id = "shout"
title = "Shouting"
severity = "low"
description = "Three capital words."
pattern = "\\\\b[A-Z]{3,} [A-Z]{3,} [A-Z]{3,}\\\\b"

[examples]
match = ["THIS ONE SHOUTS"]
benign = ["this is quiet", "ONE two THREE"]
""",
    "packed.yar": """rule packed_upx : packer {
  meta:
    description = "UPX packed executable"
  strings:
    $a = "UPX!"
  condition:
    $a
}
""",
}


def regex_family(directory: Path, name: str = "regex") -> RuleFamily:
    def pattern_of(rule_id: str) -> re.Pattern[str]:
        with (directory / f"{rule_id}.toml").open("rb") as handle:
            return re.compile(tomllib.load(handle)["pattern"])

    def example_matches(rule_id: str, example: str) -> bool:
        return pattern_of(rule_id).search(example) is not None

    def rule_patterns(rule_id: str) -> tuple[re.Pattern[str], ...]:
        return (pattern_of(rule_id),)

    return RuleFamily(
        name, directory, example_matches, "regular expressions over text", rule_patterns
    )


@pytest.fixture
def family(tmp_path: Path) -> Iterator[Path]:
    """The registry holds only a family defined here, whatever engines are registered."""
    directory = tmp_path / "regex"
    directory.mkdir()
    for name, text in GOOD.items():
        (directory / name).write_text(text)
    registered = dict(ruleset.RULE_FAMILIES)
    ruleset.RULE_FAMILIES.clear()
    ruleset.RULE_FAMILIES["regex"] = regex_family(directory)
    try:
        yield directory
    finally:
        ruleset.RULE_FAMILIES.clear()
        ruleset.RULE_FAMILIES.update(registered)


def test_load_list_and_show(family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = load_rules()
    assert [(r.family, r.id, r.format) for r in rules] == [
        ("regex", "digits", "toml"),
        ("regex", "packed", "yara"),
        ("regex", "shout", "toml"),
    ]
    assert rules[1].yara_rules == ("packed_upx",)
    assert rules[1].description == "UPX packed executable"
    assert main(["rules", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in listed] == ["digits", "packed", "shout"]
    assert listed[0]["file"] == "regex/digits.toml"
    assert main(["rules", "list"]) == 0
    assert "Long digit run" in capsys.readouterr().out
    assert main(["rules", "show", "regex/digits"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("regex/digits  [medium]\ntitle: Long digit run\n")
    assert '"acct 1234567890"' in shown
    assert main(["rules", "show", "nope"]) == 2
    assert main(["rules", "list", "--family", "nope"]) == 2


def test_examples_pass_then_a_broken_rule_fails(
    family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "test"]) == 0
    assert capsys.readouterr().out == "5 examples in 2 rules: 5 passed, 0 failed\n"
    text = (family / "digits.toml").read_text().replace("{10,}", "{3,}")
    (family / "digits.toml").write_text(text)
    assert main(["rules", "test", "digits"]) == 1
    out = capsys.readouterr().out
    assert 'FAIL regex/digits: benign example "call 123-456": matched' in out
    assert out.endswith("2 examples in 1 rules: 1 passed, 1 failed\n")


def test_lint_clean_family(family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lint(load_rules()) == []
    assert main(["rules", "lint"]) == 0
    assert capsys.readouterr().out == "3 rule files, 0 problems\n"


def test_lint_reports_every_problem(family: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (family / "renamed.toml").write_text(
        'id = "other"\ntitle = "x"\nseverity = "severe"\npattern = "x"\n'
        '[examples]\nmatch = ["x"]\nbenign = []\n'
    )
    (family / "bare.toml").write_text('id = "bare"\npattern = "b"\n')
    (family / "broken.toml").write_text("id = \n")
    (family / "wrong.toml").write_text(
        'id = "wrong"\ntitle = "t"\nseverity = "low"\ndescription = "d"\npattern = "z"\n'
        '[examples]\nmatch = ["a"]\nbenign = ["z"]\n'
    )
    (family / "bad.yar").write_text("rule bad { condition: $missing }\n")
    assert main(["rules", "lint"]) == 1
    out = capsys.readouterr().out.splitlines()
    problems = [line.removeprefix(str(family) + "/") for line in out[:-1]]
    assert out[-1] == "8 rule files, 13 problems"
    assert set(problems) >= {
        "bare.toml: missing required field 'title'",
        "bare.toml: missing required field 'severity'",
        "bare.toml: missing required field 'description'",
        "bare.toml: missing [examples] table (match and benign)",
        "renamed.toml: id 'other' does not equal the file stem 'renamed'",
        "renamed.toml: severity 'severe' is not one of info, low, medium, high, critical",
        "renamed.toml: examples.benign: needs at least one example",
        "wrong.toml: match example 'a': did not match",
        "wrong.toml: benign example 'z': matched",
    }
    assert any(p.startswith("broken.toml: invalid TOML") for p in problems)
    assert any(p.startswith("bad.yar: YARA does not compile") for p in problems)


def test_engine_errors_fail_the_example(tmp_path: Path) -> None:
    directory = tmp_path / "boom"
    directory.mkdir()
    (directory / "digits.toml").write_text(GOOD["digits.toml"])

    def explode(rule_id: str, example: str) -> bool:
        raise RuntimeError("engine down")

    families = {"boom": RuleFamily("boom", directory, explode)}
    results = run_examples(load_rules(families), families)
    assert [r.passed for r in results] == [False, False]
    assert results[0].error == "RuntimeError: engine down"


def test_rules_docs_generated_from_rule_files(
    family: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = rules_markdown()
    assert "| [regex](#regex) | 3 | regular expressions over text |" in text
    assert "### regex/digits" in text
    assert "Ten or more digits in a row | may be an account number." in text
    assert "YARA rules `packed_upx`" in text
    out = tmp_path / "rules.md"
    assert main(["rules", "docs", "-o", str(out)]) == 0
    assert out.read_text() == text
    assert main(["rules", "docs", "-o", str(out), "--check"]) == 0
    (family / "shout.toml").write_text(GOOD["shout.toml"].replace("Shouting", "Yelling"))
    assert main(["rules", "docs", "-o", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out


def test_docs_rules_md_is_current() -> None:
    """Regenerate with: PYTHONPATH=src python scripts/gen_docs.py"""
    assert (DOCS / "rules.md").read_text() == rules_markdown()


def test_docs_configuration_md_is_current() -> None:
    """Regenerate with: PYTHONPATH=src python scripts/gen_docs.py"""
    text = configuration_markdown()
    assert (DOCS / "configuration.md").read_text() == text
    assert "| `fail_on` | `--fail-on` | `FINALEXAM_FAIL_ON` |" in text
    assert (
        "| `max_total_bytes` | `--max-total-bytes` | `FINALEXAM_MAX_TOTAL_BYTES` | integer "
        "| `16G` |" in text
    )


def test_every_rule_directory_is_a_registered_family() -> None:
    root = ruleset.RULES_ROOT
    directories = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    directories.discard("__pycache__")
    missing = directories - set(ruleset.RULE_FAMILIES)
    assert not missing, f"rule directories without a RULE_FAMILIES entry: {sorted(missing)}"
    for family in ruleset.RULE_FAMILIES.values():
        assert family.rules_dir.is_dir(), family.name


def test_registered_families_pass_lint() -> None:
    problems = lint(load_rules())
    assert not problems, "\n".join(str(p) for p in problems)


def test_every_cli_module_is_registered() -> None:
    modules = {
        m.name
        for m in pkgutil.iter_modules(cli_package.__path__)
        if m.name not in {"common", "ui", "signals"}
    }
    registered = {module.__name__.rsplit(".", 1)[-1] for module in COMMANDS}
    assert modules <= registered, f"not in COMMANDS: {sorted(modules - registered)}"


BACKTRACKING = {
    # quadratic: every line start of a run of blank lines scans the rest of the run
    "indented-key": (r"(?m)^\s*key=(\w+)", r"(?m)^[^\S\n]*key=(\w+)", "  key=abc"),
    # quadratic: every 'curl' of a long line scans to its end looking for a URL
    "curl-url": (
        r"curl\b[^\n]*https?://",
        r"(?m)^(?>[^\n]*?curl\b)[^\n]*https?://",
        "curl http://x",
    ),
    # exponential: nested repeats on a run of letters that ends badly
    "nested": (r"^(\w+)+$", r"^\w+$", "word"),
}


@pytest.mark.parametrize("rule_id", sorted(BACKTRACKING))
def test_lint_fails_a_pattern_that_backtracks_and_passes_its_linear_form(
    family: Path, rule_id: str
) -> None:
    slow, linear, example = BACKTRACKING[rule_id]
    for pattern, problems in ((slow, 1), (linear, 0)):
        (family / f"{rule_id}.toml").write_text(
            f'id = "{rule_id}"\ntitle = "t"\nseverity = "low"\ndescription = "d"\n'
            f"pattern = '''{pattern}'''\n[examples]\nmatch = ['{example}']\n"
            "benign = ['no match!']\n"
        )
        found = lint(load_rules())
        assert len(found) == problems, found
        if problems:
            assert found[0].path.name == f"{rule_id}.toml"
            assert "backtracks on" in found[0].message
