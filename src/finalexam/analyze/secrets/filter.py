"""The generic-secret filter: is a named value a credential, and how sure is that?

Candidates come from the filtered rules (``filter = "generic"``): a value beside a name that
says password, secret, token or key, in any syntax. Two steps decide:

1. **Drops** that need no weighing: names in which no word is a keyword (``passthrough``,
   ``keyboard``, ``author``), message constants (``LABEL_PASSWORD``), public keys, very
   short values, sentences and labels, words in non-Latin letters, template variables and
   environment lookups (``${DB_PASS}``, ``{{ token }}``, ``%s``, ``process.env.X``), masks
   (``********``), known placeholders (``changeme``, ``<password>``, ``your-token``) and
   published documentation values.
2. **A score** between 0 and 1 from the features of ``features``: a small ensemble of
   gradient-boosted decision trees (``rules/secrets/model/generic-filter.json``), trained on
   labelled repositories (see docs/secrets.md and bench/secrets/train.py) and evaluated here
   in pure Python. Its thresholds turn the score into a confidence: ``high`` and ``medium``
   are reported as secrets that block a release when shipped, ``low`` ones are reported only.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from finalexam.analyze.secrets.features import (
    FEATURES,
    GenericCandidate,
    features,
    is_message_name,
    key_kind,
    name_words,
)
from finalexam.analyze.secrets.validate import WELL_KNOWN_EXAMPLES, is_placeholder
from finalexam.model import Confidence

MODEL_PATH = (
    Path(__file__).resolve().parents[2] / "rules" / "secrets" / "model" / "generic-filter.json"
)
MIN_LENGTH = 4
# Digests of empty input (MD5, SHA-1, SHA-256): a checksum of nothing, never a credential.
_EMPTY_DIGESTS = frozenset(
    {
        "d41d8cd98f00b204e9800998ecf8427e",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
)
# Words separated by blanks, as in a sentence or a label: "Forgot your password?", "Mr. Smith".
_PROSE = re.compile(r"[A-Za-z][a-z]*\.?(?: [A-Za-z0-9]+)+[.!?:]?\Z")


class ModelError(ValueError):
    """A filter model file that cannot be used."""


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel arrays: node i tests feature[i] <= threshold[i] and
    goes to left[i] or right[i]; a leaf has left[i] == -1 and holds value[i]."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, row: list[float]) -> float:
        node = 0
        while self.left[node] != -1:
            node = (
                self.left[node]
                if row[self.feature[node]] <= self.threshold[node]
                else self.right[node]
            )
        return self.value[node]


@dataclass(frozen=True)
class Model:
    """Gradient-boosted trees on log-odds, with the thresholds chosen at training time."""

    base: float
    rate: float
    trees: tuple[Tree, ...]
    thresholds: dict[str, float]  # low, medium, high: the least score of each confidence

    def score(self, row: list[float]) -> float:
        total = self.base + self.rate * sum(tree.predict(row) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, total))))


def _tree(data: Any) -> Tree:
    try:
        tree = Tree(
            feature=tuple(int(x) for x in data["feature"]),
            threshold=tuple(float(x) for x in data["threshold"]),
            left=tuple(int(x) for x in data["left"]),
            right=tuple(int(x) for x in data["right"]),
            value=tuple(float(x) for x in data["value"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelError(f"bad tree: {error}") from None
    size = len(tree.feature)
    if not size or any(len(a) != size for a in (tree.threshold, tree.left, tree.right, tree.value)):
        raise ModelError("bad tree: arrays of different lengths")
    for i in range(size):
        if tree.left[i] != -1 and not (
            i < tree.left[i] < size and i < tree.right[i] < size and tree.feature[i] < len(FEATURES)
        ):
            raise ModelError("bad tree: a node points outside the tree")
    return tree


def load_model(path: Path = MODEL_PATH) -> Model:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"{path.name}: {error}") from None
    if list(data.get("features", [])) != list(FEATURES):
        raise ModelError(
            f"{path.name}: trained on other features than analyze/secrets/features.py has"
        )
    thresholds = {k: float(data["thresholds"][k]) for k in ("low", "medium", "high")}
    return Model(
        base=float(data["base"]),
        rate=float(data["learning_rate"]),
        trees=tuple(_tree(t) for t in data["trees"]),
        thresholds=thresholds,
    )


@cache
def default_model() -> Model:
    return load_model()


def dropped(candidate: GenericCandidate) -> bool:
    """Candidates that are certainly not credentials: the name names none (passthrough,
    keyboard, author), a message constant (LABEL_PASSWORD), or the value is too short, a
    sentence or label, words in non-Latin letters, a placeholder or a template."""
    value = candidate.value
    if len(value) < MIN_LENGTH or value in WELL_KNOWN_EXAMPLES or value.lower() in _EMPTY_DIGESTS:
        return True
    words = name_words(candidate.key.strip("\"'[]$@:-"))
    if not key_kind(words, candidate.rule_id) or is_message_name(words):
        return True
    if "public" in words or "publishable" in words:
        return True  # public keys and .NET PublicKeyToken values are meant to be seen
    if value.count(" ") >= 2 or _PROSE.match(value):
        return True
    if any(ord(c) > 127 and c.isalpha() for c in value):
        return True
    return is_placeholder(value)


def score(candidate: GenericCandidate, model: Model | None = None) -> float:
    return (model or default_model()).score(features(candidate))


def decide(
    candidate: GenericCandidate, model: Model | None = None
) -> tuple[Confidence, float] | None:
    """The confidence of a candidate and its score, or None when it is not a credential."""
    if dropped(candidate):
        return None
    model = model or default_model()
    value = model.score(features(candidate))
    thresholds = model.thresholds
    if value >= thresholds["high"]:
        return Confidence.HIGH, value
    if value >= thresholds["medium"]:
        return Confidence.MEDIUM, value
    if value >= thresholds["low"]:
        return Confidence.LOW, value
    return None
