"""RPM headers: the ``.rpm`` file (lead, signature, header) and rpmdb header blobs.

Pure parsing with bounds checks on every offset; nothing in the package is run. The result
maps tag names (lower case, e.g. ``name``, ``version``, ``requirename``) to values, plus
``payload_offset`` (where the compressed cpio payload starts in a ``.rpm`` file) so that an
unpacker can reuse it.
"""

from __future__ import annotations

import struct
from typing import IO, Any

from finalexam.errors import CorruptInput

LEAD_MAGIC = b"\xed\xab\xee\xdb"
HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_LEAD_SIZE = 96
_MAX_ENTRIES = 65536
_MAX_STORE = 256 * 1024 * 1024  # rpm's own bounds (hdrchkTags, hdrchkData)
_MAX_ITEMS = 1 << 20  # values read from one array tag

TAGS = {
    1000: "name",
    1001: "version",
    1002: "release",
    1003: "epoch",
    1004: "summary",
    1005: "description",
    1009: "size",
    1011: "vendor",
    1014: "license",
    1015: "packager",
    1016: "group",
    1020: "url",
    1021: "os",
    1022: "arch",
    1044: "sourcerpm",
    1047: "providename",
    1049: "requirename",
    1050: "requireversion",
    1124: "payloadformat",
    1125: "payloadcompressor",
    1126: "payloadflags",
    5011: "payloaddigest",
    5012: "payloaddigestalgo",
    1112: "requireflags",
    1117: "basenames",
    1118: "dirnames",
    1116: "dirindexes",
}
_STRING, _STRING_ARRAY, _I18N = 6, 8, 9
_INT_FORMATS = {2: (">b", 1), 3: (">h", 2), 4: (">i", 4), 5: (">q", 8)}


def _read_header(data: bytes, offset: int, with_magic: bool) -> tuple[dict[str, Any], int]:
    """One header structure starting at ``offset``; returns its tags and the end offset."""
    if with_magic:
        if data[offset : offset + 4] != HEADER_MAGIC:
            raise CorruptInput("RPM header magic not found")
        offset += 8
    if len(data) < offset + 8:
        raise CorruptInput("RPM header truncated")
    count, store_size = struct.unpack_from(">II", data, offset)
    if count > _MAX_ENTRIES or store_size > _MAX_STORE:
        raise CorruptInput(f"RPM header too large ({count} entries, {store_size} bytes)")
    index_start = offset + 8
    store_start = index_start + 16 * count
    end = store_start + store_size
    if end > len(data):
        raise CorruptInput("RPM header truncated")
    store = data[store_start:end]
    tags: dict[str, Any] = {}
    for number in range(count):
        tag, kind, where, items = struct.unpack_from(">iiii", data, index_start + 16 * number)
        name = TAGS.get(tag)
        # Each known tag is read once: a header repeating a tag cannot multiply the work.
        if name is None or name in tags or where < 0 or where >= store_size or items < 0:
            continue
        tags[name] = _value(store, kind, where, min(items, store_size, _MAX_ITEMS))
    return tags, end


def _value(store: bytes, kind: int, where: int, items: int) -> Any:
    if kind == _STRING:
        stop = store.find(b"\x00", where)
        return store[where : stop if stop >= 0 else len(store)].decode("utf-8", "replace")
    if kind in (_STRING_ARRAY, _I18N):
        values: list[str] = []
        position = where
        for _ in range(items if kind == _STRING_ARRAY else 1):
            stop = store.find(b"\x00", position)
            if stop < 0:
                break
            values.append(store[position:stop].decode("utf-8", "replace"))
            position = stop + 1
        return values[0] if kind == _I18N and values else values
    if kind in _INT_FORMATS:
        fmt, size = _INT_FORMATS[kind]
        available = min(items, (len(store) - where) // size)
        return list(struct.unpack_from(f">{available}{fmt[1]}", store, where))
    if kind == 7:  # binary
        return store[where : where + items].hex()
    return None


def payload_offset(handle: IO[bytes]) -> int:
    """Where the payload of a ``.rpm`` starts, from the sizes of its two headers only."""
    lead = handle.read(_LEAD_SIZE)
    if not lead.startswith(LEAD_MAGIC) or len(lead) < _LEAD_SIZE:
        raise CorruptInput("RPM file truncated")
    offset = _LEAD_SIZE
    for signature in (True, False):
        intro = handle.read(16)
        if len(intro) < 16 or intro[:4] != HEADER_MAGIC:
            raise CorruptInput("RPM header magic not found" if intro else "RPM file truncated")
        count, store_size = struct.unpack_from(">II", intro, 8)
        if count > _MAX_ENTRIES or store_size > _MAX_STORE:
            raise CorruptInput(f"RPM header too large ({count} entries, {store_size} bytes)")
        offset += 16 + 16 * count + store_size
        if signature:
            offset += (8 - offset % 8) % 8  # the signature header is padded to 8 bytes
        handle.seek(offset)
    return offset


def parse_rpm_header(data: bytes) -> dict[str, Any]:
    """Tags of a ``.rpm`` file, a bare header (with magic) or an rpmdb blob (without).

    For a ``.rpm`` file the result also holds ``payload_offset`` and ``signature`` (the
    signature header's tags). Raises ``CorruptInput`` on anything malformed.
    """
    if data.startswith(LEAD_MAGIC):
        if len(data) < _LEAD_SIZE + 16:
            raise CorruptInput("RPM file truncated")
        signature, end = _read_header(data, _LEAD_SIZE, with_magic=True)
        end += (8 - end % 8) % 8  # the signature header is padded to 8 bytes
        tags, payload = _read_header(data, end, with_magic=True)
        tags["payload_offset"] = payload
        tags["signature"] = {k: v for k, v in signature.items() if isinstance(v, str | int)}
        return _flatten(tags)
    if data.startswith(HEADER_MAGIC):
        tags, _ = _read_header(data, 0, with_magic=True)
        return _flatten(tags)
    tags, _ = _read_header(data, 0, with_magic=False)
    return _flatten(tags)


def _flatten(tags: dict[str, Any]) -> dict[str, Any]:
    """Single-valued numeric tags (epoch, size) as plain ints."""
    for key in ("epoch", "size"):
        value = tags.get(key)
        if isinstance(value, list):
            tags[key] = value[0] if value else None
    return tags


def evr(tags: dict[str, Any]) -> str | None:
    """``[epoch:]version-release`` as rpm prints it."""
    version, release = tags.get("version"), tags.get("release")
    if not isinstance(version, str):
        return None
    text = f"{version}-{release}" if isinstance(release, str) and release else version
    epoch = tags.get("epoch")
    return f"{epoch}:{text}" if isinstance(epoch, int) and epoch > 0 else text
