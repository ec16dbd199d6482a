"""Typed fields of rule data files, read one way whatever the family: each family raises its
own error type, naming the file."""

from __future__ import annotations

from collections.abc import Mapping


def strings(
    data: Mapping[str, object], key: str, where: str, error: type[ValueError], what: str = "strings"
) -> tuple[str, ...]:
    """A list of strings (empty when the key is absent)."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise error(f"{where}: {key} must be a list of {what}")
    return tuple(value)


def flag(data: Mapping[str, object], key: str, where: str, error: type[ValueError]) -> bool:
    """A true/false switch (false when the key is absent)."""
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise error(f"{where}: {key} must be true or false")
    return value
