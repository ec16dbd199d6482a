"""JavaScript string literals as the engine sees them: escapes resolved, and the static
decoding of the encodings malware hides strings in (base64, hex, ``String.fromCharCode``,
javascript-obfuscator's string tables)."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

MAX_DECODED = 1024 * 1024  # a decoded payload bigger than this is not read
_ESCAPE = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|([0-7]{1,3})|(\r\n|[\s\S]))"
)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
# javascript-obfuscator's string-array encoding: base64 with the lower-case letters first
_OBFUSCATOR_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="
_STANDARD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_FROM_OBFUSCATOR = str.maketrans(_OBFUSCATOR_ALPHABET, _STANDARD_ALPHABET)
BASE64_TEXT = re.compile(r"[A-Za-z0-9+/_-]{4,}={0,2}")
HEX_TEXT = re.compile(r"(?:[0-9a-fA-F]{2}){4,}")


def _replace(match: re.Match[str]) -> str:
    hex2, braced, hex4, octal, other = match.groups()
    try:
        if hex2 or hex4 or braced:
            return chr(int(hex2 or hex4 or braced, 16))
        if octal:
            return chr(int(octal, 8))
    except (ValueError, OverflowError):
        return ""
    if other in ("\n", "\r\n", "\r", "\u2028", "\u2029"):
        return ""  # a line continuation
    return _SIMPLE.get(other, other)


def unescape(body: str) -> str:
    """The value of a string literal's body (between its quotes)."""
    return _ESCAPE.sub(_replace, body) if "\\" in body else body


def printable(data: bytes) -> str | None:
    """Decoded bytes as text when they read as text (a payload, a name, a command)."""
    if not data or len(data) > MAX_DECODED:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    visible = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return text if visible >= 0.95 * len(text) else None


def decode(value: str, encoding: str) -> str | None:
    """``Buffer.from(value, encoding).toString()`` / ``atob(value)`` computed statically."""
    try:
        if encoding in ("base64", "base64url"):
            padded = value.strip() + "=" * (-len(value.strip()) % 4)
            return printable(base64.b64decode(padded, altchars=b"-_"))
        if encoding == "hex":
            return printable(bytes.fromhex(value.strip()))
    except (ValueError, binascii.Error):
        return None
    return None


def obfuscator_decode(value: str) -> str | None:
    """One entry of a javascript-obfuscator string table (``_0x`` arrays, base64 variant)."""
    if not BASE64_TEXT.fullmatch(value):
        return None
    decoded = decode(value.translate(_FROM_OBFUSCATOR), "base64")
    if decoded is None:
        return None
    return unquote(decoded)  # the obfuscator percent-encodes each character's UTF-8 bytes


def char_codes(numbers: list[int]) -> str | None:
    """``String.fromCharCode(104, 116, ...)``."""
    try:
        return "".join(chr(n) for n in numbers) if numbers else None
    except (ValueError, OverflowError):
        return None
