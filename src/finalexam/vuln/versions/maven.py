"""Maven: the ordering of ``org.apache.maven.artifact.versioning.ComparableVersion``.

A version is a list of items (integers, qualifiers, sub-lists opened by ``-`` or by a
digit/letter transition). Trailing "null" items (0, "", ga, final, release) are dropped,
qualifiers order alpha < beta < milestone < rc < snapshot < "" (release) < sp < any other
qualifier (alphabetically), and an integer beats a qualifier.
"""

from __future__ import annotations

import functools
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))


def _comparable_qualifier(value: str) -> str:
    if value in _QUALIFIERS:
        return str(_QUALIFIERS.index(value))
    return f"{len(_QUALIFIERS)}-{value}"


class _Item:
    pass


class _Int(_Item):
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


class _Str(_Item):
    __slots__ = ("value",)

    def __init__(self, value: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(value) == 1:
            value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
        self.value = _ALIASES.get(value, value)


class _List(_Item):
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[_Item] = []

    def normalize(self) -> None:
        for index in range(len(self.items) - 1, -1, -1):
            item = self.items[index]
            if _is_null(item):
                del self.items[index]
            elif not isinstance(item, _List):
                break


def _is_null(item: _Item) -> bool:
    if isinstance(item, _Int):
        return item.value == 0
    if isinstance(item, _Str):
        return _comparable_qualifier(item.value) == _RELEASE_INDEX
    assert isinstance(item, _List)
    return not item.items


def _cmp(left: _Item | None, right: _Item | None) -> int:
    """ComparableVersion's Item.compareTo, with None standing for a missing item."""
    if left is None:
        return 0 if right is None else -_cmp(right, None)
    if isinstance(left, _Int):
        if right is None:
            return 0 if left.value == 0 else 1
        if isinstance(right, _Int):
            return (left.value > right.value) - (left.value < right.value)
        return 1
    if isinstance(left, _Str):
        mine = _comparable_qualifier(left.value)
        if right is None:
            return (mine > _RELEASE_INDEX) - (mine < _RELEASE_INDEX)
        if isinstance(right, _Str):
            theirs = _comparable_qualifier(right.value)
            return (mine > theirs) - (mine < theirs)
        return -1
    assert isinstance(left, _List)
    if right is None:
        return 0 if not left.items else _cmp(left.items[0], None)
    if isinstance(right, _Int):
        return -1
    if isinstance(right, _Str):
        return 1
    assert isinstance(right, _List)
    for index in range(max(len(left.items), len(right.items))):
        a = left.items[index] if index < len(left.items) else None
        b = right.items[index] if index < len(right.items) else None
        result = _cmp(a, b) if a is not None else -_cmp(b, None) if b is not None else 0
        if result:
            return result
    return 0


def _parse_item(is_digit: bool, text: str) -> _Item:
    return _Int(int(text)) if is_digit else _Str(text, False)


def parse(version: str) -> _List:
    text = version.strip().lower()
    if not text:
        raise InvalidVersion("empty Maven version")
    root = current = _List()
    stack = [root]
    is_digit = False
    start = 0
    for index, char in enumerate(text):
        if char in ".-":
            if index == start:
                current.items.append(_Int(0))
            else:
                current.items.append(_parse_item(is_digit, text[start:index]))
            start = index + 1
            if char == "-":
                sub = _List()
                current.items.append(sub)
                current = sub
                stack.append(sub)
        elif char.isdigit():
            if not is_digit and index > start:
                current.items.append(_Str(text[start:index], True))
                start = index
                sub = _List()
                current.items.append(sub)
                current = sub
                stack.append(sub)
            is_digit = True
        else:
            if is_digit and index > start:
                current.items.append(_parse_item(True, text[start:index]))
                start = index
                sub = _List()
                current.items.append(sub)
                current = sub
                stack.append(sub)
            is_digit = False
    if len(text) > start:
        if not is_digit and current.items:
            # A trailing ".X" qualifier is read as "-X" (1.0.0.X1 < 1.0.0-X2).
            sub = _List()
            current.items.append(sub)
            current = sub
            stack.append(sub)
        current.items.append(_parse_item(is_digit, text[start:]))
    while stack:
        stack.pop().normalize()
    return root


def maven_compare(left: str, right: str) -> int:
    return _cmp(parse(left), parse(right))


def _cmp_lists(left: _List, right: _List) -> int:
    return _cmp(left, right)


_KEY = functools.cmp_to_key(_cmp_lists)


@functools.lru_cache(maxsize=65536)
def maven_key(version: str) -> Any:
    return _KEY(parse(version))


class MavenScheme:
    name = "maven"

    def key(self, version: str) -> Any:
        return maven_key(version)
