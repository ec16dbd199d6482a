"""Text hidden in hex- or Base64-encoded runs of a binary: commands and URLs that a program
decodes before use (``6469736f776e3b...`` = ``disown; ...``). Only runs that decode to mostly
printable text are kept, so hashes, keys and tables stay out.

And text XORed with one byte in the binary's data (``xor_runs``). Trying 255 keys over every
byte would cost 255 passes; instead the search is for indicators (URLs, shell commands,
system paths) whose XOR with their neighbour is the same under every key: the data XORed
with itself shifted by one byte holds ``http://``'s signature wherever ``http://`` XORed
with any key is, and the key is then the first byte XOR ``h``. One pass, only keys that
occur, only runs that decode to printable text around an indicator."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from functools import cache

_HEX_RUN = re.compile(rb"(?:[0-9a-fA-F]{2}){10,}")
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/]{20,}={0,2}")
_MAX_RUNS = 4096
_MAX_DECODED = 1024 * 1024
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_PRINTABLE_BYTES = bytes(sorted(_PRINTABLE))
_MIN_PRINTABLE = 0.9
# The Base64 alphabet itself (every encoder carries it) decodes to noise: not a run to read.
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# What XOR-hidden text is searched by: network addresses, shells and system paths, commands
_XOR_ANCHORS = (
    b"http://",
    b"https://",
    b"ftp://",
    b"tcp://",
    b"/bin/sh",
    b"/bin/bash",
    b"/bin/busybox",
    b"/dev/tcp/",
    b"/tmp/",
    b"/var/tmp/",
    b"/dev/shm/",
    b"/etc/",
    b"/proc/",
    b"wget ",
    b"curl ",
    b"chmod ",
    b"pkill ",
    b"killall ",
    b"nohup ",
    b"rm -rf ",
    b"crontab",
    b"cmd.exe",
    b"powershell",
    b"\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    b".onion",
)
_XOR_REACH = 256  # bytes decoded on each side of an indicator
_MAX_XOR_RUNS = 64
_MAX_XOR_SCAN = 64 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    offset: int  # of the encoded text in the file
    encoding: str  # hex-decoded, base64-decoded, xor-0x5a-decoded
    data: bytes
    key: int | None = None  # the XOR key

    def as_dict(self) -> dict[str, object]:
        text = self.data.decode("latin-1")
        return {"offset": self.offset, "key": self.key, "text": text[:200]}


def decoded_runs(data: bytes, spans: list[tuple[int, int]]) -> list[Run]:
    """The readable text behind hex and Base64 runs inside ``spans`` (file offset, size) of
    ``data``, bounded in count and size. Code sections are left out: an encoded string is
    data, and the regular expressions would otherwise walk the hundreds of MB of code of the
    largest libraries (LLVM, OpenCV) to find nothing. One pass finds the runs of the Base64
    alphabet; hex runs (a subset of that alphabet) are looked for inside them only."""
    runs: list[Run] = []
    total = 0
    for start, size in spans:
        for found in _BASE64_RUN.finditer(data, start, start + size):
            candidates = [
                (found.start() + hexed.start(), "hex-decoded", _unhex(hexed.group(0)))
                for hexed in _HEX_RUN.finditer(found.group(0))
            ]
            text = found.group(0)
            if _ALPHABET not in text:
                candidates.append((found.start(), "base64-decoded", _unbase64(text)))
            for offset, encoding, decoded in candidates:
                if len(runs) >= _MAX_RUNS or total >= _MAX_DECODED:
                    return runs
                if decoded and _readable(decoded):
                    runs.append(Run(offset, encoding, decoded))
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
        return binascii.a2b_base64(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return None


def _readable(decoded: bytes) -> bool:
    # counted in C: a large library's data holds hundreds of thousands of candidate runs
    unprintable = len(decoded.translate(None, _PRINTABLE_BYTES))
    return len(decoded) >= 8 and len(decoded) - unprintable >= _MIN_PRINTABLE * len(decoded)


def xor_runs(data: bytes, spans: list[tuple[int, int]]) -> list[Run]:
    """Printable text XORed with one byte (not 0) inside ``spans`` (file offset, size) of
    ``data``, around an indicator (bounded in count and bytes)."""
    runs: list[Run] = []
    budget = _MAX_XOR_SCAN
    for start, size in spans:
        chunk = data[start : start + min(size, budget)]
        budget -= len(chunk)
        taken: list[tuple[int, int]] = []  # decoded ranges: an indicator inside is not new
        for found in _xor_signatures().finditer(_neighbour_xor(chunk)):
            at = found.start()
            if any(low <= at < high for low, high in taken):
                continue
            anchor = _anchor_of(found.group(0))
            key = chunk[at] ^ anchor[0]
            if key == 0:
                continue  # plain text: the strings scan reads it
            if at > 0 and chr(chunk[at - 1] ^ key).isalnum():
                # an indicator starts a token: ``wget `` inside ``zwget`` is noise (a plain
                # name such as ``claqsb64`` reads ``wget`` under key 0x16)
                continue
            low, high = _printable_extent(chunk, at, key)
            if high - low < 8:
                continue
            taken.append((low, high))
            decoded = chunk[low:high].translate(_xor_table(key))
            runs.append(Run(start + low, f"xor-{key:#04x}-decoded", decoded, key))
            if len(runs) >= _MAX_XOR_RUNS:
                return runs
        if budget <= 0:
            break
    return runs


def _neighbour_xor(chunk: bytes) -> bytes:
    """Byte i is chunk[i] ^ chunk[i + 1]: the same whatever single byte the text is XORed with."""
    if len(chunk) < 2:
        return b""
    head = int.from_bytes(chunk[:-1], "little")
    tail = int.from_bytes(chunk[1:], "little")
    return (head ^ tail).to_bytes(len(chunk) - 1, "little")


@cache
def _signatures() -> dict[bytes, bytes]:
    return {_neighbour_xor(anchor): anchor for anchor in _XOR_ANCHORS}


@cache
def _xor_signatures() -> re.Pattern[bytes]:
    ordered = sorted(_signatures(), key=len, reverse=True)
    return re.compile(b"|".join(re.escape(signature) for signature in ordered))


def _anchor_of(signature: bytes) -> bytes:
    return _signatures()[signature]


def _printable_extent(chunk: bytes, at: int, key: int) -> tuple[int, int]:
    """The run around ``at`` that decodes to printable text; zero bytes (padding between data,
    not text) end it too."""
    readable = {byte ^ key for byte in _PRINTABLE} - {0}
    low = at
    while low > 0 and at - low < _XOR_REACH and chunk[low - 1] in readable:
        low -= 1
    high = at
    while high < len(chunk) and high - at < _XOR_REACH and chunk[high] in readable:
        high += 1
    return low, high


@cache
def _xor_table(key: int) -> bytes:
    return bytes(byte ^ key for byte in range(256))
