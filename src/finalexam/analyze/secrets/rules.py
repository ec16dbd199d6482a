"""Secret rules: one TOML file per rule under ``rules/secrets/``, loaded and checked here.

Common keys (shared by every rule family): ``id`` (the file stem), ``title``, ``severity``,
``description`` and ``[examples]`` with ``match`` and ``benign`` lists. Secret keys:
``keywords`` (lower-case literals, at least one present in every match), ``pattern`` (a
regular expression with a named group ``secret``), ``min_entropy``, ``allowlist`` (patterns a
secret may not match), ``[paths]`` ``include``/``exclude`` globs, ``validator``, ``confidence``,
``on_invalid`` (``lower`` confidence, the default, or ``drop`` when the validator fails),
``generic`` (assignment-style rules that also drop hashes and UUIDs), ``filter`` (``generic``:
the candidate, with its named groups such as ``key``, is decided by the generic-secret filter
instead of fixed thresholds; see ``filter``), ``family``, and for
the examples ``example_encoding`` (``latin-1`` when an example stands for a binary file) and
``example_path`` (the path an example is scanned as).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from finalexam.analyze.secrets.validate import VALIDATORS
from finalexam.model import Confidence, Severity

RULES_DIR = Path(__file__).resolve().parents[2] / "rules" / "secrets"

# Hyperscan takes the same pattern with named groups turned into plain ones.
_NAMED_GROUP = "(?P<secret>"
_ANY_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
FILTERS = ("generic",)


class RuleError(ValueError):
    """A rule file that cannot be used (the message names the file)."""


@dataclass(frozen=True)
class SecretRule:
    id: str
    title: str
    severity: Severity
    description: str
    keywords: tuple[bytes, ...]
    pattern: str
    regex: re.Pattern[bytes]
    min_entropy: float = 0.0
    allowlist: tuple[re.Pattern[str], ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    validator: str | None = None
    drop_invalid: bool = False  # on_invalid = "drop": a failed check means not a secret at all
    confidence: Confidence = Confidence.MEDIUM
    generic: bool = False
    filter: str | None = None  # "generic": decided by the generic-secret filter
    family: str = "other"
    examples_match: tuple[str, ...] = ()
    examples_benign: tuple[str, ...] = ()
    example_encoding: str = "utf-8"  # latin-1 for examples that stand for binary files
    example_path: str | None = None  # where an example is pretended to live

    @cached_property
    def part_names(self) -> tuple[str, ...]:
        """Named groups besides ``secret`` (what a filtered rule hands to its filter)."""
        return tuple(name for name in self.regex.groupindex if name != "secret")

    @property
    def hyperscan_pattern(self) -> bytes:
        return _ANY_NAMED_GROUP.sub("(", self.pattern).encode("utf-8")


def _strings(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{path.name}: {key} must be a list of strings")
    return tuple(value)


def load_rule(path: Path) -> SecretRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    rule_id = data.get("id")
    if rule_id != path.stem:
        raise RuleError(f"{path.name}: id {rule_id!r} must equal the file stem")
    for key in ("title", "severity", "description", "pattern"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise RuleError(f"{path.name}: missing {key}")
    pattern: str = data["pattern"]
    if _NAMED_GROUP not in pattern:
        raise RuleError(f"{path.name}: pattern needs a named group (?P<secret>...)")
    try:
        regex = re.compile(pattern.encode("utf-8"))
        severity = Severity.parse(data["severity"])
        confidence = Confidence(data.get("confidence", "medium"))
    except (re.error, ValueError) as error:
        raise RuleError(f"{path.name}: {error}") from None
    validator = data.get("validator")
    if validator is not None and validator not in VALIDATORS:
        raise RuleError(f"{path.name}: unknown validator {validator!r}")
    keywords = _strings(data.get("keywords"), "keywords", path)
    if not keywords or any(k != k.lower() for k in keywords):
        raise RuleError(f"{path.name}: keywords must be a non-empty list of lower-case strings")
    filter_name = data.get("filter")
    if filter_name is not None and filter_name not in FILTERS:
        raise RuleError(f"{path.name}: unknown filter {filter_name!r}")
    paths = data.get("paths", {})
    examples = data.get("examples", {})
    try:
        allowlist = tuple(re.compile(p) for p in _strings(data.get("allowlist"), "allowlist", path))
    except re.error as error:
        raise RuleError(f"{path.name}: allowlist: {error}") from None
    return SecretRule(
        id=rule_id,
        title=data["title"],
        severity=severity,
        description=data["description"],
        keywords=tuple(_keyword_bytes(k) for k in keywords),
        pattern=pattern,
        regex=regex,
        min_entropy=float(data.get("min_entropy", 0.0)),
        allowlist=allowlist,
        include=_strings(paths.get("include"), "paths.include", path),
        exclude=_strings(paths.get("exclude"), "paths.exclude", path),
        validator=validator,
        drop_invalid=_on_invalid(data.get("on_invalid", "lower"), path),
        confidence=confidence,
        generic=bool(data.get("generic", False)) or filter_name is not None,
        filter=filter_name,
        family=str(data.get("family", "other")),
        examples_match=_strings(examples.get("match"), "examples.match", path),
        examples_benign=_strings(examples.get("benign"), "examples.benign", path),
        example_encoding=str(data.get("example_encoding", "utf-8")),
        example_path=data.get("example_path"),
    )


def _on_invalid(value: Any, path: Path) -> bool:
    if value not in ("lower", "drop"):
        raise RuleError(f"{path.name}: on_invalid must be 'lower' or 'drop'")
    return bool(value == "drop")


def _keyword_bytes(keyword: str) -> bytes:
    """Keywords name bytes: characters below 256 stand for themselves (binary magics)."""
    try:
        return keyword.encode("latin-1")
    except UnicodeEncodeError:
        return keyword.encode("utf-8")


@cache
def load_rules(directory: Path = RULES_DIR) -> tuple[SecretRule, ...]:
    """Every rule in ``directory``, sorted by id (raises RuleError on the first bad file)."""
    return tuple(load_rule(path) for path in sorted(directory.glob("*.toml")))
