"""The policy a release was examined under, kept as data so a re-check needs no files.

A snapshot holds the profile name or the text of the policy file, the ``fail_on`` setting,
the policy sections of the config file and the waiver files. Rebuilding writes those texts
into a scratch directory and reads them with the ordinary policy loader, so a re-check
decides exactly as the exam did, even after the files changed or were removed.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from finalexam.config import Config, load_table
from finalexam.policy import PROFILES, load_policy
from finalexam.policy.load import CONFIG_POLICY_KEYS
from finalexam.policy.model import Policy

SNAPSHOT_VERSION = 1


def _file(path: str) -> dict[str, str]:
    return {"name": Path(path).name, "text": Path(path).read_text(encoding="utf-8")}


def policy_snapshot(config: Config) -> dict[str, Any]:
    """What ``load_policy(config)`` reads, as plain data (raises PolicyError if invalid)."""
    policy = load_policy(config)
    sources = list(policy.sources)
    snapshot: dict[str, Any] = {"version": SNAPSHOT_VERSION, "fail_on": config.fail_on}
    if config.policy is None or config.policy in PROFILES:
        snapshot["profile"] = config.policy
    elif sources:
        snapshot["policy_file"] = _file(sources.pop(0))
    if config.config_path and config.config_path in sources:
        sources.remove(config.config_path)
        table = {k: v for k, v in config.raw.items() if k in CONFIG_POLICY_KEYS}
        if isinstance(table.get("waivers"), list) and all(
            isinstance(item, str) for item in table["waivers"]
        ):
            del table["waivers"]
        snapshot["config"] = {"name": "finalexam.toml", "table": table}
    snapshot["waiver_files"] = [_file(path) for path in sources]
    return snapshot


def snapshot_text(snapshot: Mapping[str, Any]) -> str:
    # TOML dates (waiver expiry) are kept as ISO text, which the policy loader accepts too.
    return json.dumps(
        snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_iso
    )


def _iso(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot keep {type(value).__name__} in a policy snapshot")


def snapshot_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    raise ValueError(f"cannot write {type(value).__name__} as TOML")


def _toml(table: Mapping[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {_toml_value(value)}\n" for key, value in table.items())


@lru_cache(maxsize=64)
def policy_from_snapshot(text: str) -> Policy:
    """The Policy a snapshot describes (cached: most releases share a handful)."""
    snapshot = json.loads(text)
    with tempfile.TemporaryDirectory(prefix="finalexam-policy-") as scratch:
        root = Path(scratch)
        values: dict[str, Any] = {"fail_on": snapshot.get("fail_on")}
        if "policy_file" in snapshot:
            directory = root / "policy"
            directory.mkdir()
            path = directory / snapshot["policy_file"]["name"]
            path.write_text(snapshot["policy_file"]["text"], encoding="utf-8")
            values["policy"] = str(path)
        else:
            values["policy"] = snapshot.get("profile")
        waiver_paths = []
        for index, item in enumerate(snapshot.get("waiver_files", ())):
            directory = root / f"waivers-{index}"
            directory.mkdir()
            path = directory / item["name"]
            path.write_text(item["text"], encoding="utf-8")
            waiver_paths.append(str(path))
        raw: dict[str, Any] = {}
        config_path = None
        if "config" in snapshot:
            path = root / snapshot["config"]["name"]
            path.write_text(_toml(snapshot["config"]["table"]), encoding="utf-8")
            raw = load_table(path)
            config_path = str(path)
        config = Config(
            policy=values["policy"],
            fail_on=values["fail_on"],
            waivers=tuple(waiver_paths),
            raw=raw,
            config_path=config_path,
        )
        return load_policy(config)
