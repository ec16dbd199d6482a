"""Obfuscation heuristics that are not single patterns: bidi controls, mixed-script
identifiers, packed and very long code lines, long high-entropy literals, disguised names and
code after an image's end.

Each rule is a file in ``rules/obfuscation/`` (title, severity, the languages it reads, its
thresholds and word lists, examples); the heuristic that reads a file is the function of the
same id in ``HEURISTICS``. Each is a signal, not a verdict (medium at most, but for packed
code and disguised names): minified and generated code is common in honest packages.
Decoders feeding ``exec``/``eval`` and obfuscator signatures are rules in ``rules/behavior/``
and carry the high severities.
"""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.behavior import NAME
from finalexam.entropy import shannon_entropy
from finalexam.model import Confidence, Evidence, Finding, FindingKind, Location, Severity

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "obfuscation"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_WORD = re.compile(r"[^\W\d]\w*")
_ANY_LANGUAGE = "*"


@dataclass(frozen=True)
class ObfuscationRule:
    """One rule file: what the finding says, where it applies and the heuristic's settings."""

    id: str
    title: str
    severity: Severity
    languages: frozenset[str]
    settings: Mapping[str, Any]

    def reads(self, language: str) -> bool:
        return _ANY_LANGUAGE in self.languages or language in self.languages

    def number(self, key: str) -> float:
        value = self.settings[key]
        if not isinstance(value, int | float):
            raise ValueError(f"{self.id}: {key} must be a number")
        return value

    def words(self, key: str) -> frozenset[str]:
        return frozenset(str(word) for word in self.settings[key])

    def pattern(self) -> re.Pattern[str]:
        return re.compile(str(self.settings["pattern"]))


def _read(path: Path) -> ObfuscationRule:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return ObfuscationRule(
        id=str(data["id"]),
        title=str(data["title"]),
        severity=Severity.parse(str(data["severity"])),
        languages=frozenset(data.get("languages") or ()),
        settings=data,
    )


@cache
def rules() -> dict[str, ObfuscationRule]:
    """The bundled rules by id."""
    return {rule.id: rule for rule in map(_read, sorted(RULES_DIR.glob("*.toml")))}


def _finding(
    location: Location, rule: ObfuscationRule, message: str, line: int, snippet: str
) -> Finding:
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id=rule.id,
        severity=rule.severity,
        title=rule.title,
        message=message,
        location=location,
        found_by=NAME,
        confidence=Confidence.MEDIUM,
        evidence=Evidence(snippet=snippet[:160], line=line),
    )


def _bidi_control(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    if text.isascii() or not _BIDI.search(text):
        return []
    for number, line in enumerate(text.splitlines(), 1):
        if _BIDI.search(line):
            shown = "".join(f"<U+{ord(c):04X}>" if c in BIDI_CONTROLS else c for c in line)
            message = "Bidi override characters make code read differently than it runs"
            return [_finding(location, rule, f"{message} (Trojan Source)", number, shown.strip())]
    return []


def _mixed_script(word: str, scripts: tuple[str, ...]) -> bool:
    has_ascii = any("a" <= ch.lower() <= "z" for ch in word)
    if not has_ascii:
        return False
    for ch in word:
        if ord(ch) > 127 and ch.isalpha():
            name = unicodedata.name(ch, "")
            if name.startswith(scripts):
                return True
    return False


def _homoglyph_identifier(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    if text.isascii():
        return []
    scripts = tuple(sorted(rule.words("scripts")))
    for number, line in enumerate(text.splitlines(), 1):
        if line.isascii():
            continue
        word = next((w for w in _WORD.findall(line) if _mixed_script(w, scripts)), None)
        if word is not None:
            message = f"{word!r} mixes Latin and Cyrillic/Greek letters that look alike"
            return [_finding(location, rule, message, number, line.strip())]
    return []


# a quoted string on one line, closed or running to the line's end: possessive, so that a
# line of many unclosed quotes is still read in one pass
_QUOTED_ON_LINE = re.compile(r"""'(?:[^'\\]|\\.)*+'?|"(?:[^"\\]|\\.)*+"?""")


def _packed_code(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    """A call outside the line's strings: a string that names ``exec(`` runs nothing (the
    Python reference's text of the exec statement in pydoc_data/topics.py, one key a line)."""
    least, call = rule.number("min_line_length"), rule.pattern()
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > least and call.search(line) and call.search(_QUOTED_ON_LINE.sub("''", line)):
            message = (
                f"A {len(line)}-character line that evaluates or imports dynamically: "
                "code hidden from review"
            )
            return [_finding(location, rule, message, number, line[:160])]
    return []


def _long_line(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    least = rule.number("min_line_length")
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > least:
            message = f"A {len(line)}-character line: packed or generated code hides there"
            return [_finding(location, rule, message, number, line[:160])]
    return []


def _encoded_blob(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    blobs = _blob_pattern(int(rule.number("min_length")))
    least = rule.number("min_entropy")
    for match in blobs.finditer(text):
        blob = match.group(0)
        if shannon_entropy(blob) > least:
            number = text.count("\n", 0, match.start()) + 1
            message = (
                f"{len(blob)} characters of base64-like data with entropy "
                f"{shannon_entropy(blob):.2f} bits/char"
            )
            return [_finding(location, rule, message, number, blob[:80] + "...")]
    return []


@cache
def _blob_pattern(least: int) -> re.Pattern[str]:
    return re.compile(rf"[A-Za-z0-9+/=_\-]{{{least},}}")


_ESCAPED_LITERAL = re.compile(r"""(['"])((?:\\x[0-9a-fA-F]{2}|\\[0-7]{3})+)\1""")
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\([0-7]{3})")
_NFKC_CANDIDATE = re.compile(r"[^\x00-\x7f]")


def _unescape(body: str) -> str:
    return _ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else chr(int(m.group(2), 8)), body
    )


def _disguised_name(rule: ObfuscationRule, location: Location, text: str) -> list[Finding]:
    """``globals()['\\x65\\x76\\x61\\x6c']``, and identifiers in script or mathematical
    letters that Python folds (NFKC) to ``exec``: a builtin or module named so that a reader
    cannot see it (spelled in escapes, only the rule's ``names`` count)."""
    names = rule.words("names")
    for match in _ESCAPED_LITERAL.finditer(text):
        name = _unescape(match.group(2))
        if name in names:
            number = text.count("\n", 0, match.start()) + 1
            what = f"{name!r} spelled as escapes"
            return [_disguised(rule, location, number, what, match.group(0))]
    if text.isascii() or not any(
        unicodedata.normalize("NFKC", w).isascii()
        for w in _WORD.findall(text)
        if not w.isascii() and _NFKC_CANDIDATE.search(w)
    ):
        return []
    try:  # only identifiers count: ligatures in comments and strings are ordinary text
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return []
    for token in tokens:
        if token.type != tokenize.NAME or token.string.isascii():
            continue
        folded = unicodedata.normalize("NFKC", token.string)
        if folded.isascii() and folded != token.string:
            what = f"{token.string!r} is read by Python as {folded!r}"
            return [_disguised(rule, location, token.start[0], what, token.line.strip())]
    return []


def _disguised(
    rule: ObfuscationRule, location: Location, line: int, what: str, snippet: str
) -> Finding:
    message = f"{what}: written so that a reviewer cannot read what the code calls"
    return _finding(location, rule, message, line, snippet)


_IMAGE_ENDS = ((b"\x89PNG", b"IEND\xaeB`\x82"), (b"\xff\xd8\xff", b"\xff\xd9"), (b"GIF8", b"\x00;"))
_CODE_MARKERS = re.compile(
    rb"(import\s+\w+|exec\s*\(|eval\s*\(|powershell|#!/|require\(|child_process|"
    rb"base64|MZ\x90\x00|\x7fELF)",
    re.IGNORECASE,
)
IMAGE_PAYLOAD = "obf-image-payload"  # read from bytes, by image_trailer()


def image_trailer(location: Location, data: bytes) -> list[Finding]:
    """Code hidden after an image's end marker (steganographic payload carriers)."""
    for magic, end in _IMAGE_ENDS:
        if not data.startswith(magic):
            continue
        position = data.rfind(end) if magic != b"\xff\xd8\xff" else data.find(end, 2)
        if position < 0:
            return []
        trailer = data[position + len(end) :]
        marker = _CODE_MARKERS.search(trailer[:65536]) if len(trailer) >= 32 else None
        if marker is None:
            return []
        message = (
            f"{len(trailer)} bytes follow the image's end marker and contain "
            f"{marker.group(0)[:20].decode('latin-1')!r}"
        )
        snippet = trailer[:80].decode("latin-1").encode("unicode_escape").decode("ascii")
        return [_finding(location, rules()[IMAGE_PAYLOAD], message, 1, snippet)]
    return []


Heuristic = Callable[[ObfuscationRule, Location, str], list[Finding]]
# The heuristic of each text rule file, in the order its findings are reported.
HEURISTICS: dict[str, Heuristic] = {
    "obf-bidi-control": _bidi_control,
    "obf-homoglyph-identifier": _homoglyph_identifier,
    "obf-packed-code": _packed_code,
    "obf-disguised-name": _disguised_name,
    "obf-long-line": _long_line,
    "obf-encoded-blob": _encoded_blob,
}


def inspect(location: Location, text: str, language: str) -> list[Finding]:
    """The findings of every text rule that reads ``language``, at most one each."""
    bundled = rules()
    findings: list[Finding] = []
    for rule_id, heuristic in HEURISTICS.items():
        rule = bundled[rule_id]
        if rule.reads(language):
            findings.extend(heuristic(rule, location, text))
    return findings


# -- the rule family (finalexam rules test / lint / docs) ---------------------------------

_EXAMPLE_LOCATION = Location(("example",))


def example_matches(rule_id: str, example: str) -> bool:
    """Whether the rule's heuristic finds something in the example (an image rule's example
    is the image's bytes spelled as Latin-1)."""
    if rule_id == IMAGE_PAYLOAD:
        found = image_trailer(_EXAMPLE_LOCATION, example.encode("latin-1"))
    else:
        found = HEURISTICS[rule_id](rules()[rule_id], _EXAMPLE_LOCATION, example)
    return any(finding.rule_id == rule_id for finding in found)


def rule_patterns(rule_id: str) -> list[re.Pattern[str]]:
    rule = rules()[rule_id]
    return [rule.pattern()] if "pattern" in rule.settings else []
