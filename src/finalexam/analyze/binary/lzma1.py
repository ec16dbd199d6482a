"""A raw LZMA1 decoder in pure Python, for the streams liblzma refuses.

LZMA allows ``lc`` (literal context bits) up to 8 and ``lp`` (literal position bits) up to 4,
but liblzma, and so the standard library's ``lzma``, refuses ``lc + lp > 4``. UPX's own
decoder (the LZMA SDK's) takes any of them, and ``upx --brute`` picks such parameters. This
module follows the LZMA specification (the SDK's ``lzma-specification.txt``): an adaptive
binary range decoder, 11-bit probabilities moved by 1/32, twelve states, literals coded with
the previous byte's top ``lc`` bits and the position's low ``lp`` bits (against the byte at
the last distance after a match), lengths 2 to 273 in three tiers per position state,
distances by slot (6-bit tree per length), reverse-coded middle bits, direct bits and a 4-bit
reverse-coded tail, the four last distances (rep0 to rep3) and the one-byte "short rep".

The output size is known (UPX declares it): decoding stops there, or at an end marker. The
whole output is the dictionary, as in UPX. A stream that reaches before the start of the
output or would pass the declared size raises ``LzmaDataError``; one that ends early raises
its ``StreamEnded``, which carries the bytes decoded up to the end. Pure Python decodes
about 1 MB of program code per CPU second, so callers bound what they hand it.
"""

from __future__ import annotations

_TOP = 1 << 24
_STATES = 12
_POS_STATES_MAX = 16
_END_SLOT_MODEL = 14  # distance slots below this have their middle bits modelled
_FULL_DISTANCES = 128
_ALIGN_BITS = 4
_LENGTH_LOW = 8  # symbols of the low and middle length tiers (3 bits each)

# where each group of probabilities starts in the one flat list (the literal coders follow)
_IS_MATCH = 0
_IS_REP = _IS_MATCH + _STATES * _POS_STATES_MAX
_IS_REP_G0 = _IS_REP + _STATES
_IS_REP_G1 = _IS_REP_G0 + _STATES
_IS_REP_G2 = _IS_REP_G1 + _STATES
_IS_REP0_LONG = _IS_REP_G2 + _STATES
_POS_SLOT = _IS_REP0_LONG + _STATES * _POS_STATES_MAX
_SPEC_POS = _POS_SLOT + 4 * 64
_ALIGN = _SPEC_POS + 1 + _FULL_DISTANCES - _END_SLOT_MODEL
_LENGTH_SIZE = 2 + 2 * _POS_STATES_MAX * _LENGTH_LOW + 256
_LENGTH = _ALIGN + (1 << _ALIGN_BITS)
_REP_LENGTH = _LENGTH + _LENGTH_SIZE
_LITERAL = _REP_LENGTH + _LENGTH_SIZE
# the state after a literal, a match, a repeated match and a short rep, from each state
_AFTER_LITERAL = (0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5)


class LzmaDataError(ValueError):
    """The stream is not valid LZMA for these properties and this size."""


class StreamEnded(LzmaDataError):
    """The stream ends before its declared output (a truncated file): ``output`` holds the
    bytes that did decode, all of them correct."""

    def __init__(self, output: bytes) -> None:
        super().__init__("the stream ends early")
        self.output = output


def decode(data: bytes, lc: int, lp: int, pb: int, size: int) -> bytes:
    """``size`` bytes of the raw LZMA1 stream ``data`` (no header: the range coder's first
    byte first), with properties ``lc`` 0-8, ``lp`` 0-4 and ``pb`` 0-4; fewer bytes when an
    end marker comes first."""
    if not (0 <= lc <= 8 and 0 <= lp <= 4 and 0 <= pb <= 4):
        raise LzmaDataError(f"bad properties lc={lc}, lp={lp}, pb={pb}")
    if len(data) < 5:
        raise StreamEnded(b"")
    if data[0] != 0:
        raise LzmaDataError("the range coder does not start with a zero byte")
    rng = 0xFFFFFFFF
    code = int.from_bytes(data[1:5], "big")
    if code == rng:  # the code must stay below the range: this keeps both within 32 bits
        raise LzmaDataError("the range coder starts out of range")
    pos, end = 5, len(data)
    probs = [1024] * (_LITERAL + (0x300 << (lc + lp)))
    out = bytearray()

    def refill() -> None:  # the range fell below 2**24: shift in the next byte
        nonlocal rng, code, pos
        if pos >= end:
            raise StreamEnded(bytes(out))
        rng <<= 8
        code = (code << 8) | data[pos]
        pos += 1

    def bit(index: int) -> int:
        nonlocal rng, code
        prob = probs[index]
        bound = (rng >> 11) * prob
        if code < bound:
            rng = bound
            probs[index] = prob + ((2048 - prob) >> 5)
            value = 0
        else:
            rng -= bound
            code -= bound
            probs[index] = prob - (prob >> 5)
            value = 1
        if rng < _TOP:
            refill()
        return value

    def tree(base: int, bits: int) -> int:
        node = 1
        for _ in range(bits):
            node = (node << 1) | bit(base + node)
        return node - (1 << bits)

    def reverse(base: int, bits: int) -> int:
        node, value = 1, 0
        for index in range(bits):
            digit = bit(base + node)
            node = (node << 1) | digit
            value |= digit << index
        return value

    def direct(bits: int) -> int:
        nonlocal rng, code
        value = 0
        for _ in range(bits):
            rng >>= 1
            digit = 1 if code >= rng else 0
            code -= rng * digit
            value = (value << 1) | digit
            if rng < _TOP:
                refill()
        return value

    def length(base: int, pos_state: int) -> int:
        if not bit(base):
            return tree(base + 2 + pos_state * _LENGTH_LOW, 3)
        if not bit(base + 1):
            return _LENGTH_LOW + tree(base + 2 + (_POS_STATES_MAX + pos_state) * _LENGTH_LOW, 3)
        return 2 * _LENGTH_LOW + tree(base + 2 + 2 * _POS_STATES_MAX * _LENGTH_LOW, 8)

    def distance(length_code: int) -> int:
        slot = tree(_POS_SLOT + min(length_code, 3) * 64, 6)
        if slot < 4:
            return slot
        middle = (slot >> 1) - 1
        value = (2 | (slot & 1)) << middle
        if slot < _END_SLOT_MODEL:
            return value + reverse(_SPEC_POS + value - slot, middle)
        value += direct(middle - _ALIGN_BITS) << _ALIGN_BITS
        return value + reverse(_ALIGN, _ALIGN_BITS)

    pb_mask, lp_mask, lc_shift = (1 << pb) - 1, (1 << lp) - 1, 8 - lc
    state = 0
    rep0 = rep1 = rep2 = rep3 = 1  # distances, 1 = the previous byte
    while len(out) < size:
        done = len(out)
        pos_state = done & pb_mask
        if not bit(_IS_MATCH + (state << 4) + pos_state):
            previous = out[-1] if done else 0
            base = _LITERAL + 0x300 * (((done & lp_mask) << lc) + (previous >> lc_shift))
            symbol = 1
            if state >= 7:  # after a match: coded against the byte at rep0 until they differ
                if rep0 > done:
                    raise LzmaDataError("a distance reaches before the start of the output")
                matched = out[done - rep0]
                while symbol < 0x100:
                    match_bit = (matched >> 7) & 1
                    matched <<= 1
                    digit = bit(base + ((1 + match_bit) << 8) + symbol)
                    symbol = (symbol << 1) | digit
                    if digit != match_bit:
                        break
            while symbol < 0x100:
                symbol = (symbol << 1) | bit(base + symbol)
            out.append(symbol - 0x100)
            state = _AFTER_LITERAL[state]
            continue
        if bit(_IS_REP + state):
            if not done:
                raise LzmaDataError("a repeated match before any output")
            if not bit(_IS_REP_G0 + state):
                if not bit(_IS_REP0_LONG + (state << 4) + pos_state):
                    if rep0 > done:
                        raise LzmaDataError("a distance reaches before the start of the output")
                    out.append(out[done - rep0])  # short rep: one byte at rep0
                    state = 9 if state < 7 else 11
                    continue
            else:
                if not bit(_IS_REP_G1 + state):
                    chosen = rep1
                else:
                    if not bit(_IS_REP_G2 + state):
                        chosen = rep2
                    else:
                        chosen, rep3 = rep3, rep2
                    rep2 = rep1
                rep1, rep0 = rep0, chosen
            count = length(_REP_LENGTH, pos_state)
            state = 8 if state < 7 else 11
        else:
            rep3, rep2, rep1 = rep2, rep1, rep0
            count = length(_LENGTH, pos_state)
            state = 7 if state < 7 else 10
            rep0 = distance(count) + 1
            if rep0 == 1 << 32:
                return bytes(out)  # the end marker
        count += 2
        if rep0 > done:
            raise LzmaDataError("a distance reaches before the start of the output")
        if done + count > size:
            raise LzmaDataError(f"a match passes the declared size of {size} bytes")
        start = done - rep0
        if rep0 >= count:
            out += out[start : start + count]
        else:  # overlapping: the last rep0 bytes repeat
            pattern = out[start:]
            out += (pattern * (count // rep0 + 1))[:count]
    return bytes(out)
