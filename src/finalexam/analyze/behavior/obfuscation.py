"""Obfuscation heuristics that are not single patterns: bidi controls, mixed-script
identifiers, very long code lines and long high-entropy literals.

Each is a signal, not a verdict (medium at most): minified and generated code is common in
honest packages. Decoders feeding ``exec``/``eval`` and obfuscator signatures are rules in
``rules/behavior/`` and carry the high severities.
"""

from __future__ import annotations

import io
import math
import re
import tokenize
import unicodedata
from collections import Counter

from finalexam.analyze.behavior import NAME
from finalexam.model import Confidence, Evidence, Finding, FindingKind, Location, Severity

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_BIDI = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
LONG_LINE = 5000
PACKED_LINE = 1000
_PACKED_CALL = re.compile(r"\b(exec|eval|compile|__import__)\s*\(")
BLOB_MIN = 1000
_BLOB = re.compile(rf"[A-Za-z0-9+/=_\-]{{{BLOB_MIN},}}")
_WORD = re.compile(r"[^\W\d]\w*")
_CONFUSABLE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE")


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def _finding(
    location: Location,
    rule_id: str,
    severity: Severity,
    title: str,
    message: str,
    line: int,
    snippet: str,
) -> Finding:
    return Finding(
        kind=FindingKind.BEHAVIOR,
        rule_id=rule_id,
        severity=severity,
        title=title,
        message=message,
        location=location,
        found_by=NAME,
        confidence=Confidence.MEDIUM,
        evidence=Evidence(snippet=snippet[:160], line=line),
    )


def _mixed_script(word: str) -> bool:
    has_ascii = any("a" <= ch.lower() <= "z" for ch in word)
    if not has_ascii:
        return False
    for ch in word:
        if ord(ch) > 127 and ch.isalpha():
            name = unicodedata.name(ch, "")
            if name.startswith(_CONFUSABLE_SCRIPTS):
                return True
    return False


def inspect(location: Location, text: str, language: str) -> list[Finding]:
    findings: list[Finding] = []
    lines = text.splitlines()
    if not text.isascii():
        for number, line in enumerate(lines if _BIDI.search(text) else (), 1):
            if _BIDI.search(line):
                shown = "".join(f"<U+{ord(c):04X}>" if c in BIDI_CONTROLS else c for c in line)
                findings.append(
                    _finding(
                        location,
                        "obf-bidi-control",
                        Severity.MEDIUM,
                        "Unicode bidirectional control in code",
                        "Bidi override characters make code read differently than it runs "
                        "(Trojan Source)",
                        number,
                        shown.strip(),
                    )
                )
                break
        if language in ("python", "javascript"):
            for number, line in enumerate(lines, 1):
                if line.isascii():
                    continue
                word = next((w for w in _WORD.findall(line) if _mixed_script(w)), None)
                if word is not None:
                    findings.append(
                        _finding(
                            location,
                            "obf-homoglyph-identifier",
                            Severity.MEDIUM,
                            "Identifier mixes Latin with look-alike letters",
                            f"{word!r} mixes Latin and Cyrillic/Greek letters that look alike",
                            number,
                            line.strip(),
                        )
                    )
                    break
    if language == "python":
        for number, line in enumerate(lines, 1):
            if len(line) > PACKED_LINE and _PACKED_CALL.search(line):
                findings.append(
                    _finding(
                        location,
                        "obf-packed-code",
                        Severity.HIGH,
                        "Packed code evaluated on one very long line",
                        f"A {len(line)}-character line that evaluates or imports dynamically: "
                        "code hidden from review",
                        number,
                        line[:160],
                    )
                )
                break
    if language == "python":
        findings.extend(_disguised_names(location, text))
    if language in ("python", "shell", "powershell", "batch"):
        for number, line in enumerate(lines, 1):
            if len(line) > LONG_LINE:
                findings.append(
                    _finding(
                        location,
                        "obf-long-line",
                        Severity.LOW,
                        "Very long line of code",
                        f"A {len(line)}-character line: packed or generated code hides there",
                        number,
                        line[:160],
                    )
                )
                break
    if language in ("python", "javascript", "shell", "powershell"):
        for match in _BLOB.finditer(text):
            blob = match.group(0)
            if shannon_entropy(blob) > 5.3:
                number = text.count("\n", 0, match.start()) + 1
                findings.append(
                    _finding(
                        location,
                        "obf-encoded-blob",
                        Severity.LOW,
                        "Long high-entropy encoded literal",
                        f"{len(blob)} characters of base64-like data with entropy "
                        f"{shannon_entropy(blob):.2f} bits/char",
                        number,
                        blob[:80] + "...",
                    )
                )
                break
    return findings


# Names a program only spells in escapes or in look-alike letters when it hides what it calls.
_DANGEROUS_NAMES = frozenset(
    {
        "eval", "exec", "compile", "__import__", "getattr", "globals", "__builtins__",
        "builtins", "zlib", "base64", "marshal", "decompress", "b64decode", "os", "system",
        "subprocess", "popen", "socket", "requests", "urllib", "ctypes",
    }
)  # fmt: skip
_ESCAPED_LITERAL = re.compile(r"""(['"])((?:\\x[0-9a-fA-F]{2}|\\[0-7]{3})+)\1""")
_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\([0-7]{3})")
_NFKC_CANDIDATE = re.compile(r"[^\x00-\x7f]")


def _unescape(body: str) -> str:
    return _ESCAPE.sub(
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else chr(int(m.group(2), 8)), body
    )


def _disguised_names(location: Location, text: str) -> list[Finding]:
    """``globals()['\\x65\\x76\\x61\\x6c']``, and identifiers in script or mathematical
    letters that Python folds (NFKC) to ``exec``: a builtin or module named so that a reader
    cannot see it."""
    for match in _ESCAPED_LITERAL.finditer(text):
        name = _unescape(match.group(2))
        if name in _DANGEROUS_NAMES:
            number = text.count("\n", 0, match.start()) + 1
            return [_disguised(location, number, f"{name!r} spelled as escapes", match.group(0))]
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
            return [_disguised(location, token.start[0], what, token.line.strip())]
    return []


def _disguised(location: Location, line: int, what: str, snippet: str) -> Finding:
    finding = _finding(
        location,
        "obf-disguised-name",
        Severity.HIGH,
        "Name of a function or module disguised",
        f"{what}: written so that a reviewer cannot read what the code calls",
        line,
        snippet,
    )
    return finding


_IMAGE_ENDS = ((b"\x89PNG", b"IEND\xaeB`\x82"), (b"\xff\xd8\xff", b"\xff\xd9"), (b"GIF8", b"\x00;"))
_CODE_MARKERS = re.compile(
    rb"(import\s+\w+|exec\s*\(|eval\s*\(|powershell|#!/|require\(|child_process|"
    rb"base64|MZ\x90\x00|\x7fELF)",
    re.IGNORECASE,
)


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
        return [
            _finding(
                location,
                "obf-image-payload",
                Severity.MEDIUM,
                "Code hidden after the end of an image",
                f"{len(trailer)} bytes follow the image's end marker and contain "
                f"{marker.group(0)[:20].decode('latin-1')!r}",
                1,
                trailer[:80].decode("latin-1").encode("unicode_escape").decode("ascii"),
            )
        ]
    return []
