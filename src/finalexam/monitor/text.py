"""Untrusted text made visible: package names and evidence come from the artifact."""

from __future__ import annotations

import unicodedata

from finalexam.redact import neutralize

_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")


def visible(value: object, *, lines: bool = True) -> str:
    """Controls, bidi overrides and other invisible characters shown as ``\\u202e``.

    The one neutralisation of the reports (``finalexam.redact.neutralize``), plus the other
    invisible format characters (zero-width joiners, line separators) that a dashboard, an
    e-mail or a chat message would hide or act on. ``lines=False``: a one-line value.
    """
    text = neutralize("" if value is None else str(value), lines=lines)
    if text.isprintable():
        return text
    keep = "\n\t" if lines else ""
    return "".join(
        f"\\u{ord(c):04x}" if c not in keep and unicodedata.category(c) in _HIDDEN else c
        for c in text
    )
