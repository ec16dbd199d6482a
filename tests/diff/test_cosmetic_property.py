"""Renaming locals and re-laying out code is cosmetic; changing what is called never is."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from finalexam.diffing.content import is_cosmetic

# "f" is the function the program defines: a parameter of that name shadows it (not cosmetic).
# The checker reads JavaScript too, where var/let/const/function/this are binding words.
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: (
        n
        not in {
            "def",
            "for",
            "if",
            "in",
            "is",
            "or",
            "and",
            "not",
            "as",
            "return",
            "import",
            "lambda",
            "class",
            "else",
            "elif",
            "try",
            "while",
            "with",
            "pass",
            "del",
            "from",
            "global",
            "yield",
            "raise",
            "print",
            "eval",
            "exec",
            "os",
            "len",
            "f",
            "var",
            "let",
            "const",
            "function",
            "this",
            "self",
            "cls",
        }
    )
)


def program(a: str, b: str, call: str, indent: int, comment: bool) -> str:
    pad = " " * indent
    note = "  # keep" if comment else ""
    return f"import os\ndef f({a}, {b}):{note}\n{pad}return os.{call}({a}) + len({b})\n"


@settings(max_examples=60, deadline=None)
@given(NAMES, NAMES, NAMES, NAMES, st.integers(1, 8), st.booleans())
def test_renaming_locals_is_cosmetic(
    a: str, b: str, c: str, d: str, indent: int, comment: bool
) -> None:
    if len({a, b}) < 2 or len({c, d}) < 2:
        return
    old = program(a, b, "getcwd", 4, False)
    assert is_cosmetic(old, program(c, d, "getcwd", indent, comment), "m.py")
    assert not is_cosmetic(old, program(c, d, "system", indent, comment), "m.py")
