"""Untrusted text made visible: package names and evidence come from the artifact."""

from __future__ import annotations

import unicodedata

_KEEP = frozenset("\n\t")


def visible(value: object) -> str:
    """Control and format characters (bidi overrides, zero-width, escapes) as ``<U+XXXX>``.

    A bidi override in a package name would reorder what a person reads on the dashboard or
    in an e-mail; a terminal escape would rewrite the screen. Shown as code points instead.
    """
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(
        f"<U+{ord(c):04X}>"
        if c not in _KEEP and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
        else c
        for c in text
    )
