"""Read policies and waivers from TOML, reporting every problem at once with file and line.

Sources, merged in this order: the base (``--policy``: a profile name or a policy file;
default ``release``), the policy sections of the config file (``[[rules]]``, ``[license]``,
``[[waivers]]``, ``disable_rules``), then every ``--waivers FILE``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from finalexam.config import Config
from finalexam.errors import ConfigError
from finalexam.model import Confidence, FileContext, FindingKind, Severity, Waiver
from finalexam.policy.builtin import DEFAULT_PROFILE, PROFILES, profile
from finalexam.policy.model import (
    ACTIONS,
    BLOCK,
    LicensePolicy,
    Origin,
    Policy,
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
    "ecosystem",
    "path",
    "context",
    "fixable",
    "new",
)
LICENSE_KEYS = ("action", "allow", "deny", "unknown")
WAIVER_KEYS = ("reason", "fingerprint", "rule_id", "purl", "path", "expires", "approved_by")
WAIVER_MATCHERS = ("fingerprint", "rule_id", "purl", "path")
POLICY_FILE_KEYS = ("name", "extends", "fail_on", "disable_rules", "rules", "license", "waivers")
CONFIG_POLICY_KEYS = ("disable_rules", "rules", "license", "waivers")
NO_BASE = "none"


class PolicyError(ConfigError):
    """Every problem found in the policy sources, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


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
class _Reader:
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
        for key in ("rule_id", "ecosystem", "path"):
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
            expires = _as_date(item["expires"])
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


def _as_date(value: Any) -> date | None:
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


def _read(path: Path, problems: list[Problem]) -> tuple[dict[str, Any], TomlLines] | None:
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


# -- assembling the effective policy ------------------------------------------------------


@dataclass
class _Builder:
    name: str
    rules: list[Rule] = field(default_factory=list)
    license: LicensePolicy = field(default_factory=LicensePolicy)
    waivers: list[WaiverSpec] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add_rules(self, rules: list[Rule]) -> None:
        """A rule with the id of an earlier one replaces it (so profiles can be tuned)."""
        for rule in rules:
            self.rules = [r for r in self.rules if r.id != rule.id]
            self.rules.append(rule)

    def disable(self, reader: _Reader, value: Any) -> None:
        ids = reader.strings(value, ("", None, "disable_rules"))
        for rule_id in ids or ():
            if not any(r.id == rule_id for r in self.rules):
                known = ", ".join(r.id for r in self.rules) or "none"
                reader.problem(
                    f"disable_rules: no rule {rule_id!r} to disable (rules: {known})",
                    "",
                    None,
                    "disable_rules",
                )
        self.rules = [r for r in self.rules if r.id not in set(ids or ())]

    def apply(self, reader: _Reader, table: Mapping[str, Any], keys: tuple[str, ...]) -> None:
        if "disable_rules" in table and "disable_rules" in keys:
            self.disable(reader, table["disable_rules"])
        if "rules" in table and "rules" in keys:
            self.add_rules(reader.rules(table["rules"]))
        if "license" in table and "license" in keys:
            license = reader.license(table["license"])
            if license is not None:
                self.license = license
        if "waivers" in table and "waivers" in keys:
            self.waivers.extend(reader.waivers(table["waivers"]))


def _base(name: str, builder: _Builder, problems: list[Problem], source: str) -> None:
    base = profile(name)
    if base is None:
        problems.append(
            Problem(
                source,
                None,
                f"unknown policy profile {name!r} (profiles: {', '.join(PROFILES)}, "
                "or a policy file)",
            )
        )
        return
    builder.add_rules(list(base.rules))


def _policy_file(path: Path, builder: _Builder, problems: list[Problem]) -> None:
    read = _read(path, problems)
    if read is None:
        return
    data, lines = read
    reader = _Reader(str(path), lines, problems)
    reader.unknown_keys(data, POLICY_FILE_KEYS, "", None, "policy file")
    extends = data.get("extends", DEFAULT_PROFILE)
    if not isinstance(extends, str):
        reader.problem("extends: expected a profile name or 'none'", "", None, "extends")
    elif extends != NO_BASE:
        if extends in PROFILES:
            builder.add_rules(list(profile(extends).rules))  # type: ignore[union-attr]
        else:
            reader.problem(
                f"extends: unknown profile {extends!r} (profiles: {', '.join(PROFILES)}, none)",
                "",
                None,
                "extends",
            )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name:
        reader.problem("name: expected a non-empty string", "", None, "name")
        name = path.stem
    builder.name = name
    if "fail_on" in data:
        severity = reader.enum(data, "fail_on", Severity, "", None)
        if severity is not None:
            builder.add_rules([fail_on_rule(severity, reader.origin("", None))])
    builder.apply(reader, data, POLICY_FILE_KEYS)
    builder.sources.append(str(path))


def fail_on_rule(severity: Severity, origin: Origin) -> Rule:
    return Rule(
        id=f"fail-on-{severity.value}",
        action=BLOCK,
        description=f"any finding of {severity.value} severity or more",
        severity=severity,
        origin=origin,
    )


def _resolve(text: str, config: Config) -> Path:
    """A file named on the command line, else relative to the config file that named it."""
    path = Path(text)
    if path.is_file() or path.is_absolute() or not config.config_path:
        return path
    beside = Path(config.config_path).parent / path
    return beside if beside.is_file() else path


def load_policy(config: Config) -> Policy:
    """The effective policy for ``config``; raises PolicyError listing every problem."""
    problems: list[Problem] = []
    builder = _Builder(name=DEFAULT_PROFILE)
    choice = config.policy
    if choice is not None and not isinstance(choice, str):
        problems.append(
            Problem(config.config_path or "config", None, "policy: expected a profile name or file")
        )
        choice = None
    if choice is None or choice in PROFILES:
        builder.name = choice or DEFAULT_PROFILE
        _base(builder.name, builder, problems, "--policy")
    else:
        path = _resolve(choice, config)
        if path.is_file():
            _policy_file(path, builder, problems)
        else:
            problems.append(
                Problem(
                    choice,
                    None,
                    f"no such policy file or profile (profiles: {', '.join(PROFILES)})",
                )
            )
    if config.config_path and any(key in config.raw for key in CONFIG_POLICY_KEYS):
        read = _read(Path(config.config_path), problems)
        if read is not None:
            _, lines = read
            reader = _Reader(config.config_path, lines, problems)
            table = dict(config.raw)
            inline = table.get("waivers")
            if isinstance(inline, list) and all(isinstance(item, str) for item in inline):
                del table["waivers"]  # waiver file names: already in config.waivers
            builder.apply(reader, table, CONFIG_POLICY_KEYS)
            builder.sources.append(config.config_path)
    for waiver_file in config.waivers:
        path = _resolve(waiver_file, config)
        if not path.is_file():
            problems.append(Problem(waiver_file, None, "waiver file not found"))
            continue
        read = _read(path, problems)
        if read is None:
            continue
        data, lines = read
        reader = _Reader(str(path), lines, problems)
        reader.unknown_keys(data, ("waivers",), "", None, "waiver file")
        if "waivers" in data:
            builder.waivers.extend(reader.waivers(data["waivers"]))
        builder.sources.append(str(path))
    if config.fail_on:
        try:
            severity = Severity.parse(config.fail_on)
        except ValueError as error:
            problems.append(Problem("--fail-on", None, str(error)))
        else:
            builder.add_rules([fail_on_rule(severity, Origin("--fail-on"))])
    if problems:
        raise PolicyError(problems)
    return Policy(
        name=builder.name,
        rules=tuple(builder.rules),
        license=builder.license,
        waivers=tuple(builder.waivers),
        sources=tuple(builder.sources),
    )


def reference_date(config: Config, environ: Mapping[str, str] | None = None) -> date:
    """The day waivers expire against: ``--timestamp``, SOURCE_DATE_EPOCH, else today (UTC)."""
    environ = os.environ if environ is None else environ
    if config.timestamp:
        text = config.timestamp.strip()
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            parsed = _as_date(text[:10])
            if parsed is None:
                raise ConfigError(f"--timestamp: not an ISO 8601 date or time: {text!r}") from None
            return parsed
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return datetime.now(UTC).date()
