"""RPM: ``[epoch:]version[-release]`` ordered as rpm's ``rpmverCmp`` (Red Hat, SUSE, AlmaLinux,
Rocky...): epochs numerically (none is 0), then ``rpmvercmp`` on the versions, then on the
releases, where a missing release sorts before any release (as ``rpm.vercmp`` says).

Within ``rpmvercmp`` alphanumeric segments are compared (numbers numerically and above
letters), other characters only separate, ``~`` sorts before everything (pre-releases) and
``^`` after the base version but before any further segment (post-release snapshots).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

_SEGMENT = re.compile(r"[0-9]+|[A-Za-z]+")
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and a[i] not in _ASCII_ALNUM and a[i] not in "~^":
            i += 1
        while j < len(b) and b[j] not in _ASCII_ALNUM and b[j] not in "~^":
            j += 1
        a_tilde = i < len(a) and a[i] == "~"
        b_tilde = j < len(b) and b[j] == "~"
        if a_tilde or b_tilde:
            if not (a_tilde and b_tilde):
                return -1 if a_tilde else 1
            i += 1
            j += 1
            continue
        a_caret = i < len(a) and a[i] == "^"
        b_caret = j < len(b) and b[j] == "^"
        if a_caret or b_caret:
            if i >= len(a):
                return -1
            if j >= len(b):
                return 1
            if not (a_caret and b_caret):
                return -1 if a_caret else 1
            i += 1
            j += 1
            continue
        if i >= len(a) or j >= len(b):
            break
        seg_a = _SEGMENT.match(a, i)
        seg_b = _SEGMENT.match(b, j)
        assert seg_a is not None and seg_b is not None
        text_a, text_b = seg_a.group(), seg_b.group()
        numeric = text_a[0] in "0123456789"
        if numeric != (text_b[0] in "0123456789"):
            return 1 if numeric else -1  # a number is newer than letters
        if numeric:
            value_a, value_b = int(text_a), int(text_b)
            if value_a != value_b:
                return 1 if value_a > value_b else -1
        elif text_a != text_b:
            return 1 if text_a > text_b else -1
        i, j = seg_a.end(), seg_b.end()
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


@functools.lru_cache(maxsize=65536)
def split(version: str) -> tuple[int, str, str]:
    text = version.strip()
    if not text or any(c.isspace() for c in text):
        raise InvalidVersion(f"not an RPM version: {version!r}")
    epoch = 0
    if ":" in text:
        head, text = text.split(":", 1)
        if not head.isascii() or not head.isdigit():
            raise InvalidVersion(f"bad epoch in RPM version: {version!r}")
        epoch = int(head)
    ver, dash, release = text.rpartition("-") if "-" in text else (text, "", "")
    if not ver or (dash and not release):
        raise InvalidVersion(f"not an RPM version: {version!r}")
    return epoch, ver, release


def rpm_compare(left: str, right: str) -> int:
    a, b = split(left), split(right)
    if a[0] != b[0]:
        return (a[0] > b[0]) - (a[0] < b[0])
    result = rpmvercmp(a[1], b[1])
    if result == 0 and a[2] != b[2]:
        result = rpmvercmp(a[2], b[2]) if a[2] and b[2] else (1 if a[2] else -1)
    return result


_KEY = functools.cmp_to_key(rpm_compare)


class RpmScheme:
    name = "rpm"

    def key(self, version: str) -> Any:
        split(version)
        return _KEY(version)
