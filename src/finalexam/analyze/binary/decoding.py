"""Text hidden in hex- or Base64-encoded runs of a binary: commands and URLs that a program
decodes before use (``6469736f776e3b...`` = ``disown; ...``). Only runs that decode to mostly
printable text are kept, so hashes, keys and tables stay out."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

_HEX_RUN = re.compile(rb"(?:[0-9a-fA-F]{2}){10,}")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{20,}={0,2}")
_MAX_RUNS = 4096
_MAX_DECODED = 1024 * 1024
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_MIN_PRINTABLE = 0.9
# The Base64 alphabet itself (every encoder carries it) decodes to noise: not a run to read.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Run:
    offset: int  # of the encoded text in the file
    encoding: str  # hex-decoded, base64-decoded
    data: bytes


def decoded_runs(data: bytes) -> list[Run]:
    """The readable text behind hex and Base64 runs of ``data`` (bounded in count and size)."""
    runs: list[Run] = []
    total = 0
    for encoding, pattern, decode in (
        ("hex-decoded", _HEX_RUN, _unhex),
        ("base64-decoded", _BASE64_RUN, _unbase64),
    ):
        for found in pattern.finditer(data):
            if len(runs) >= _MAX_RUNS or total >= _MAX_DECODED:
                return runs
            text = found.group(0)
            if _ALPHABET in text:
                continue
            decoded = decode(text)
            if decoded and _readable(decoded):
                runs.append(Run(found.start(), encoding, decoded))
                total += len(decoded)
    return runs


def _unhex(text: bytes) -> bytes | None:
    try:
        return binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        return None


def _unbase64(text: bytes) -> bytes | None:
    body = text.rstrip(b"=")
    body = body[: len(body) - len(body) % 4] if len(body) % 4 == 1 else body
    try:
        return base64.b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None


def _readable(decoded: bytes) -> bool:
    printable = sum(1 for byte in decoded if byte in _PRINTABLE)
    return len(decoded) >= 8 and printable >= _MIN_PRINTABLE * len(decoded)
