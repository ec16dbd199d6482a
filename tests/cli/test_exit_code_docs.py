"""The README and docs/exit-codes.md state the exit codes and the completeness rule the code
implements: the same codes for the same verdicts, the same kinds of gaps, the same rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from builders import encrypted_zip_bytes, write, zip_bytes
from finalexam import cli
from finalexam.cli import main
from finalexam.errors import ConfigError, ExamError, FinalexamError, InputError, UsageError
from finalexam.model import IssueKind
from finalexam.outcome import EXIT_CODES, FAILED, INCOMPLETE, PASSED
from hostile.craft import payload

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXIT_DOC = ROOT / "docs" / "exit-codes.md"
RULE = (
    "An exam is complete only when every file was opened as far as its format allows and every "
    "enabled plug-in finished on every file."
)


def _table(text: str, heading: str, first_column: str) -> list[list[str]]:
    """The rows of the first table under ``heading`` whose header starts with
    ``first_column``, as stripped cells (backquotes removed)."""
    section = text.split(heading, 1)[1]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip().strip("|").split("|")])
    return rows


def _flat(text: str) -> str:
    return " ".join(text.split())


def _documented_codes(path: Path, heading: str) -> dict[int, str]:
    return {int(row[0]): row[1] for row in _table(path.read_text(), heading, "code")}


CODE = EXIT_CODES  # by verdict


def test_the_exit_code_constants_agree_with_each_other() -> None:
    expected = {PASSED: cli.EXIT_PASSED, FAILED: cli.EXIT_FAILED, INCOMPLETE: cli.EXIT_INCOMPLETE}
    assert expected == CODE
    assert UsageError.exit_code == ConfigError.exit_code == InputError.exit_code == cli.EXIT_USAGE
    # an exam that could not complete, and any other error of the tool: incomplete, not passed
    assert ExamError.exit_code == FinalexamError.exit_code == cli.EXIT_INCOMPLETE


@pytest.mark.parametrize(
    ("path", "heading"), [(README, "## Exit codes"), (EXIT_DOC, "# Exit codes")]
)
def test_the_documented_exit_codes_are_the_codes(path: Path, heading: str) -> None:
    assert _documented_codes(path, heading) == {
        CODE[PASSED]: PASSED,
        CODE[FAILED]: FAILED,
        cli.EXIT_USAGE: "",
        CODE[INCOMPLETE]: INCOMPLETE,
    }


def test_both_state_the_same_completeness_rule_and_precedence() -> None:
    for path in (README, EXIT_DOC):
        text = _flat(path.read_text())
        assert RULE in text, f"{path.name} does not state the completeness rule"
        assert re.search(r"\b1\)? wins", text), f"{path.name} does not say that 1 wins over 3"


def test_the_documented_kinds_of_gaps_are_the_issue_kinds() -> None:
    readme = _table(README.read_text(), "### The completeness rule", "kind")
    assert [row[0] for row in readme] == [k.value for k in IssueKind if k.gap]
    docs = _table(EXIT_DOC.read_text(), "## The completeness rule", "kind")
    assert [row[0] for row in docs] == [k.value for k in IssueKind]
    assert [row[1] for row in docs if row[0] == IssueKind.NOTE] == ["nothing: informative only"]


def test_the_help_text_states_the_same_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["scan", "--help"])
    help_text = _flat(capsys.readouterr().out)
    stated = dict(re.findall(r"(\d) (passed|policy failed|usage or configuration error|exam "
                             r"incomplete)", help_text))  # fmt: skip
    assert {int(code): words for code, words in stated.items()} == {
        CODE[PASSED]: "passed",
        CODE[FAILED]: "policy failed",
        cli.EXIT_USAGE: "usage or configuration error",
        CODE[INCOMPLETE]: "exam incomplete",
    }


@pytest.fixture
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    write(tmp_path / "clean.zip", zip_bytes({"app/core.py": "x = 1\n"}))
    write(tmp_path / "key.zip", zip_bytes({"deploy/id_rsa.js": payload()}))
    write(tmp_path / "locked.zip", encrypted_zip_bytes({"app/core.py": "x = 1\n"}))
    locked = encrypted_zip_bytes({"app/core.py": "x = 1\n"})
    write(tmp_path / "both.zip", zip_bytes({"deploy/id_rsa.js": payload(), "locked.zip": locked}))
    return tmp_path


# Each documented code, reached by a real scan; the verdict the report shows goes with it.
RUNS = [
    (["clean.zip"], PASSED),
    (["key.zip"], FAILED),
    (["missing.zip"], ""),
    (["locked.zip"], INCOMPLETE),
    (["both.zip"], FAILED),  # a secret, and a gap: 1 wins over 3
]


@pytest.mark.parametrize(("args", "verdict"), RUNS, ids=[a[0] for a, _ in RUNS])
def test_each_documented_code_is_what_the_cli_returns(
    artifacts: Path, args: list[str], verdict: str
) -> None:
    documented = {v: k for k, v in _documented_codes(README, "## Exit codes").items()}
    out = artifacts / "r.json"
    code = main(["scan", *args, "--disable", "vulnerabilities", "-o", f"json={out}"])
    assert code == documented[verdict]
    if verdict:
        document = json.loads(out.read_text())
        assert document["verdict"]["status"] == verdict.lower()
        assert document["complete"] is (args != ["both.zip"] and verdict != INCOMPLETE)
