"""Rule families: where each engine's rule files live and how to run their examples.

Every family keeps one file per rule under ``src/finalexam/rules/<family>/``. TOML rules
share one convention, whatever the engine::

    id = "aws-access-key"            # equals the file stem (or "<family>.<stem>")
    title = "AWS access key id"
    severity = "high"                # info, low, medium, high, critical
    description = "Why this matters and what to do."

    [examples]
    match = ["AKIA..."]              # must match (or tables: { text = "...", version = "..." })
    benign = ["AKIA-not-a-key"]      # must not match

YARA files (``.yar``/``.yara``) are listed and compiled by ``finalexam rules lint``.
A family is registered explicitly in ``RULE_FAMILIES`` from its engine module, which exposes
``RULES_DIR`` and ``example_matches(rule_id, example) -> bool``.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from re import _parser  # type: ignore[attr-defined]  # literal words of a pattern
from types import ModuleType
from typing import Any

from finalexam.budget import BudgetExceeded, time_budget
from finalexam.errors import ConfigError
from finalexam.model import Severity

RULES_ROOT = Path(__file__).resolve().parent / "rules"
REQUIRED_FIELDS = ("id", "title", "severity", "description")
TOML_SUFFIXES = (".toml",)
YARA_SUFFIXES = (".yar", ".yara")

ExampleMatcher = Callable[[str, str], bool]
PatternsOf = Callable[[str], Sequence["re.Pattern[Any]"]]


@dataclass(frozen=True)
class RuleFamily:
    name: str
    rules_dir: Path
    example_matches: ExampleMatcher
    description: str = ""
    # the regular expressions a rule runs, for the linear-time lint (None: the family's
    # engine is not a backtracking one, e.g. YARA)
    rule_patterns: PatternsOf | None = None
    # a family of data that finds nothing alone (vocabularies) has no severity
    required_fields: tuple[str, ...] = REQUIRED_FIELDS


def family_from_module(name: str, module: ModuleType, description: str = "") -> RuleFamily:
    """Wire an engine module (``RULES_DIR``, ``example_matches``, and ``rule_patterns`` when
    its rules are regular expressions) in as a family."""
    summary = (module.__doc__ or "").strip().splitlines()
    return RuleFamily(
        name=name,
        rules_dir=Path(module.RULES_DIR),
        example_matches=module.example_matches,
        description=description or (summary[0] if summary else ""),
        rule_patterns=getattr(module, "rule_patterns", None),
        required_fields=tuple(getattr(module, "REQUIRED_FIELDS", REQUIRED_FIELDS)),
    )


def _families() -> dict[str, RuleFamily]:
    # Imported here: engines load their rules lazily, and ruleset must not import them at start.
    from finalexam.analyze import yara
    from finalexam.analyze.behavior import analyzer as behavior
    from finalexam.analyze.behavior import obfuscation, vocabulary
    from finalexam.analyze.binary import analyzer as binary
    from finalexam.analyze.indicators import categories as hosts
    from finalexam.analyze.secrets import analyzer as secrets
    from finalexam.catalog import jsbundle, native
    from finalexam.diffing import rules as diff_rules
    from finalexam.policy import builtin as policy_profiles

    families = (
        family_from_module("secrets", secrets),
        family_from_module("behavior", behavior),
        family_from_module("capabilities", binary),
        family_from_module("yara", yara),
        family_from_module("diff", diff_rules),
        family_from_module("native", native),
        family_from_module("jsbundle", jsbundle),
        family_from_module("obfuscation", obfuscation),
        family_from_module("vocabulary", vocabulary),
        family_from_module("policy", policy_profiles),
        family_from_module("hosts", hosts),
    )
    return {family.name: family for family in families}


# Families are registered here explicitly, one line each in _families().
RULE_FAMILIES: dict[str, RuleFamily] = _families()


@dataclass(frozen=True)
class RuleFile:
    """One rule file as read from disk (problems are kept, not raised)."""

    family: str
    path: Path
    format: str  # toml, yara
    data: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    yara_rules: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        value = self.data.get("id")
        return value if isinstance(value, str) and value else self.path.stem

    @property
    def title(self) -> str:
        return _text(self.data.get("title"))

    @property
    def severity(self) -> str:
        return _text(self.data.get("severity"))

    @property
    def description(self) -> str:
        return _text(self.data.get("description"))

    @property
    def examples(self) -> Mapping[str, Any]:
        value = self.data.get("examples")
        return value if isinstance(value, dict) else {}

    def example_list(self, key: str) -> list[str]:
        """Example texts: plain strings, or tables whose ``text`` the family's own tests
        check further (e.g. the version a fingerprint must extract)."""
        value = self.examples.get(key)
        return (
            [text for v in value if (text := _example_text(v)) is not None]
            if isinstance(value, list)
            else []
        )

    @property
    def qualified_id(self) -> str:
        return f"{self.family}/{self.id}"


def _example_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("text")
    return value if isinstance(value, str) else None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_YARA_RULE = re.compile(r"^\s*(?:private\s+|global\s+)*rule\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_YARA_META = re.compile(r'^\s*(description|severity|title)\s*=\s*"((?:[^"\\]|\\.)*)"', re.M)


def _read_yara(family: str, path: Path) -> RuleFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return RuleFile(family, path, "yara", error=f"cannot read: {error}")
    meta: dict[str, Any] = {"id": path.stem}
    for key, value in _YARA_META.findall(text):
        meta.setdefault(key, value)
    return RuleFile(family, path, "yara", data=meta, yara_rules=tuple(_YARA_RULE.findall(text)))


def _read_toml(family: str, path: Path) -> RuleFile:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        return RuleFile(family, path, "toml", error=f"cannot read: {error.strerror}")
    except tomllib.TOMLDecodeError as error:
        return RuleFile(family, path, "toml", error=f"invalid TOML: {error}")
    return RuleFile(family, path, "toml", data=data)


def load_rules(families: Mapping[str, RuleFamily] | None = None) -> list[RuleFile]:
    """Every rule file of every family, sorted by family then id."""
    families = RULE_FAMILIES if families is None else families
    found: list[RuleFile] = []
    for name in sorted(families):
        directory = families[name].rules_dir
        if not directory.is_dir():
            continue
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            suffix = path.suffix.lower()
            if suffix in TOML_SUFFIXES:
                found.append(_read_toml(name, path))
            elif suffix in YARA_SUFFIXES:
                found.append(_read_yara(name, path))
    return sorted(found, key=lambda r: (r.family, r.id, str(r.path)))


def find_rule(rules: Iterable[RuleFile], wanted: str) -> list[RuleFile]:
    """By id, or ``family/id`` when ids repeat across families."""
    return [r for r in rules if wanted in (r.id, r.qualified_id)]


@dataclass(frozen=True)
class ExampleResult:
    rule: RuleFile
    example: str
    expected: bool  # True: a match example, False: a benign one
    matched: bool | None  # None: the engine raised
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.matched is self.expected


def run_examples(
    rules: Iterable[RuleFile], families: Mapping[str, RuleFamily] | None = None
) -> list[ExampleResult]:
    families = RULE_FAMILIES if families is None else families
    results: list[ExampleResult] = []
    for rule in rules:
        if rule.format != "toml" or rule.error or rule.family not in families:
            continue
        matcher = families[rule.family].example_matches
        for key, expected in (("match", True), ("benign", False)):
            for example in rule.example_list(key):
                try:
                    matched: bool | None = bool(matcher(rule.id, example))
                    error = None
                except Exception as exc:  # a rule engine failing is a test failure
                    matched, error = None, f"{type(exc).__name__}: {exc}"
                results.append(ExampleResult(rule, example, expected, matched, error))
    return results


@dataclass(frozen=True)
class LintProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def lint(
    rules: list[RuleFile], families: Mapping[str, RuleFamily] | None = None
) -> list[LintProblem]:
    """Ids equal stems, required fields, examples present and passing, YARA compiles."""
    families = RULE_FAMILIES if families is None else families
    problems: list[LintProblem] = []
    seen: dict[tuple[str, str], Path] = {}
    for rule in rules:
        if rule.error:
            problems.append(LintProblem(rule.path, rule.error))
            continue
        if rule.format == "yara":
            problems += _lint_yara(rule)
            continue
        family = families.get(rule.family)
        problems += _lint_fields(rule, family.required_fields if family else REQUIRED_FIELDS)
        key = (rule.family, rule.id)
        if key in seen:
            problems.append(LintProblem(rule.path, f"id {rule.id!r} also used by {seen[key]}"))
        seen.setdefault(key, rule.path)
    for result in run_examples([r for r in rules if not r.error], families):
        if result.passed:
            continue
        kind = "match" if result.expected else "benign"
        outcome = result.error or ("did not match" if result.expected else "matched")
        problems.append(
            LintProblem(result.rule.path, f"{kind} example {result.example!r}: {outcome}")
        )
    for rule in rules:
        family = families.get(rule.family)
        if rule.format == "toml" and not rule.error and family and family.rule_patterns:
            problems += _lint_linear(rule, family.rule_patterns)
    return problems


# -- linear time -------------------------------------------------------------------------
# Python's re backtracks: a pattern such as (?m)^\s*x spends time quadratic in the length of
# a run of newlines, and nested repeats can take exponential time. Every pattern of every rule
# is run over inputs built to trigger that (runs of blanks, newlines, quotes, separators and
# of the rule's own examples, cut short so that the match fails late) at two sizes. A linear
# pattern takes about a millisecond on each; one that exceeds LINEAR_BUDGET, or grows more than
# GROWTH_LIMIT times when the input grows SCALE times (linear: SCALE times), fails the lint.
# The time budget of the exam still bounds anything these inputs do not provoke.

ADVERSARIAL_BYTES = 8 * 1024
SCALE = 4
GROWTH_LIMIT = 8.0
LINEAR_BUDGET = 0.5  # CPU seconds for one pattern on one input of SCALE * ADVERSARIAL_BYTES
_MEASURABLE = 0.001  # below this on ADVERSARIAL_BYTES, growth is not measured
_RUNS = " \n\t\r'\"`=:;,-._/\\aA0{<#"


def adversarial_inputs(examples: Sequence[str], size: int = ADVERSARIAL_BYTES) -> dict[str, str]:
    """Inputs of ``size`` characters that make backtracking patterns show it."""
    # each run ends on a character nothing expects, so that a match can only fail late
    inputs = {f"a run of {c!r}": c * (size - 1) + "\x00" for c in _RUNS}
    inputs["blank lines"] = (" \n" * size)[:size]
    inputs["assignments without values"] = ("key = \n" * size)[:size]
    inputs["quoted words"] = ("'a' \"b\" " * size)[:size]
    for number, example in enumerate(examples, 1):
        head = example[: max(1, len(example) // 2)]
        inputs[f"example {number} repeated"] = ((example + "\n") * size)[:size]
        inputs[f"example {number} repeated on one line"] = ((example + " ") * size)[:size]
        inputs[f"half of example {number} repeated on one line"] = ((head + " ") * size)[:size]
        for c in " \na":
            inputs[f"half of example {number} then a run of {c!r}"] = head + c * size
    return inputs


def literals(pattern: re.Pattern[Any], least: int = 3) -> list[str]:
    """The longest literal words of a pattern (``curl``, ``-ExecutionPolicy``): repeated on
    one line they make every attempt start and then fail late."""
    source = pattern.pattern
    text = source.decode("latin-1") if isinstance(source, bytes) else source
    try:
        parsed = _parser.parse(
            text, pattern.flags & ~re.UNICODE if isinstance(source, bytes) else 0
        )
    except Exception:
        return []
    found: set[str] = set()

    def walk(items: Any) -> None:
        run: list[str] = []
        for op, value in items:
            if str(op) == "LITERAL":
                run.append(chr(value))
                continue
            if len(run) >= least:
                found.add("".join(run))
            run = []
            for item in value if isinstance(value, list | tuple) else ():
                if isinstance(item, _parser.SubPattern):
                    walk(item)
                elif isinstance(item, list | tuple):
                    for sub in item:
                        if isinstance(sub, _parser.SubPattern):
                            walk(sub)
        if len(run) >= least:
            found.add("".join(run))

    walk(parsed)
    return sorted(found, key=lambda word: (-len(word), word))[:4]


_RETRIES = 3  # measurements of a pattern that looks non-linear before it is reported


def _elapsed(pattern: re.Pattern[Any], text: str, budget: float) -> float | None:
    """CPU seconds ``finditer`` takes over ``text`` (None: over ``budget``)."""
    data: str | bytes = text
    if isinstance(pattern.pattern, bytes):
        data = text.encode("latin-1", "replace")
    started = time.process_time()
    try:
        with time_budget(budget):
            for _ in pattern.finditer(data):
                pass
    except BudgetExceeded:
        return None
    return time.process_time() - started


def backtracking(pattern: re.Pattern[Any], examples: Sequence[str] = ()) -> str | None:
    """The adversarial input on which ``pattern`` is not linear, or None."""
    seeds = [*examples, *literals(pattern)]
    for name, small in adversarial_inputs(seeds).items():
        fast = _elapsed(pattern, small, LINEAR_BUDGET)
        if fast is not None and fast < _MEASURABLE:
            continue  # about a microsecond per kilobyte at most: linear here
        large = adversarial_inputs(seeds, ADVERSARIAL_BYTES * SCALE)[name]
        slow = _elapsed(pattern, large, LINEAR_BUDGET)
        if fast is None or slow is None:
            return f"{name} ({len(large)} characters): over {LINEAR_BUDGET:g} s"
        for _ in range(_RETRIES):
            if slow / fast <= GROWTH_LIMIT:
                break
            # a busy machine stretches one run: the fastest of a few runs is the pattern's own
            fast = min(fast, _elapsed(pattern, small, LINEAR_BUDGET) or fast)
            slow = min(slow, _elapsed(pattern, large, LINEAR_BUDGET) or slow)
        if slow / fast <= GROWTH_LIMIT:
            continue
        # confirmed one scale up, where a millisecond of scheduling noise no longer counts:
        # a pattern that is not linear grows there as much again (or runs over the budget)
        larger = adversarial_inputs(seeds, ADVERSARIAL_BYTES * SCALE * SCALE)[name]
        slower = _elapsed(pattern, larger, LINEAR_BUDGET * SCALE)
        if slower is None:
            return f"{name} ({len(larger)} characters): over {LINEAR_BUDGET * SCALE:g} s"
        if slower / slow > GROWTH_LIMIT:
            return f"{name}: {SCALE}x the input took {slower / slow:.0f}x the time"
    return None


def _lint_linear(rule: RuleFile, patterns_of: PatternsOf) -> list[LintProblem]:
    try:
        patterns = patterns_of(rule.id)
    except Exception:  # a rule the engine could not load is reported by its examples
        return []
    examples = rule.example_list("match")
    problems = []
    for pattern in patterns:
        slow = backtracking(pattern, examples)
        if slow is not None:
            text = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode()
            problems.append(LintProblem(rule.path, f"pattern {text[:80]!r} backtracks on {slow}"))
    return problems


def _lint_fields(rule: RuleFile, required: Sequence[str] = REQUIRED_FIELDS) -> list[LintProblem]:
    problems: list[LintProblem] = []
    data = rule.data
    for name in required:
        if not _text(data.get(name)):
            problems.append(LintProblem(rule.path, f"missing required field {name!r}"))
    rule_id = data.get("id")
    # The id is the file stem, optionally qualified by the family ("diff.process-exec") or, in
    # a family kept in subfolders, by the subfolder ("python.decoders" in python/decoders.toml).
    stem = rule.path.stem
    allowed = (stem, f"{rule.family}.{stem}", f"{rule.path.parent.name}.{stem}")
    if isinstance(rule_id, str) and rule_id and rule_id not in allowed:
        problems.append(
            LintProblem(
                rule.path, f"id {rule_id!r} does not equal the file stem {rule.path.stem!r}"
            )
        )
    severity = data.get("severity")
    if isinstance(severity, str) and severity:
        try:
            Severity.parse(severity)
        except ValueError:
            names = ", ".join(s.value for s in Severity.rated())
            problems.append(LintProblem(rule.path, f"severity {severity!r} is not one of {names}"))
    if not isinstance(data.get("examples"), dict):
        problems.append(LintProblem(rule.path, "missing [examples] table (match and benign)"))
        return problems
    for key in ("match", "benign"):
        value = rule.examples.get(key)
        if not isinstance(value, list) or not value:
            problems.append(LintProblem(rule.path, f"examples.{key}: needs at least one example"))
        elif not all(_example_text(v) is not None for v in value):
            problems.append(
                LintProblem(
                    rule.path, f"examples.{key}: examples must be strings or tables with a text"
                )
            )
    return problems


def _lint_yara(rule: RuleFile) -> list[LintProblem]:
    if not rule.yara_rules:
        return [LintProblem(rule.path, "no YARA rule in file")]
    from finalexam.matching.yara import compile_rules  # the engine loads only when linting

    try:
        compile_rules([(rule.family, rule.path)])
    except ConfigError as error:
        reason = str(error).removeprefix("YARA rule does not compile: ")
        return [LintProblem(rule.path, f"YARA does not compile (YARA-X): {reason}")]
    return []
