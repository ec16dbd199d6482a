"""Debian (and Ubuntu): dpkg's version ordering, ``[epoch:]upstream[-revision]``.

Within upstream and revision, non-digit runs compare character by character where ``~``
sorts before everything (even the end of the string), then letters, then other characters;
digit runs compare numerically.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

_VALID = re.compile(r"^[0-9A-Za-z.+~:-]+$")


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


@functools.lru_cache(maxsize=65536)
def split(version: str) -> tuple[int, str, str]:
    text = version.strip()
    if not text or not _VALID.match(text):
        raise InvalidVersion(f"not a Debian version: {version!r}")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isascii() or not head.isdigit():
            raise InvalidVersion(f"bad epoch in Debian version: {version!r}")
        epoch = int(head)
    upstream, _, revision = text.rpartition("-") if "-" in text else (text, "", "")
    if not upstream or not upstream[0].isdigit():
        raise InvalidVersion(f"Debian upstream version must start with a digit: {version!r}")
    return epoch, upstream, revision


def dpkg_compare(left: str, right: str) -> int:
    a, b = split(left), split(right)
    if a[0] != b[0]:
        return (a[0] > b[0]) - (a[0] < b[0])
    result = _verrevcmp(a[1], b[1]) or _verrevcmp(a[2], b[2])
    return (result > 0) - (result < 0)


_KEY = functools.cmp_to_key(dpkg_compare)


class DpkgScheme:
    name = "dpkg"

    def key(self, version: str) -> Any:
        split(version)
        return _KEY(version)
