"""The pure-Python LZMA1 decoder UPX's ``lc + lp > 4`` blocks need: it must give back exactly
what liblzma's encoder (the standard library) compressed, for any lc/lp/pb liblzma writes;
what the tests' own encoder writes with lc up to 8 (that encoder is itself checked against
liblzma's decoder); and refuse damaged streams with UnpackError, never an IndexError or a
hang."""

from __future__ import annotations

import lzma
import random

import pytest

import lzmaenc
from finalexam.analyze.binary import lzma1, upx


def _samples() -> list[bytes]:
    rng = random.Random(16)
    words = [bytes(rng.randrange(97, 123) for _ in range(rng.randrange(2, 9))) for _ in range(60)]
    text = b" ".join(rng.choice(words) for _ in range(6000))
    noise = rng.randbytes(3000)
    runs = b"x" * 5000 + bytes(range(256)) * 8 + b"abcabcabc" * 400  # long and overlapping
    code_like = b"".join(bytes([i % 251, i % 7, 3]) * (i % 5 + 1) for i in range(3000))
    return [b"", b"\x00", b"q", text, noise + runs + noise, code_like + text[:5000] + code_like]


SAMPLES = _samples()
PROPERTIES = [(3, 0, 2), (0, 0, 0), (4, 0, 4), (0, 4, 0), (1, 3, 1), (2, 2, 3)]


@pytest.mark.parametrize(("lc", "lp", "pb"), PROPERTIES)
def test_streams_written_by_liblzma_decode_to_their_input(lc: int, lp: int, pb: int) -> None:
    for data in SAMPLES:
        properties = {"lc": lc, "lp": lp, "pb": pb, "dict_size": 1 << 20, "nice_len": 273}
        stream = lzma.compress(
            data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, **properties}]
        )
        assert lzma1.decode(stream, lc, lp, pb, len(data)) == data
        # liblzma ends a raw LZMA1 stream with the end marker: a larger size stops there
        assert lzma1.decode(stream, lc, lp, pb, len(data) + 100) == data


@pytest.mark.parametrize(("lc", "lp", "pb"), [(3, 0, 2), (0, 4, 4), (4, 0, 0)])
def test_the_test_encoder_writes_what_liblzma_reads(lc: int, lp: int, pb: int) -> None:
    data = SAMPLES[-1]
    stream, counts = lzmaenc.encode(data, lc, lp, pb)
    properties = {"lc": lc, "lp": lp, "pb": pb, "dict_size": 1 << 20}
    decoder = lzma.LZMADecompressor(
        format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, **properties}]
    )
    assert decoder.decompress(stream, max_length=len(data)) == data
    kinds = ["literal", "matched literal", "match", "far match", "long match", "short rep"]
    assert all(counts[kind] for kind in [*kinds, "rep0", "rep1", "rep2", "rep3"]), counts


@pytest.mark.parametrize(("lc", "lp", "pb"), [(7, 0, 2), (8, 4, 4), (5, 0, 0), (6, 3, 1)])
def test_streams_liblzma_refuses_decode_to_their_input(lc: int, lp: int, pb: int) -> None:
    for data in SAMPLES:
        stream, counts = lzmaenc.encode(data, lc, lp, pb)
        assert lzma1.decode(stream, lc, lp, pb, len(data)) == data
        # and through UPX's block header, where liblzma would refuse the properties
        block = bytes([((lc + lp) << 3) | pb, (lp << 4) | lc]) + stream
        if len(data) > 1:
            assert upx.decompress(block, 14, len(data)) == data
    assert counts["rep3"] and counts["short rep"] and counts["far match"]


def _lc7_block() -> tuple[bytes, bytes]:
    data = SAMPLES[-1]
    stream, _ = lzmaenc.encode(data, 7, 0, 2)
    return data, bytes([(7 << 3) | 2, 7]) + stream


def test_truncated_lc7_blocks_are_unpack_errors() -> None:
    data, block = _lc7_block()
    for cut in (3, 6, len(block) // 2, len(block) - 1):
        with pytest.raises(upx.UnpackError, match=r"LZMA block \(lc=7, lp=0\): the stream ends"):
            upx.decompress(block[:cut], 14, len(data))
    # more output declared than the stream holds
    with pytest.raises(upx.UnpackError, match="lc=7"):
        upx.decompress(block, 14, len(data) + 1000)


def test_damaged_lc7_blocks_are_unpack_errors() -> None:
    data, block = _lc7_block()
    with pytest.raises(upx.UnpackError, match="does not start with a zero byte"):
        upx.decompress(block[:2] + b"\x01" + block[3:], 14, len(data))
    with pytest.raises(upx.UnpackError, match="starts out of range"):
        upx.decompress(block[:3] + b"\xff" * 4 + block[7:], 14, len(data))
    with pytest.raises(upx.UnpackError, match="bad properties"):
        upx.decompress(bytes([(7 << 3) | 2, 8]) + block[2:], 14, len(data))
    # flipped bytes: LZMA has no checksum, so a flip may still decode to the declared size
    # (UPX's layout checks catch that later); whatever it gives, it is UnpackError or the size,
    # and it ends: each step of the decoder writes a byte or stops
    rng = random.Random(7)
    errors = 0
    for _ in range(40):
        damaged = bytearray(block)
        damaged[rng.randrange(7, len(block))] ^= 1 << rng.randrange(8)
        try:
            out = upx.decompress(bytes(damaged), 14, len(data))
        except upx.UnpackError:
            errors += 1
        else:
            assert len(out) == len(data)
    assert errors > 0


def test_a_match_before_the_first_byte_is_refused() -> None:
    # a stream whose first packet is a match: the test encoder never writes one, so it is
    # put together from the encoder's parts (is-match 1, is-rep 0, length 2, distance 0)
    coder = lzmaenc.RangeEncoder()
    is_match, is_rep = [1024] * 192, [1024] * 12
    coder.bit(is_match, 0, 1)
    coder.bit(is_rep, 0, 0)
    lzmaenc.Lengths().encode(coder, 2, 0)
    coder.tree([1024] * 64, 0, 6)
    block = bytes([(7 << 3) | 2, 7]) + coder.finish()
    with pytest.raises(upx.UnpackError, match="reaches before the start of the output"):
        upx.decompress(block, 14, 10)
