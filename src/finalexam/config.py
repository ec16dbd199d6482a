"""Configuration: one table of options, each reachable as a flag, an env var and a file key.

Precedence, lowest first: built-in default, ``[tool.finalexam]`` in ``pyproject.toml`` or
``finalexam.toml`` (or ``--config FILE``), ``FINALEXAM_<NAME>`` environment variables, flags.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from finalexam.budget import DEFAULT_TIME_BUDGET
from finalexam.errors import ConfigError
from finalexam.model import IssueKind

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    max_depth: int = 16
    max_total_bytes: int = 16 * GiB
    max_ratio: int = 250  # produced per consumed byte, checked past ratio_floor produced bytes
    # A member this small costs nothing to examine whatever its ratio: opencv-python's xcb
    # libraries are 6 MiB of mostly page-alignment zeros (ratios up to 516); bombs are bounded
    # past it and by max_total_bytes.
    ratio_floor: int = 16 * MiB
    max_files: int = 2_000_000
    max_member_size: int = 4 * GiB
    memory_member_size: int = 32 * MiB  # bigger members spill to a scratch file


@dataclass(frozen=True)
class Config:
    limits: Limits = field(default_factory=Limits)
    outputs: tuple[str, ...] = ()
    files: bool = False
    timings: bool = False  # stage durations in the JSON report (not reproducible)
    progress: bool | None = None  # None: on when stderr is a terminal
    debug: bool = False
    strict: bool = False  # warnings fail too: every ``warn`` policy rule blocks
    allow_incomplete: tuple[IssueKind, ...] = ()  # gap kinds accepted: the exam stays complete
    fail_on: str | None = None
    policy: str | None = None
    waivers: tuple[str, ...] = ()
    db: str | None = None
    db_max_age_days: int = 7
    db_mirror: str | None = None  # base URL laid out like OSV's bucket (<ecosystem>/all.zip)
    offline: bool = False  # no network access: the vulnerability database is never fetched
    baseline: str | None = None
    jobs: int = 1
    time_budget: float = DEFAULT_TIME_BUDGET  # CPU seconds per file and plug-in; 0: none
    timestamp: str | None = None
    yara_rules: tuple[str, ...] = ()
    yara_store: str | None = None  # imported rule sets (default: yara-rules/ beside the db)
    secrets_candidates: bool = False  # also report generic secrets the filter scores low
    disable: tuple[str, ...] = ()  # plug-in names to skip
    only: tuple[str, ...] = ()  # when set, the only plug-ins that run (minus ``disable``)
    # Raw [tool.finalexam] table, for sections owned by plug-ins (policy rules, waivers, ...).
    raw: Mapping[str, Any] = field(default_factory=dict)
    config_path: str | None = None
    ignored_config_path: str | None = None  # found inside an examined target: not read

    def runs(self, plugin: str) -> bool:
        """Whether the plug-in named ``plugin`` takes part (``only`` and ``disable``)."""
        return plugin not in self.disable and (not self.only or plugin in self.only)


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean, got {text!r}")


def _parse_size(text: str) -> int:
    units = {"k": 1024, "m": MiB, "g": GiB, "t": 1024 * GiB}
    cleaned = text.strip().lower().removesuffix("b").removesuffix("i")
    if cleaned and cleaned[-1] in units:
        return int(float(cleaned[:-1]) * units[cleaned[-1]])
    return int(cleaned)


def _parse_seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"expected a number of seconds, got {text!r}")
    return value


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _parse_issue_kinds(text: str) -> tuple[IssueKind, ...]:
    return tuple(IssueKind.parse(part) for part in _parse_list(text))


@dataclass(frozen=True)
class Option:
    """One setting: a config key, a flag ``--key-with-dashes`` and ``FINALEXAM_KEY``."""

    key: str
    help: str
    parse: Callable[[str], Any]
    kind: type = str
    limit: bool = False  # lives in Config.limits
    repeatable: bool = False
    flag: bool = True  # exposed on the command line

    @property
    def env(self) -> str:
        return "FINALEXAM_" + self.key.upper()

    @property
    def cli(self) -> str:
        return "--" + self.key.replace("_", "-")


OPTIONS: tuple[Option, ...] = (
    Option("max_depth", "maximum archive nesting depth", int, int, limit=True),
    Option(
        "max_total_bytes",
        "maximum total uncompressed bytes (e.g. 16G)",
        _parse_size,
        int,
        limit=True,
    ),
    Option(
        "max_ratio", "maximum compression ratio (produced per consumed byte)", int, int, limit=True
    ),
    Option("max_files", "maximum number of files examined", int, int, limit=True),
    Option("max_member_size", "maximum size of one member (e.g. 4G)", _parse_size, int, limit=True),
    Option(
        "outputs", "report FORMAT[=FILE], repeatable", _parse_list, str, repeatable=True, flag=False
    ),
    Option("files", "list every file in the JSON report", _parse_bool, bool),
    Option(
        "timings",
        "stage durations in the JSON report (they differ run to run: off by default)",
        _parse_bool,
        bool,
    ),
    Option("progress", "show a progress bar on stderr", _parse_bool, bool),
    Option("debug", "show tracebacks for errors", _parse_bool, bool),
    Option("strict", "warnings fail too: every warn rule of the policy blocks", _parse_bool, bool),
    Option(
        "allow_incomplete",
        "accept these kinds of gaps, comma separated; the exam stays complete and the report "
        "still lists them (kinds: " + ", ".join(k.value for k in IssueKind if k.gap) + ")",
        _parse_issue_kinds,
        str,
        repeatable=True,
    ),
    Option("fail_on", "fail when a finding has at least this severity", str),
    Option("policy", "policy profile name or policy file", str),
    Option("waivers", "waiver file, repeatable", _parse_list, str, repeatable=True),
    Option("db", "vulnerability database file", str),
    Option(
        "db_max_age_days",
        "days after which the vulnerability database is stale (a warning and the "
        "stale-database policy check)",
        int,
        int,
    ),
    Option(
        "db_mirror",
        "base URL of an OSV export mirror (<URL>/<ecosystem>/all.zip); default OSV's bucket",
        str,
    ),
    Option(
        "offline",
        "no network access: a missing vulnerability database is not fetched (the exam is "
        "then incomplete unless vulnerabilities is disabled)",
        _parse_bool,
        bool,
    ),
    Option("baseline", "previous release (artifact or JSON report) to diff against", str),
    Option("jobs", "worker processes (0: all cores)", int, int),
    Option(
        "time_budget",
        "seconds one plug-in may spend on one file (per 16 MiB of a bigger file), and on its "
        "step after the walk per 1,000 files and components; past it that file (or step) is "
        "recorded as not examined by that plug-in (0: no limit)",
        _parse_seconds,
        float,
    ),
    Option("timestamp", "timestamp written into reports (default: SOURCE_DATE_EPOCH or none)", str),
    Option(
        "yara_rules", "extra YARA rule directory, repeatable", _parse_list, str, repeatable=True
    ),
    Option(
        "yara_store",
        "directory of the YARA rule sets imported with `finalexam rules update` (default: "
        "yara-rules beside the vulnerability database)",
        str,
    ),
    Option(
        "secrets_candidates",
        "also report the generic secret candidates the filter scores low (more recall, more "
        "noise; never blocking under the built-in policies)",
        _parse_bool,
        bool,
    ),
    Option(
        "disable",
        "plug-ins to skip, comma separated (an unknown name, or a cataloger an enabled "
        "check requires, is an error)",
        _parse_list,
        str,
        repeatable=True,
    ),
    Option(
        "only",
        "run only these plug-ins (catalogers, analyzers) and what they require, comma "
        "separated; e.g. secrets",
        _parse_list,
        str,
        repeatable=True,
    ),
)
OPTIONS_BY_KEY = {option.key: option for option in OPTIONS}


def _inside(path: Path, directories: Sequence[Path]) -> bool:
    return any(path == d or d in path.parents for d in directories)


def find_config_file(start: Path, examined: Sequence[Path] = ()) -> Path | None:
    """The nearest ``finalexam.toml`` (or ``pyproject.toml`` with ``[tool.finalexam]``) from
    ``start`` upwards, skipping every file inside a directory being examined: an artifact
    must never configure its own exam (turn checks off, waive its own findings)."""
    return _search_config(start, examined)[0]


def _search_config(start: Path, examined: Sequence[Path]) -> tuple[Path | None, Path | None]:
    """(the config file found, the first one skipped because it is inside a target)."""
    inside = [p.resolve() for p in examined if p.is_dir()]
    skipped: Path | None = None
    for directory in (start, *start.parents):
        if _inside(directory.resolve(), inside):
            # never parsed: a hostile pyproject.toml must not even make the run fail
            if skipped is None and (directory / "finalexam.toml").is_file():
                skipped = directory / "finalexam.toml"
            continue
        for name in ("finalexam.toml", "pyproject.toml"):
            candidate = directory / name
            if _is_config(candidate):
                return candidate, skipped
    return None, skipped


def _is_config(candidate: Path) -> bool:
    if not candidate.is_file():
        return False
    if candidate.name != "pyproject.toml":
        return True
    tool = _read_toml(candidate).get("tool")
    return isinstance(tool, dict) and "finalexam" in tool


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"cannot read config: {error.strerror}", path=str(path)) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}", path=str(path)) from None


def load_table(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("finalexam", {})
        return table if isinstance(table, dict) else {}
    return data


def _coerce(option: Option, value: Any, origin: str) -> Any:
    try:
        if isinstance(value, str):
            return option.parse(value)
        if option.repeatable:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(item for text in value for item in option.parse(text))
            raise ValueError("expected a list of strings")
        if option.kind is bool and not isinstance(value, bool):
            raise ValueError("expected true or false")
        if option.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("expected an integer")
        if option.kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("expected a number")
            return float(value)
        return value
    except ValueError as error:
        raise ConfigError(f"{origin}: {option.key}: {error}") from None


def build_config(
    *,
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    examined: Sequence[Path] = (),
) -> Config:
    """Merge file, environment and explicit overrides (already-typed flag values).

    ``examined``: the targets of the command; a config file inside one of them is never found
    by the search (``--config`` or FINALEXAM_CONFIG name one explicitly)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    path: Path | None
    ignored: Path | None = None
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError("config file not found", path=config_file)
    else:
        env_file = environ.get("FINALEXAM_CONFIG")
        if env_file:
            path = Path(env_file)
        else:
            path, ignored = _search_config(cwd or Path.cwd(), examined)
    if path is not None:
        raw = load_table(path)
        plugin_sections = {"waivers", "rules", "policy_rules", "license", "baseline_rules"}
        for key, value in raw.items():
            normalized = key.replace("-", "_")
            if normalized in OPTIONS_BY_KEY:
                option = OPTIONS_BY_KEY[normalized]
                if (
                    normalized == "waivers"
                    and isinstance(value, list)
                    and value
                    and isinstance(value[0], dict)
                ):
                    continue  # inline [[waivers]] tables belong to the policy
                values[normalized] = _coerce(option, value, str(path))
            elif isinstance(value, dict | list) or key in plugin_sections:
                continue  # a section owned by a plug-in
            else:
                raise ConfigError(f"unknown key {key!r}", path=str(path))
    for option in OPTIONS:
        if option.env in environ:
            values[option.key] = _coerce(option, environ[option.env], option.env)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    limit_names = {f.name for f in fields(Limits)}
    limits = replace(Limits(), **{k: v for k, v in values.items() if k in limit_names})
    for key in ("max_depth", "max_files", "max_ratio"):
        if getattr(limits, key) <= 0:
            raise ConfigError(f"{key} must be positive")
    if not math.isfinite(values.get("time_budget", 0)) or values.get("time_budget", 0) < 0:
        raise ConfigError("time_budget must be 0 (no limit) or a positive number of seconds")
    top = {k: v for k, v in values.items() if k not in limit_names}
    return Config(
        limits=limits,
        raw=raw,
        config_path=str(path) if path else None,
        ignored_config_path=str(ignored) if ignored else None,
        **top,
    )


def flag_values(namespace: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {key: namespace[key] for key in keys if namespace.get(key) is not None}
