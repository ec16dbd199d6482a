"""Alpine (apk): ``digit{.digit}...{letter}{_suffix{N}}...{~hash}{-rN}``, ordered as
apk-tools' ``version.c`` orders versions.

Tokens are compared in order: the numbers, the letter, each suffix and its number, the
commit hash, the revision. Numbers compare numerically, except that a component after a
dot that starts with ``0`` compares as text when either side has the leading zero
(1.05 < 1.1 and 1.010 < 1.02, as in Gentoo's rules). Where two versions part in the *kind*
of their next token, the one that goes on is newer unless it goes on with a pre-release
suffix (``_alpha``, ``_beta``, ``_pre``, ``_rc``); among the other kinds a later kind is
older: 1.2_rc1 < 1.2 < 1.2-r1 < 1.2_p1 < 1.2a < 1.2.1.
"""

from __future__ import annotations

import functools
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

# apk's token kinds, in its order.
_INITIAL, _DIGIT, _LETTER, _SUFFIX, _SUFFIX_NUMBER, _HASH, _REVISION, _END = range(8)
# Suffixes in apk's order; "no suffix" sits between the pre- and post-release ones.
_SUFFIXES = {
    "alpha": 1,
    "beta": 2,
    "pre": 3,
    "rc": 4,
    "cvs": 6,
    "svn": 7,
    "git": 8,
    "hg": 9,
    "p": 10,
}
_NO_SUFFIX = 5
_PRE_RELEASE_RANK = -100  # below every other kind of token where two versions part
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")

Token = tuple[int, int, int, str]  # (rank, 0/1 numeric, number, text)
ApkKey = tuple[Token, ...]


def _run(text: str, at: int, allowed: frozenset[str]) -> int:
    while at < len(text) and text[at] in allowed:
        at += 1
    return at


def _number_token(kind: int, digits: str, leading_zero_is_text: bool) -> Token:
    if leading_zero_is_text and digits.startswith("0"):
        return (-kind, 0, 0, digits)  # any leading-zero component sorts below plain numbers
    return (-kind, 1, int(digits), "")


def _tokens(version: str) -> list[Token]:
    def invalid() -> InvalidVersion:
        return InvalidVersion(f"not an Alpine version: {version!r}")

    text = version.strip()
    at = _run(text, 0, _DIGITS)
    if at == 0:
        raise invalid()
    out = [_number_token(_INITIAL, text[:at], False)]
    kind = _INITIAL
    while at < len(text):
        char = text[at]
        if "a" <= char <= "z":
            if kind > _DIGIT:
                raise invalid()
            kind, at = _LETTER, at + 1
            out.append((-kind, 0, ord(char), ""))
        elif char == ".":
            if kind > _DIGIT:
                raise invalid()
            end = _run(text, at + 1, _DIGITS)
            if end == at + 1:
                raise invalid()
            kind = _DIGIT
            out.append(_number_token(kind, text[at + 1 : end], True))
            at = end
        elif char in _DIGITS:  # only a suffix's number follows without a separator
            if kind != _SUFFIX:
                raise invalid()
            end = _run(text, at, _DIGITS)
            kind = _SUFFIX_NUMBER
            out.append(_number_token(kind, text[at:end], False))
            at = end
        elif char == "_":
            end = at + 1
            while end < len(text) and "a" <= text[end] <= "z":
                end += 1
            suffix = _SUFFIXES.get(text[at + 1 : end])
            if kind > _SUFFIX_NUMBER or suffix is None:
                raise invalid()
            kind, at = _SUFFIX, end
            rank = _PRE_RELEASE_RANK if suffix < _NO_SUFFIX else -kind
            out.append((rank, 0, suffix, ""))
        elif char == "~":
            end = _run(text, at + 1, _HEX)
            if kind >= _HASH or end == at + 1:
                raise invalid()
            kind = _HASH
            out.append((-kind, 0, 0, text[at + 1 : end]))
            at = end
        elif char == "-":
            end = _run(text, at + 2, _DIGITS)
            if kind >= _REVISION or not text.startswith("-r", at) or end == at + 2:
                raise invalid()
            kind = _REVISION
            out.append(_number_token(kind, text[at + 2 : end], False))
            at = end
        else:
            raise invalid()
    out.append((-_END, 0, 0, ""))
    return out


@functools.lru_cache(maxsize=65536)
def apk_key(version: str) -> ApkKey:
    """One entry per token; tuples of them compare as apk compares the versions.

    Each entry leads with a rank: the negated kind of token (a version that goes on with a
    later kind of token is older), or the lowest rank for a pre-release suffix.
    """
    return tuple(_tokens(version))


class ApkScheme:
    name = "apk"

    def key(self, version: str) -> Any:
        return apk_key(version)
