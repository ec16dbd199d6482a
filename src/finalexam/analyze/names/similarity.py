"""How close a name is to a popular one of its ecosystem (``data/popular-*.txt``, generated
by ``scripts/popular_names.py``): look-alike letters, one edit, separator games, prefix and
suffix tricks, reordered words, one misspelled word. A popular name is never a typosquat."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources

from finalexam.analyze.names.confusables import latin_foldings
from finalexam.model import Severity

TARGETS = 3000
HIGH_TARGETS = TARGETS  # a one-edit copy of one of these names must be stopped
MIN_TARGET_LENGTH = 5
_AFFIXES = ("python-", "py-", "py", "node-", "js-", "-js", ".js", "-python", "-py", "-dev",
            "-lib", "-sdk", "-api", "-client", "-utils", "-tools", "2", "3", "-cli")  # fmt: skip

_ASCII_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("1", "l"), ("0", "o"))


def normalize(name: str, ecosystem: str) -> str:
    lowered = name.strip().lower()
    return re.sub(r"[-_.]+", "-", lowered) if ecosystem == "PyPI" else lowered


@cache
def popular(ecosystem: str) -> tuple[str, ...]:
    file = {"PyPI": "popular-pypi.txt", "npm": "popular-npm.txt"}.get(ecosystem)
    if file is None:
        return ()
    text = resources.files("finalexam.data").joinpath(file).read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


@cache
def _known(ecosystem: str) -> frozenset[str]:
    return frozenset(popular(ecosystem))


@cache
def _rank_of(ecosystem: str) -> dict[str, int]:
    return {name: rank for rank, name in enumerate(popular(ecosystem)[:TARGETS])}


@cache
def _by_length(ecosystem: str) -> dict[int, list[tuple[int, str]]]:
    table: dict[int, list[tuple[int, str]]] = {}
    targets = _rank_of(ecosystem)
    for rank, name in enumerate(popular(ecosystem)[:TARGETS]):
        # beautifulsoup4 is imitated as beautifulsoup (itself a less popular, older package:
        # the stem is a target unless it is a target of its own)
        stem = name.rstrip("0123456789")
        for variant in {name, stem} if stem not in targets else {name}:
            if len(variant) >= MIN_TARGET_LENGTH:
                table.setdefault(len(variant), []).append((rank, variant))
    return table


_SEPARATORS = re.compile(r"[-_.]")
_Index = dict[str, set[tuple[int, str]]]  # a key: the (rank, target) pairs it leads to


def _squash(name: str) -> str:
    return _SEPARATORS.sub("", name)


@cache
def _target_index(ecosystem: str) -> tuple[_Index, _Index]:
    """The targets by every string one deletion away (and by themselves), and by their
    letters without separators. Two names one edit apart (insert, delete, substitute, swap)
    share such a string, so a lookup finds the few candidates a scan of all targets would."""
    by_deletion: _Index = {}
    by_squashed: _Index = {}
    for bucket in _by_length(ecosystem).values():
        for rank, target in bucket:
            for key in _deletions(target, 1):
                by_deletion.setdefault(key, set()).add((rank, target))
            by_squashed.setdefault(_squash(target), set()).add((rank, target))
    return by_deletion, by_squashed


def _near(bare: str, squashed: str, ecosystem: str) -> list[tuple[int, str]]:
    """Targets that may be one edit or one separator from ``bare``: one length shorter
    first, then the same length, then one longer, each by rank (the order a scan of the
    targets by length would meet them in, so the first match is the same)."""
    by_deletion, by_squashed = _target_index(ecosystem)
    if len(bare) > max(_by_length(ecosystem), default=0) + 1:
        return []  # nothing is near (and a hostile name's deletions would fill memory)
    found = set(by_squashed.get(squashed, ()))
    for key in _deletions(bare, 1):
        found |= by_deletion.get(key, set())
    order = {len(bare) - 1: 0, len(bare): 1, len(bare) + 1: 2}
    near = [(order[len(target)], rank, target) for rank, target in found if len(target) in order]
    return [(rank, target) for _, rank, target in sorted(near)]


def _one_edit(a: str, b: str) -> bool:
    """Damerau distance exactly 1 (insert, delete, substitute or swap two neighbours)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


@dataclass(frozen=True)
class Squat:
    name: str
    target: str
    technique: str
    rank: int


# DefinitelyTyped publishes the typings of package X as @types/X by convention.
_TYPINGS_SCOPE = "@types/"


def check_name(name: str, ecosystem: str) -> Squat | None:
    """The popular name ``name`` imitates, if any."""
    names = popular(ecosystem)
    if not names:
        return None
    norm = normalize(name, ecosystem)
    bare = norm.split("/", 1)[1] if norm.startswith("@") and "/" in norm else norm
    if norm in _known(ecosystem):
        return None
    rank_of = _rank_of(ecosystem)
    imitated = [f for f in latin_foldings(bare) if f != bare and f in rank_of]
    if imitated:
        folded = min(imitated, key=rank_of.__getitem__)
        return Squat(name, folded, "homoglyph", rank_of[folded])
    if not bare.isascii():
        return None
    if norm.startswith(_TYPINGS_SCOPE):
        return None
    if bare != norm and bare in rank_of:
        return Squat(name, bare, "scope", rank_of[bare])
    squashed = _squash(bare)
    if bare != norm:
        # a scope is its owner's namespace: @jupyterlab/console is typed with its scope, so
        # it imitates no unscoped name one edit away (consola); a popular name copied under
        # a foreign scope (above, or with other separators: @x/lodash-isequal) still does
        for rank, target in _near(bare, squashed, ecosystem):
            if _squash(target) == squashed and target != bare:
                return Squat(name, target, "separator", rank)
        return None
    for candidate, technique in (
        *((bare.replace(a, b), "look-alike letters") for a, b in _ASCII_LOOKALIKES if a in bare),
    ):
        if candidate in rank_of and candidate != bare:
            return Squat(name, candidate, technique, rank_of[candidate])
    for rank, target in _near(bare, squashed, ecosystem):
        if _squash(target) == squashed and target != bare:
            return Squat(name, target, "separator", rank)
        if _one_edit(bare, target):
            return Squat(name, target, "one edit", rank)
    for affix in _AFFIXES:
        stem = (
            bare[len(affix) :]
            if affix[-1] in "-." and bare.startswith(affix)
            else bare[: -len(affix)]
            if bare.endswith(affix)
            else None
        )
        if stem and len(stem) >= MIN_TARGET_LENGTH and stem in rank_of and rank_of[stem] < 500:
            return Squat(name, stem, f"affix {affix!r}", rank_of[stem])
    if bare == norm and (reordered := reordered_words(bare, name, ecosystem)):
        return reordered  # scoped npm names are owned namespaces: their words are free
    return misspelled_word(name, ecosystem)


REORDERED = "reordered words"


@cache
def _names_by_word_set(ecosystem: str) -> dict[tuple[str, ...], tuple[int, str]]:
    """Top popular names of two words or more by their sorted words (in rank order, so the
    most popular spelling wins a tie)."""
    table: dict[tuple[str, ...], tuple[int, str]] = {}
    for words, (rank, name) in _names_by_words(ecosystem).items():
        if rank < TARGETS and len(words) >= 2:
            table.setdefault(tuple(sorted(words)), (rank, name))
    return table


def reordered_words(bare: str, name: str, ecosystem: str) -> Squat | None:
    """The popular name with the same words in another order: ``python-aliyun-sdk-core`` for
    ``aliyun-python-sdk-core``."""
    words = _words(bare)
    if len(words) < 2:
        return None
    found = _names_by_word_set(ecosystem).get(tuple(sorted(words)))
    if found is None or _words(found[1]) == words:
        return None
    return Squat(name, found[1], REORDERED, found[0])


# One misspelled word: every word (separator-split token) of the name is a word of the popular
# names but one, and that one is two edits (optimal string alignment: insert, delete,
# substitute, swap neighbours) from a long popular word that turns the name into a popular one:
# ``aliababcloud-tea-openapi`` for ``alibabacloud-tea-openapi``. One edit is the whole-name check
# above. Two edits also turn honest names into popular ones, so the two words must differ the
# way typing slips do, not the way names are made (measured on every registry name, see
# bench/behavior/README.md):
# - the odd word is no word of the popular names (``azure-mgmt-relay`` next to ``-redis``)
#   nor made of them (``@types/useragent`` is user+agent, ``text-decoding`` de+coding);
# - the letters stay: at most two letter counts change (a swap keeps them all), where a
#   renamed syllable changes four (``lodash.tonumber`` next to ``lodash.isnumber``);
# - not two letters added or cut in one place, which is a suffix or prefix
#   (``influx-client``, ``chromedriver-autoinstall``), unless a key was held down
#   (``styled-componentsss``);
# - names of one word are left out: two edits from a one-word name is mostly another name
#   (``streamlink``, ``compressing``, ``yamlparser``).
MISSPELLED = "misspelled word"
MISSPELLED_MIN_WORD = 8  # length of the popular word the misspelling imitates
_MISSPELLED_EDITS = 2
_WORD_SPLIT = re.compile(r"[-_./@]+")
_DIGITS = re.compile(r"\D+")


def _words(name: str) -> tuple[str, ...]:
    """Separator-split words; an npm scope (``@scope/x``) contributes its own words."""
    return tuple(word for word in _WORD_SPLIT.split(name.lower()) if word)


@cache
def _names_by_words(ecosystem: str) -> dict[tuple[str, ...], tuple[int, str]]:
    """Popular names by their words (the most popular spelling wins a tie)."""
    table: dict[tuple[str, ...], tuple[int, str]] = {}
    for rank, name in enumerate(popular(ecosystem)):
        table.setdefault(_words(name), (rank, name))
    return table


@cache
def _vocabulary(ecosystem: str) -> frozenset[str]:
    return frozenset(word for words in _names_by_words(ecosystem) for word in words)


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` letters deleted."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@cache
def _long_word_index(ecosystem: str) -> dict[str, set[str]]:
    """Deletion neighbourhoods of the long popular words: two words within two edits share a
    string reached by deleting at most two letters from each, so a lookup replaces a scan."""
    index: dict[str, set[str]] = {}
    for word in _vocabulary(ecosystem):
        if len(word) >= MISSPELLED_MIN_WORD:
            for variant in _deletions(word, _MISSPELLED_EDITS):
                index.setdefault(variant, set()).add(word)
    return index  # read only; its users sort what they take from it


@cache
def _longest_key(ecosystem: str) -> int:
    return max(map(len, _long_word_index(ecosystem)), default=0)


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance of ``a`` and ``b``, or ``limit + 1`` once over it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            value = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])
            )
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


def _made_of_words(text: str, vocabulary: frozenset[str]) -> bool:
    """``text`` splits into words of the vocabulary (two letters or more each)."""
    reachable = [True] + [False] * len(text)
    for end in range(2, len(text) + 1):
        reachable[end] = any(
            reachable[start] and text[start:end] in vocabulary for start in range(end - 1)
        )
    return reachable[-1]


def _letters_changed(a: str, b: str) -> int:
    counts = Counter(a)
    counts.subtract(b)
    return sum(abs(n) for n in counts.values())


def _cut_in_one_place(a: str, b: str) -> bool:
    """``b`` is ``a`` with one run of letters added or removed (an affix or a syllable), other
    than a key held down (``componentsss``: the run repeats the letter beside it)."""
    short, long_ = sorted((a, b), key=len)
    size = len(long_) - len(short)
    if size == 0:
        return False
    for i in range(len(short) + 1):
        if long_[:i] + long_[i + size :] == short:
            run = long_[i : i + size]
            beside = long_[i - 1 : i] + long_[i + size : i + size + 1]
            held_key = len(set(run)) == 1 and run[0] in beside
            return not held_key
    return False


def _typing_slip(typo: str, word: str, vocabulary: frozenset[str]) -> bool:
    return (
        _letters_changed(typo, word) <= _MISSPELLED_EDITS
        and not _cut_in_one_place(typo, word)
        and not _made_of_words(typo, vocabulary)
    )


@cache
def _word_counts(ecosystem: str) -> Counter[str]:
    return Counter(word for words in _names_by_words(ecosystem) for word in set(words))


def misspelled_word(name: str, ecosystem: str, leave_out: str | None = None) -> Squat | None:
    """The popular name ``name`` turns into when its one unknown word is spelled right.

    ``leave_out``: judge as if that popular name were not in the list (its own words unknown
    unless another popular name has them), to measure popular names against each other."""
    if not popular(ecosystem):
        return None
    if normalize(name, ecosystem) in _known(ecosystem) and name != leave_out:
        return None
    words = _words(name)
    if len(words) == 1:
        return None
    vocabulary = _vocabulary(ecosystem)
    own = frozenset(_words(leave_out)) if leave_out else frozenset()
    counts = _word_counts(ecosystem)
    unknown = [
        i
        for i, word in enumerate(words)
        if word not in vocabulary or (word in own and counts[word] == 1)
    ]
    if len(unknown) != 1:
        return None
    position = unknown[0]
    typo = words[position]
    index = _long_word_index(ecosystem)
    if not MISSPELLED_MIN_WORD - _MISSPELLED_EDITS <= len(typo) <= _longest_key(ecosystem) + 2:
        return None  # no long popular word is two edits from it
    if not typo.isascii():
        return None
    candidates = {
        word for variant in _deletions(typo, _MISSPELLED_EDITS) for word in index.get(variant, ())
    }
    best: tuple[int, str] | None = None
    for word in sorted(candidates):
        # numbers are versions (ecs20140526), not spelling: they must match as they are
        if _DIGITS.sub("", word) != _DIGITS.sub("", typo):
            continue
        if osa_distance(typo, word, _MISSPELLED_EDITS) != _MISSPELLED_EDITS:
            continue
        if not _typing_slip(typo, word, vocabulary):
            continue
        target = _names_by_words(ecosystem).get((*words[:position], word, *words[position + 1 :]))
        if target is not None and target[1] != leave_out and (best is None or target < best):
            best = target
    if best is None:
        return None
    return Squat(name, best[1], MISSPELLED, best[0])


def severity_of(squat: Squat) -> Severity:
    if squat.technique == "homoglyph":
        return Severity.CRITICAL
    if squat.technique == MISSPELLED:
        return Severity.MEDIUM  # as a package's own name: a lead (as a dependency, see below)
    if squat.technique.startswith(("affix", "scope", REORDERED)) or squat.rank >= HIGH_TARGETS:
        # real packages do reorder popular words (json-schema-to-zod, path-is-inside): a lead
        return Severity.MEDIUM
    return Severity.HIGH


def typing_slip(squat: Squat) -> bool:
    """The edits of a hand that slipped, not of a name that was made: two neighbours swapped
    (lodahs), a key held down (expresss), a letter dropped inside the word, a separator left
    out (crossenv). Names are made by adding at the ends (httpx2, xhttp): those stay leads."""
    name, target = squat.name.lower(), squat.target.lower()
    if squat.technique == "separator":
        return True
    if squat.technique != "one edit":
        return False
    if len(name) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(name, target, strict=True)) if a != b]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and name[diff[0]] == target[diff[1]]
            and name[diff[1]] == target[diff[0]]
        )
    longer, shorter = (name, target) if len(name) > len(target) else (target, name)
    for i in range(1, len(longer) - 1):  # not at the ends
        if longer[:i] + longer[i + 1 :] == shorter:
            doubled = longer[i] in (longer[i - 1], longer[i + 1])
            return doubled if longer is name else longer[i].isalpha()
    return longer is name and longer[-1] == longer[-2] and longer[:-1] == shorter
