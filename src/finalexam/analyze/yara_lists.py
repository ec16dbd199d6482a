"""YARA matches that a JSON document's structure explains: separate words of a list.

ddtrace 4.16.0's WAF rules (``ddtrace/appsec/rules.json``) list PowerShell cmdlet names to
detect, one string each: ``"invoke-expression", "invoke-history", ..., "invoke-webrequest"``.
``powershell_download_cradle`` wants a download and ``Invoke-Expression`` within 512 bytes, and
sees them in neighbouring entries of the list. A cradle is one command: PowerShell runs the
text of one value, never a run of JSON string values with quotes and commas between them. So
a match is explained by the document when every part of it runs across two or more string
values of a valid JSON document and each value it touches is a bare word (a name: no space,
parenthesis, quote or slash). A cradle kept inside one value (``{"cmd": "IEX (New-Object
Net.WebClient).DownloadString('http://...')"}``), or split into values that hold code or an
address, still matches.
"""

from __future__ import annotations

import bisect
import json
import re

from finalexam.matching.yara import RuleMatch

_STRING_VALUE = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\.)*"')
_BARE_WORD = re.compile(rb'"[A-Za-z0-9_.:+-]{1,64}"')
_SUFFIXES = (".json",)


class JsonStrings:
    """Where each string value of a JSON document sits (byte offsets of its quotes)."""

    def __init__(self, data: bytes) -> None:
        spans = [(m.start(), m.end()) for m in _STRING_VALUE.finditer(data)]
        self.data = data
        self.starts = [start for start, _ in spans]
        self.spans = spans

    def touched(self, start: int, end: int) -> list[tuple[int, int]]:
        first = max(0, bisect.bisect_right(self.starts, start) - 1)
        last = bisect.bisect_left(self.starts, end)
        return [(s, e) for s, e in self.spans[first:last] if s < end and start < e]

    def across_words(self, start: int, end: int) -> bool:
        """The span runs over two or more string values, each a bare word."""
        touched = self.touched(start, end)
        if len(touched) < 2:
            return False
        return all(_BARE_WORD.fullmatch(self.data, s, e) for s, e in touched)


def json_document(name: str, data: bytes) -> JsonStrings | None:
    """The string values of ``data`` when it is a JSON file (by name, and it parses)."""
    if not name.lower().endswith(_SUFFIXES):
        return None
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return None
    return JsonStrings(data)


def explained(document: JsonStrings, match: RuleMatch) -> bool:
    """Every part of the match runs across separate words of a list."""
    return bool(match.strings) and all(
        document.across_words(s.offset, s.offset + s.length) for s in match.strings
    )
