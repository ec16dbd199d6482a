"""A small raw LZMA1 encoder, written from the LZMA specification for the tests: it makes
streams with any lc/lp/pb, including the lc + lp > 4 that liblzma (and so the standard
library) cannot write. A greedy parse emits every kind of packet (literals, literals matched
against rep0, matches, rep0-rep3, short reps) and counts them, so a test can check that its
data reaches each one. Each model is its own list here, apart from the decoder's layout."""

from __future__ import annotations

from collections import Counter

MAX_LENGTH = 273


class RangeEncoder:
    """The adaptive binary range coder: 11-bit probabilities, moved by 1/32, a 33-bit low
    with its carry propagated through the pending 0xFF bytes."""

    def __init__(self) -> None:
        self.low = 0
        self.range = 0xFFFFFFFF
        self.cache = 0
        self.pending = 1  # the cache byte and the 0xFF bytes behind it, not yet written
        self.out = bytearray()

    def bit(self, probs: list[int], index: int, value: int) -> None:
        prob = probs[index]
        bound = (self.range >> 11) * prob
        if value:
            self.low += bound
            self.range -= bound
            probs[index] = prob - (prob >> 5)
        else:
            self.range = bound
            probs[index] = prob + ((2048 - prob) >> 5)
        self.normalize()

    def direct(self, value: int, bits: int) -> None:
        for shift in range(bits - 1, -1, -1):
            self.range >>= 1
            if (value >> shift) & 1:
                self.low += self.range
            self.normalize()

    def tree(self, probs: list[int], value: int, bits: int) -> None:
        node = 1
        for shift in range(bits - 1, -1, -1):
            digit = (value >> shift) & 1
            self.bit(probs, node, digit)
            node = (node << 1) | digit

    def reverse(self, probs: list[int], base: int, value: int, bits: int) -> None:
        node = 1
        for shift in range(bits):
            digit = (value >> shift) & 1
            self.bit(probs, base + node, digit)
            node = (node << 1) | digit

    def normalize(self) -> None:
        while self.range < 1 << 24:
            self.range <<= 8
            self.shift_low()

    def shift_low(self) -> None:
        if self.low < 0xFF000000 or self.low >= 1 << 32:
            carry = self.low >> 32
            byte = self.cache
            while self.pending:
                self.out.append((byte + carry) & 0xFF)
                byte = 0xFF
                self.pending -= 1
            self.cache = (self.low >> 24) & 0xFF
        self.pending += 1
        self.low = (self.low & 0x00FFFFFF) << 8

    def finish(self) -> bytes:
        for _ in range(5):
            self.shift_low()
        return bytes(self.out)


class Lengths:
    """Lengths 2-273: a choice bit, then 3 bits per position state (2-9, 10-17) or 8 bits."""

    def __init__(self) -> None:
        self.choice = [1024, 1024]
        self.low = [[1024] * 8 for _ in range(16)]
        self.mid = [[1024] * 8 for _ in range(16)]
        self.high = [1024] * 256

    def encode(self, coder: RangeEncoder, length: int, pos_state: int) -> None:
        value = length - 2
        if value < 8:
            coder.bit(self.choice, 0, 0)
            coder.tree(self.low[pos_state], value, 3)
        elif value < 16:
            coder.bit(self.choice, 0, 1)
            coder.bit(self.choice, 1, 0)
            coder.tree(self.mid[pos_state], value - 8, 3)
        else:
            coder.bit(self.choice, 0, 1)
            coder.bit(self.choice, 1, 1)
            coder.tree(self.high, value - 16, 8)


def encode(data: bytes, lc: int, lp: int, pb: int) -> tuple[bytes, Counter[str]]:
    """``data`` as a raw LZMA1 stream (no end marker), and how many packets of each kind."""
    coder = RangeEncoder()
    is_match = [1024] * (12 << 4)
    is_rep0_long = [1024] * (12 << 4)
    is_rep, rep_g0, rep_g1, rep_g2 = ([1024] * 12 for _ in range(4))
    literal_probs = [[1024] * 0x300 for _ in range(1 << (lc + lp))]
    slots = [[1024] * 64 for _ in range(4)]
    special = [1024] * 115
    align = [1024] * 16
    lengths, rep_lengths = Lengths(), Lengths()
    counts: Counter[str] = Counter()
    reps = [1, 1, 1, 1]  # distances, 1 = the previous byte
    state = 0
    recent: dict[bytes, list[int]] = {}
    position = 0

    def common(at: int, distance: int) -> int:
        limit = min(MAX_LENGTH, len(data) - at)
        length = 0
        while length < limit and data[at + length] == data[at + length - distance]:
            length += 1
        return length

    def remember(upto: int) -> None:
        for at in range(position, upto):
            recent.setdefault(data[at : at + 3], []).append(at)

    while position < len(data):
        pos_state = position & ((1 << pb) - 1)
        rep_lengths_now = [common(position, d) if d <= position else 0 for d in reps]
        best_rep = max(range(4), key=lambda k: rep_lengths_now[k])
        match_length, match_distance = 0, 0
        for earlier in reversed(recent.get(data[position : position + 3], [])[-8:]):
            length = common(position, position - earlier)
            if length > match_length:
                match_length, match_distance = length, position - earlier
        if rep_lengths_now[best_rep] >= 2 and rep_lengths_now[best_rep] + 1 >= match_length:
            length = rep_lengths_now[best_rep]
            coder.bit(is_match, (state << 4) + pos_state, 1)
            coder.bit(is_rep, state, 1)
            if best_rep == 0:
                coder.bit(rep_g0, state, 0)
                coder.bit(is_rep0_long, (state << 4) + pos_state, 1)
            else:
                coder.bit(rep_g0, state, 1)
                coder.bit(rep_g1, state, best_rep > 1)
                if best_rep > 1:
                    coder.bit(rep_g2, state, best_rep > 2)
                reps.insert(0, reps.pop(best_rep))
            rep_lengths.encode(coder, length, pos_state)
            state = 8 if state < 7 else 11
            counts[f"rep{best_rep}"] += 1
        elif match_length >= 3:
            length = match_length
            coder.bit(is_match, (state << 4) + pos_state, 1)
            coder.bit(is_rep, state, 0)
            lengths.encode(coder, length, pos_state)
            _distance(coder, match_distance - 1, slots[min(length - 2, 3)], special, align)
            reps = [match_distance, *reps[:3]]
            state = 7 if state < 7 else 10
            counts["match"] += 1
            counts["long match"] += length >= 18
            counts["far match"] += match_distance > 128
        elif reps[0] <= position and data[position] == data[position - reps[0]]:
            length = 1
            coder.bit(is_match, (state << 4) + pos_state, 1)
            coder.bit(is_rep, state, 1)
            coder.bit(rep_g0, state, 0)
            coder.bit(is_rep0_long, (state << 4) + pos_state, 0)
            state = 9 if state < 7 else 11
            counts["short rep"] += 1
        else:
            length = 1
            coder.bit(is_match, (state << 4) + pos_state, 0)
            previous = data[position - 1] if position else 0
            context = ((position & ((1 << lp) - 1)) << lc) + (previous >> (8 - lc))
            against = data[position - reps[0]] if state >= 7 and reps[0] <= position else None
            _literal(coder, literal_probs[context], data[position], against)
            counts["matched literal" if against is not None else "literal"] += 1
            state = 0 if state < 4 else state - 3 if state < 10 else state - 6
        remember(position + length)
        position += length
    return coder.finish(), counts


def _literal(coder: RangeEncoder, probs: list[int], byte: int, against: int | None) -> None:
    node, matching = 1, against is not None
    for shift in range(7, -1, -1):
        digit = (byte >> shift) & 1
        if matching:
            assert against is not None
            match_bit = (against >> shift) & 1
            coder.bit(probs, ((1 + match_bit) << 8) + node, digit)
            matching = digit == match_bit
        else:
            coder.bit(probs, node, digit)
        node = (node << 1) | digit


def _distance(
    coder: RangeEncoder, value: int, slots: list[int], special: list[int], align: list[int]
) -> None:
    if value < 4:
        coder.tree(slots, value, 6)
        return
    top = value.bit_length() - 1
    slot = top * 2 + ((value >> (top - 1)) & 1)
    coder.tree(slots, slot, 6)
    middle = (slot >> 1) - 1
    base = (2 | (slot & 1)) << middle
    if slot < 14:
        coder.reverse(special, base - slot, value - base, middle)
    else:
        coder.direct((value - base) >> 4, middle - 4)
        coder.reverse(align, 0, (value - base) & 15, 4)
