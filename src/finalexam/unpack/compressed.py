"""Single-stream compression: gzip, bzip2, xz, lzma (alone) and zstandard.

Decoding follows the command-line tools: multi-member gzip, concatenated bzip2/xz streams and
zstd frames are read through; trailing zero padding is ignored; trailing garbage ends the
stream without losing what was decoded before it (gzip warns "trailing garbage ignored" and
keeps the output). What could not be decoded is reported through ``problem``. The ratio of
bytes produced to bytes consumed is checked as the stream is read.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol, cast

import zstandard

from finalexam.config import Limits
from finalexam.formats.streams import ReadStream
from finalexam.unpack.base import Content, Member, MemberKind, RatioMeter, UnpackContext

GZIP = b"\x1f\x8b"
BZIP2 = b"BZh"
XZ = b"\xfd7zXZ\x00"
ZSTD = b"(\xb5/\xfd"
LZMA_ALONE = b"\x5d"  # the properties byte every .lzma encoder writes (lc=3, lp=0, pb=2)
_SUFFIXES = {
    GZIP: (".gz", ".tgz"),
    BZIP2: (".bz2", ".tbz2", ".tbz"),
    XZ: (".xz", ".txz"),
    ZSTD: (".zst", ".zstd", ".tzst"),
    LZMA_ALONE: (".lzma", ".tlz"),
}
_NAMES = {GZIP: "gzip", BZIP2: "bzip2", XZ: "xz", ZSTD: "zstd", LZMA_ALONE: "lzma"}
_INPUT = 64 * 1024


def _is_lzma_alone(head: bytes) -> bool:
    """The .lzma header as liblzma checks it: known properties, a plausible dictionary size."""
    if len(head) < 13 or head[:1] != LZMA_ALONE:
        return False
    dictionary, size = struct.unpack_from("<IQ", head, 1)
    power = dictionary & (dictionary - 1)  # 2^n, or 2^n + 2^(n-1) leaves 2^n
    plausible_dict = power == 0 or (power & (power - 1) == 0 and dictionary == power + power // 2)
    return bool(dictionary >= 4096 and plausible_dict and (size == 2**64 - 1 or size < 2**38))


def compression_of(head: bytes) -> bytes | None:
    for magic in (GZIP, BZIP2, XZ, ZSTD):
        if head.startswith(magic):
            return magic
    return LZMA_ALONE if _is_lzma_alone(head) else None


class _Decoder(Protocol):
    eof: bool
    unused_data: bytes
    needs_input: bool

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class ZlibDecoder:
    """zlib's decoder (gzip, or raw deflate) with the interface of the bz2/lzma decoders."""

    def __init__(self, wbits: int = zlib.MAX_WBITS | 16) -> None:
        self._zlib = zlib.decompressobj(wbits)
        self.needs_input = True

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._zlib.decompress(self._zlib.unconsumed_tail + data, max(max_length, 0))
        self.needs_input = not self._zlib.unconsumed_tail
        return out


def _new_decoder(magic: bytes) -> _Decoder:
    if magic == GZIP:
        return cast(_Decoder, ZlibDecoder())
    if magic == BZIP2:
        return cast(_Decoder, bz2.BZ2Decompressor())
    if magic == XZ:
        return cast(_Decoder, lzma.LZMADecompressor(lzma.FORMAT_XZ))
    return cast(_Decoder, lzma.LZMADecompressor(lzma.FORMAT_ALONE))


class DecompressingStream(ReadStream):
    """The decoded bytes of ``raw``, read forwards only, with bounded memory per read.

    ``consumed``/``produced`` count bytes actually read and decoded; ``meter`` (if any) judges
    their ratio. Decoding errors end the stream and set ``problem``; nothing decoded before the
    error is lost. ``trailing`` counts bytes after the last stream that are not a stream.
    """

    def __init__(self, magic: bytes, raw: IO[bytes], meter: RatioMeter | None = None) -> None:
        super().__init__()
        self.magic = magic
        self.raw = raw
        self.meter = meter
        self.consumed = 0
        self.produced = 0
        self.trailing = 0
        self.problem: str | None = None
        self._done = False
        self._pending = b""  # compressed bytes not yet given to a decoder
        self._decoder: _Decoder | None = _new_decoder(magic) if magic != ZSTD else None
        self._zstd: Any = None
        if magic == ZSTD:
            counted = _Counted(raw, self)
            self._zstd = zstandard.ZstdDecompressor().stream_reader(
                cast(IO[bytes], counted), read_size=_INPUT, read_across_frames=True
            )

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        if self._done or size == 0:
            return b""
        try:
            data = self._read_zstd(size) if self._zstd is not None else self._read(size)
        except (OSError, EOFError, lzma.LZMAError, zlib.error, zstandard.ZstdError) as error:
            self._fail(f"corrupt {_NAMES[self.magic]} data ({error})")
            return b""
        self.produced += len(data)
        if self.meter is not None:
            self.meter.check(self.produced, self.consumed)
        return data

    def readall(self) -> bytes:
        chunks = []
        while chunk := self.read(1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def _fail(self, message: str) -> None:
        self._done = True
        if self.produced or self.consumed:
            message += f" after {self.produced} decoded bytes: the rest is not examined"
        self.problem = message

    def _feed(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        data = self.raw.read(_INPUT)
        self.consumed += len(data)
        return data

    def _read(self, size: int) -> bytes:
        decoder = self._decoder
        assert decoder is not None
        while True:
            data = b"" if not decoder.needs_input else self._feed()
            if decoder.needs_input and not data:
                out = decoder.decompress(b"", size)  # output held back by the decoder
                if out:
                    return out
                self._fail(f"truncated {_NAMES[self.magic]} stream")
                return b""
            out = decoder.decompress(data, size)
            if decoder.eof:
                self._next_stream(decoder.unused_data)
                if out:
                    return out
                if self._done:
                    return b""
                decoder = self._decoder
                assert decoder is not None
                continue
            if out:
                return out

    def _next_stream(self, unused: bytes) -> None:
        """After one stream ends: another stream, zero padding, or trailing garbage."""
        rest = unused
        while len(rest) < 16:
            more = self.raw.read(_INPUT)
            self.consumed += len(more)
            if not more:
                break
            rest += more
        stripped = rest.lstrip(b"\0")
        while not stripped:  # padding so far: skip it, it may run on
            more = self.raw.read(_INPUT)
            self.consumed += len(more)
            if not more:
                self._done = True
                return
            stripped = more.lstrip(b"\0")
        magic = compression_of(stripped[:16])
        if magic == self.magic and magic != LZMA_ALONE:
            self._pending = stripped
            self._decoder = _new_decoder(magic)
            return
        self._done = True
        self.trailing = len(stripped) + self._drain()
        self.problem = (
            f"{self.trailing} bytes of trailing data after the {_NAMES[self.magic]} stream: "
            "not examined"
        )

    def _drain(self) -> int:
        total = 0
        while more := self.raw.read(_INPUT):
            self.consumed += len(more)
            total += len(more)
        return total

    def _read_zstd(self, size: int) -> bytes:
        return cast(bytes, self._zstd.read(size))

    def close(self) -> None:
        if self._zstd is not None:
            self._zstd = None
        super().close()


class _Counted:
    """``raw`` as the zstd reader pulls it, counted into the stream's ``consumed``."""

    def __init__(self, raw: IO[bytes], owner: DecompressingStream) -> None:
        self.raw = raw
        self.owner = owner

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.owner.consumed += len(data)
        return data


def decompressing_reader(
    magic: bytes, raw: IO[bytes], limits: Limits | None = None, what: str = "stream"
) -> IO[bytes]:
    """The decoded bytes of ``raw`` (a ``DecompressingStream``); with ``limits``, a bomb
    stops the stream early."""
    meter = RatioMeter(limits, what) if limits is not None else None
    return cast(IO[bytes], DecompressingStream(magic, raw, meter))


def peek_decompressed(head: bytes, content: Content, size: int) -> bytes | None:
    """The first ``size`` decompressed bytes when ``content`` is compressed, else None."""
    magic = compression_of(head)
    if magic is None:
        return None
    with content.open() as raw:
        stream = DecompressingStream(magic, raw)
        data = stream.read(size)
        while data and len(data) < size and (more := stream.read(size - len(data))):
            data += more
    return data if data or stream.problem is None else None


def _inner_name(name: str, magic: bytes) -> str:
    base = name.rsplit("/", 1)[-1]
    for suffix in _SUFFIXES[magic]:
        if base.lower().endswith(suffix):
            stem = base[: -len(suffix)]
            return stem + ".tar" if suffix.startswith(".t") and suffix != ".tar" else stem
    return base + ".decompressed"


class CompressedUnpacker:
    """A compressed single file; a compressed tar is claimed by the tar unpacker first."""

    name = "compressed"
    version = "1.0"
    requires: tuple[str, ...] = ()
    wants = ("single-stream compressed files (gzip, bzip2, xz, lzma, zstd)",)

    def sniff(self, head: bytes, name: str, content: Content) -> bool:
        magic = compression_of(head)
        if magic != LZMA_ALONE:
            return magic is not None
        return bool(peek_decompressed(head, content, 1))  # the header check alone is weak

    def members(self, content: Content, name: str, ctx: UnpackContext) -> Iterator[Member]:
        magic = compression_of(content.head(16))
        assert magic is not None
        raw = content.open()
        opener: Callable[[], IO[bytes]] = lambda: decompressing_reader(  # noqa: E731
            magic, raw, ctx.limits, name
        )
        try:
            yield Member(
                name=_inner_name(name, magic),
                kind=MemberKind.FILE,
                compressed_size=content.size,
                opener=opener,
            )
        finally:
            raw.close()
