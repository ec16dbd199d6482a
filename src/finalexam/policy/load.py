"""Read policies and waivers from TOML, reporting every problem at once with file and line.

Sources, merged in this order: the base (``--policy``: a profile name or a policy file;
default ``release``), the policy sections of the config file (``[[rules]]``, ``[license]``,
``[[waivers]]``, ``disable_rules``), then every ``--waivers FILE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from finalexam.config import Config
from finalexam.errors import ConfigError
from finalexam.model import Severity
from finalexam.policy.builtin import DEFAULT_PROFILE, PROFILES, profile
from finalexam.policy.model import (
    BLOCK,
    LicensePolicy,
    Origin,
    Policy,
    Problem,
    Rule,
    WaiverSpec,
)
from finalexam.policy.reader import PolicyReader, as_date, read_policy_toml

POLICY_FILE_KEYS = ("name", "extends", "fail_on", "disable_rules", "rules", "license", "waivers")
CONFIG_POLICY_KEYS = ("disable_rules", "rules", "license", "waivers")
NO_BASE = "none"


class PolicyError(ConfigError):
    """Every problem found in the policy sources, one per line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.source, p.line or 0))
        super().__init__("\n".join(str(p) for p in self.problems))


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

    def disable(self, reader: PolicyReader, value: Any) -> None:
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

    def apply(self, reader: PolicyReader, table: Mapping[str, Any], keys: tuple[str, ...]) -> None:
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
    read = read_policy_toml(path, problems)
    if read is None:
        return
    data, lines = read
    reader = PolicyReader(str(path), lines, problems)
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
        read = read_policy_toml(Path(config.config_path), problems)
        if read is not None:
            _, lines = read
            reader = PolicyReader(config.config_path, lines, problems)
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
        read = read_policy_toml(path, problems)
        if read is None:
            continue
        data, lines = read
        reader = PolicyReader(str(path), lines, problems)
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
            parsed = as_date(text[:10])
            if parsed is None:
                raise ConfigError(f"--timestamp: not an ISO 8601 date or time: {text!r}") from None
            return parsed
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).date()
    return datetime.now(UTC).date()
