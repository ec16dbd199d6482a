"""Values of a Berkeley DB hash database (the classic rpmdb ``Packages`` file), read-only.

Only what rpm needs: walk the hash pages, take each data item (inline, or reassembled from
its chain of overflow pages). Every page number and length is checked against the file;
loops in overflow chains are cut, and an overflow page belongs to one value only: items that
point into a chain already read are dropped, so the work stays linear in the file's size.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from finalexam.errors import CorruptInput

HASH_MAGIC = 0x061561
_PAGE_HEADER = 26  # lsn, pgno, prev, next, entries, hf_offset, level, type
_P_HASH_UNSORTED, _P_OVERFLOW, _P_HASH = 2, 7, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_MAX_VALUE = 64 * 1024 * 1024


def _byte_order(data: bytes) -> str:
    if len(data) < 512:
        raise CorruptInput("not a Berkeley DB file: too short")
    if struct.unpack_from("<I", data, 12)[0] == HASH_MAGIC:
        return "<"
    if struct.unpack_from(">I", data, 12)[0] == HASH_MAGIC:
        return ">"
    raise CorruptInput("not a Berkeley DB hash database")


def bdb_hash_values(data: bytes) -> Iterator[bytes]:
    order = _byte_order(data)
    page_size = struct.unpack_from(order + "I", data, 20)[0]
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        raise CorruptInput(f"Berkeley DB page size {page_size} is not valid")
    pages = len(data) // page_size

    def page(number: int) -> bytes:
        return data[number * page_size : (number + 1) * page_size]

    used: set[int] = set()  # overflow pages already part of a value

    def overflow(first: int, total: int) -> bytes | None:
        chunks: list[bytes] = []
        number, length = first, 0
        while 0 < number < pages and length < total:
            if number in used:
                return None  # a loop, or a page shared with another value
            used.add(number)
            current = page(number)
            if current[25] != _P_OVERFLOW:
                return None
            next_page, filled = struct.unpack_from(order + "I2xH", current, 16)
            chunk = current[_PAGE_HEADER : _PAGE_HEADER + filled]
            chunks.append(chunk)
            length += len(chunk)
            number = next_page
        value = b"".join(chunks)[:total]
        return value if len(value) == total else None

    for number in range(1, pages):
        current = page(number)
        if current[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        entries = struct.unpack_from(order + "H", current, 20)[0]
        if _PAGE_HEADER + 2 * entries > page_size:
            continue
        offsets = struct.unpack_from(order + f"{entries}H", current, _PAGE_HEADER)
        for index in range(1, entries, 2):  # items alternate key, data
            start = offsets[index]
            end = offsets[index - 1] if index > 0 else page_size
            if not _PAGE_HEADER <= start < end <= page_size:
                continue
            kind = current[start]
            if kind == _H_KEYDATA:
                yield current[start + 1 : end]
            elif kind == _H_OFFPAGE and end - start >= 12:
                first, total = struct.unpack_from(order + "II", current, start + 4)
                if total <= _MAX_VALUE:
                    value = overflow(first, total)
                    if value is not None:
                        yield value
