"""Policy TOML read with line numbers: rules, license policy and waivers, every problem
collected (with its file and line) instead of raised. Used by the policy files users write and
by the built-in profiles (``rules/policy/``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from finalexam.model import Confidence, FileContext, FindingKind, Severity, Waiver
from finalexam.policy.model import (
    ACTIONS,
    BLOCK,
    LicensePolicy,
    Origin,
    Problem,
    Rule,
    WaiverSpec,
)

RULE_KEYS = (
    "id",
    "action",
    "description",
    "kind",
    "severity",
    "confidence",
    "rule_id",
    "family",
    "tag",
    "ecosystem",
    "path",
    "context",
    "fixable",
    "new",
)
LICENSE_KEYS = ("action", "allow", "deny", "unknown")
WAIVER_KEYS = ("reason", "fingerprint", "rule_id", "purl", "path", "expires", "approved_by")
WAIVER_MATCHERS = ("fingerprint", "rule_id", "purl", "path")
# -- line numbers -------------------------------------------------------------------------

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')\s*=")


@dataclass
class TomlLines:
    """Line numbers of tables, array-of-table entries and keys (tomllib keeps none)."""

    tables: dict[tuple[str, int | None], int] = field(default_factory=dict)
    keys: dict[tuple[str, int | None, str], int] = field(default_factory=dict)

    @classmethod
    def scan(cls, text: str, prefix: str = "") -> TomlLines:
        found = cls()
        counts: dict[str, int] = {}
        current: tuple[str, int | None] = ("", None)
        for number, line in enumerate(text.splitlines(), start=1):
            if match := _ARRAY_HEADER.match(line):
                name = _strip_prefix(match.group(1), prefix)
                index = counts.get(name, 0)
                counts[name] = index + 1
                current = (name, index)
                found.tables[current] = number
            elif match := _TABLE_HEADER.match(line):
                current = (_strip_prefix(match.group(1), prefix), None)
                found.tables[current] = number
            elif match := _KEY.match(line):
                key = match.group(1).strip("\"'")
                found.keys.setdefault((current[0], current[1], key), number)
        return found

    def line(self, table: str, index: int | None = None, key: str | None = None) -> int | None:
        if key is not None:
            exact = self.keys.get((table, index, key))
            if exact is not None:
                return exact
        header = self.tables.get((table, index))
        if header is not None:
            return header
        # inline form (``waivers = [{...}]``): the line of the array's key
        return self.keys.get(("", None, table))


def _strip_prefix(name: str, prefix: str) -> str:
    name = ".".join(part.strip().strip("\"'") for part in name.split("."))
    if prefix and name == prefix.rstrip("."):
        return ""  # [tool.finalexam] itself: its keys are top-level keys
    return name[len(prefix) :] if prefix and name.startswith(prefix) else name


# -- readers ------------------------------------------------------------------------------


@dataclass
class PolicyReader:
    """Validates one source's tables, collecting problems instead of raising."""

    source: str
    lines: TomlLines
    problems: list[Problem]

    def problem(
        self, message: str, table: str = "", index: int | None = None, key: str | None = None
    ) -> None:
        self.problems.append(Problem(self.source, self.lines.line(table, index, key), message))

    def origin(self, table: str, index: int | None) -> Origin:
        return Origin(self.source, self.lines.line(table, index))

    def strings(self, value: Any, where: tuple[str, int | None, str]) -> tuple[str, ...] | None:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problem(f"{where[2]}: expected a string or a list of strings", *where)
            return None
        return tuple(value)

    def unknown_keys(
        self,
        table: Mapping[str, Any],
        known: tuple[str, ...],
        where: str,
        index: int | None,
        label: str,
    ) -> None:
        for key in table:
            if key not in known:
                self.problem(
                    f"unknown key {key!r} in {label} (known: {', '.join(known)})",
                    where,
                    index,
                    key,
                )

    def rules(self, value: Any, table: str = "rules") -> list[Rule]:
        if not isinstance(value, list):
            self.problem(f"{table}: expected an array of tables ([[{table}]])", "", None, table)
            return []
        rules: list[Rule] = []
        seen: dict[str, int | None] = {}
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.problem(f"{table}: entry {index + 1} is not a table", table, index)
                continue
            rule_id = item.get("id")
            if isinstance(rule_id, str) and rule_id in seen:
                self.problem(
                    f"rule id {rule_id!r} defined twice (first at line {seen[rule_id]})",
                    table,
                    index,
                    "id",
                )
                continue
            if isinstance(rule_id, str):
                seen[rule_id] = self.lines.line(table, index, "id")
            rule = self.rule(item, table, index)
            if rule is not None:
                rules.append(rule)
        return rules

    def rule(self, item: Mapping[str, Any], table: str, index: int) -> Rule | None:
        before = len(self.problems)
        self.unknown_keys(item, RULE_KEYS, table, index, "rule")
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            self.problem("rule: 'id' is required (a non-empty string)", table, index, "id")
            rule_id = ""
        action = item.get("action", BLOCK)
        if action not in ACTIONS:
            self.problem(
                f"action: expected one of {', '.join(ACTIONS)}, got {action!r}",
                table,
                index,
                "action",
            )
        description = item.get("description", "")
        if not isinstance(description, str):
            self.problem("description: expected a string", table, index, "description")
            description = ""
        kinds: list[FindingKind] = []
        if "kind" in item:
            for text in self.strings(item["kind"], (table, index, "kind")) or ():
                try:
                    kinds.append(FindingKind(text))
                except ValueError:
                    names = ", ".join(k.value for k in FindingKind)
                    self.problem(
                        f"kind: unknown finding kind {text!r} (expected: {names})",
                        table,
                        index,
                        "kind",
                    )
        severity = self.enum(item, "severity", Severity, table, index)
        confidence = self.enum(item, "confidence", Confidence, table, index)
        contexts: list[FileContext] = []
        given = (
            self.strings(item["context"], (table, index, "context")) if "context" in item else ()
        )
        for text in given or ():
            try:
                contexts.append(FileContext(text))
            except ValueError:
                names = ", ".join(c.value for c in FileContext)
                self.problem(
                    f"context: unknown context {text!r} (expected: {names})",
                    table,
                    index,
                    "context",
                )
        globs: dict[str, tuple[str, ...]] = {}
        for key in ("rule_id", "family", "tag", "ecosystem", "path"):
            if key in item:
                globs[key] = self.strings(item[key], (table, index, key)) or ()
        flags: dict[str, bool | None] = {}
        for key in ("fixable", "new"):
            if key in item:
                if isinstance(item[key], bool):
                    flags[key] = item[key]
                else:
                    self.problem(f"{key}: expected true or false", table, index, key)
        if len(self.problems) > before:
            return None
        return Rule(
            id=rule_id,
            action=action,
            description=description,
            kinds=tuple(kinds),
            severity=severity,
            confidence=confidence,
            rule_ids=globs.get("rule_id", ()),
            families=globs.get("family", ()),
            tags=globs.get("tag", ()),
            ecosystems=globs.get("ecosystem", ()),
            paths=globs.get("path", ()),
            contexts=tuple(contexts),
            fixable=flags.get("fixable"),
            new=bool(flags.get("new", False)),
            origin=self.origin(table, index),
        )

    def enum(
        self, item: Mapping[str, Any], key: str, kind: Any, table: str, index: int | None
    ) -> Any:
        if key not in item:
            return None
        value = item[key]
        members = kind.rated() if kind is Severity else tuple(kind)  # nobody writes "unknown"
        try:
            if not isinstance(value, str):
                raise ValueError
            return next(m for m in members if m.value == value.strip().lower())
        except (ValueError, StopIteration):
            names = ", ".join(member.value for member in members)
            self.problem(f"{key}: expected one of {names}, got {value!r}", table, index, key)
            return None

    def license(self, value: Any) -> LicensePolicy | None:
        table = "license"
        if not isinstance(value, dict):
            self.problem("license: expected a table ([license])", "", None, table)
            return None
        before = len(self.problems)
        self.unknown_keys(value, LICENSE_KEYS, table, None, "[license]")
        action = value.get("action", BLOCK)
        if action not in ACTIONS:
            self.problem(f"action: expected block or warn, got {action!r}", table, None, "action")
        unknown = value.get("unknown", "ignore")
        if unknown not in (*ACTIONS, "ignore"):
            self.problem(
                f"unknown: expected ignore, warn or block, got {unknown!r}", table, None, "unknown"
            )
        lists: dict[str, tuple[str, ...]] = {}
        for key in ("allow", "deny"):
            if key in value:
                entries = self.strings(value[key], (table, None, key)) or ()
                lists[key] = self.license_keys(entries, key)
        if len(self.problems) > before:
            return None
        return LicensePolicy(
            action=action,
            allow=lists.get("allow", ()),
            deny=lists.get("deny", ()),
            unknown=None if unknown == "ignore" else unknown,
            origin=self.origin(table, None),
        )

    def license_keys(self, entries: tuple[str, ...], key: str) -> tuple[str, ...]:
        from finalexam.policy.licenses import expression_keys

        keys: list[str] = []
        for entry in entries:
            try:
                keys.extend(expression_keys(entry))
            except ValueError as error:
                self.problem(f"{key}: {error}", "license", None, key)
        return tuple(dict.fromkeys(keys))

    def waivers(self, value: Any) -> list[WaiverSpec]:
        table = "waivers"
        if not isinstance(value, list):
            self.problem("waivers: expected an array of tables ([[waivers]])", "", None, table)
            return []
        specs: list[WaiverSpec] = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.problem(f"waivers: entry {index + 1} is not a table", table, index)
                continue
            spec = self.waiver(item, index)
            if spec is not None:
                specs.append(spec)
        return specs

    def waiver(self, item: Mapping[str, Any], index: int) -> WaiverSpec | None:
        table = "waivers"
        before = len(self.problems)
        self.unknown_keys(item, WAIVER_KEYS, table, index, "waiver")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            self.problem(
                "waiver: 'reason' is required (why this risk is accepted)", table, index, "reason"
            )
        if not any(key in item for key in WAIVER_MATCHERS):
            self.problem("waiver: give at least one of " + ", ".join(WAIVER_MATCHERS), table, index)
        for key in ("fingerprint", "rule_id", "purl", "path", "approved_by"):
            if key in item and (not isinstance(item[key], str) or not item[key].strip()):
                self.problem(f"{key}: expected a non-empty string", table, index, key)
        expires: date | None = None
        if "expires" in item:
            expires = as_date(item["expires"])
            if expires is None:
                self.problem(
                    f"expires: expected a date like 2027-01-31, got {item['expires']!r}",
                    table,
                    index,
                    "expires",
                )
        if len(self.problems) > before:
            return None
        waiver = Waiver(
            reason=str(reason).strip(),
            fingerprint=item.get("fingerprint"),
            rule_id=item.get("rule_id"),
            purl=item.get("purl"),
            path=item.get("path"),
            expires=expires.isoformat() if expires else None,
            approved_by=item.get("approved_by"),
        )
        return WaiverSpec(waiver, self.origin(table, index), expires)


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def read_policy_toml(
    path: Path, problems: list[Problem]
) -> tuple[dict[str, Any], TomlLines] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problems.append(Problem(str(path), None, f"cannot read: {error.strerror}"))
        return None
    except UnicodeDecodeError:
        problems.append(Problem(str(path), None, "not UTF-8 text"))
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        problems.append(
            Problem(str(path), int(line.group(1)) if line else None, f"invalid TOML: {error}")
        )
        return None
    prefix = ""
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("finalexam", {})
        prefix = "tool.finalexam."
        if not isinstance(data, dict):
            data = {}
    return data, TomlLines.scan(text, prefix)
