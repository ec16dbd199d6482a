"""Package families of the verdict benchmark: the unit of its dev / held-out split."""

from __future__ import annotations

import re


def family(name: str) -> str:
    """The first word of a package name: google-auth and google-api-core are one family."""
    words = [w for w in re.split(r"[-_.]", name.lower().lstrip("@")) if w]
    return words[0] if words else name.lower()
