"""Imported YARA rule sets (``finalexam rules update --source FILE|DIR|ZIP``): compiled once
with YARA-X, kept beside the vulnerability database, loaded by every exam.

Layout: ``<store>/<name>/manifest.json`` (identity: name, source, sha256 of the inputs, rule
count, import date, engine) and the compiled rules it names (``rules-<sha256[:16]>.yarx``).
The manifest is replaced last and atomically, so a failed or interrupted update leaves the
previous set whole. The store is ``yara_store`` in the config, else ``yara-rules/`` in the
directory of the vulnerability database.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yara_x

from finalexam.config import Config
from finalexam.errors import ConfigError, UsageError
from finalexam.matching.yara import ENGINE, RULE_SUFFIXES, Skipped, compile_lenient
from finalexam.report.base import write_atomically
from finalexam.vuln.store import resolve_db_path

STORE_DIRNAME = "yara-rules"
MANIFEST = "manifest.json"
FORMAT = 1
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A rule set is text: these bound what one import may read (a zip bomb is refused, not read).
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILES = 100_000


class RuleSetError(UsageError):
    """The source is not a readable rule set, or nothing in it compiles."""


def store_dir(config: Config) -> Path:
    if config.yara_store:
        return Path(config.yara_store).expanduser()
    return resolve_db_path(config.db).parent / STORE_DIRNAME


@dataclass(frozen=True)
class RuleSetInfo:
    """What the manifest records: the identity an exam report carries."""

    name: str
    source: str
    sha256: str
    rules: int
    files: int
    skipped: int
    imported: str
    engine: str
    compiled: str  # file name of the compiled rules, beside the manifest

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "sha256": self.sha256,
            "rules": self.rules,
            "imported": self.imported,
            "engine": self.engine,
        }


@dataclass(frozen=True)
class ImportResult:
    info: RuleSetInfo
    path: Path
    skipped: tuple[Skipped, ...]


def default_name(source: Path) -> str:
    stem = source.name
    for suffix in (".zip", *RULE_SUFFIXES):
        stem = stem.removesuffix(suffix)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "rules"
    return cleaned[:64]


def read_sources(source: Path) -> tuple[list[tuple[str, str]], str]:
    """(relative path, text) of every rule file in ``source`` (a .yar/.yara file, a directory
    tree of them, or a zip of them) and the sha256 of the inputs: the file's bytes, or for a
    directory the sha256 of its sorted ``<sha256>  <relative path>`` lines."""
    if source.is_dir():
        files = _files_in_directory(source)
        listing = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files)
        digest = hashlib.sha256(listing.encode()).hexdigest()
    elif source.is_file():
        data = _read_bounded(source)
        digest = hashlib.sha256(data).hexdigest()
        if zipfile.is_zipfile(io.BytesIO(data)):
            files = _files_in_zip(source, data)
        elif source.suffix in RULE_SUFFIXES:
            files = [(source.name, data)]
        else:
            raise RuleSetError(
                f"{source}: not a YARA rule file (.yar, .yara), a zip of them or a directory"
            )
    else:
        raise RuleSetError(f"{source}: no such file or directory")
    if not files:
        raise RuleSetError(f"{source}: no YARA rule files (*.yar, *.yara) in it")
    return [(name, data.decode("utf-8", errors="replace")) for name, data in files], digest


def _read_bounded(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_TOTAL_BYTES:
            raise RuleSetError(f"{path}: larger than {MAX_TOTAL_BYTES} bytes: not a rule set")
        return path.read_bytes()
    except OSError as error:
        raise RuleSetError(f"{path}: cannot read: {error.strerror}") from None


def _files_in_directory(root: Path) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    total = 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in RULE_SUFFIXES or path.is_symlink() or not path.is_file():
            continue
        data = _read_bounded(path)
        total += len(data)
        if len(data) > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES or len(found) >= MAX_FILES:
            raise RuleSetError(f"{root}: too large for a rule set (at {path})")
        found.append((path.relative_to(root).as_posix(), data))
    return found


def _files_in_zip(source: Path, data: bytes) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = sorted(
                (m for m in archive.infolist() if not m.is_dir()), key=lambda m: m.filename
            )
            for member in members:
                name = PurePosixPath(member.filename)
                if name.suffix not in RULE_SUFFIXES or name.is_absolute() or ".." in name.parts:
                    continue
                total += member.file_size
                if member.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
                    raise RuleSetError(f"{source}: too large for a rule set (at {name})")
                if len(found) >= MAX_FILES:
                    raise RuleSetError(f"{source}: more than {MAX_FILES} rule files")
                with archive.open(member) as handle:
                    content = handle.read(MAX_FILE_BYTES + 1)
                if len(content) > MAX_FILE_BYTES:
                    raise RuleSetError(f"{source}: too large for a rule set (at {name})")
                found.append((name.as_posix(), content))
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as error:
        raise RuleSetError(f"{source}: unreadable zip: {error}") from None
    return found


def import_rule_set(config: Config, source: Path, name: str | None = None) -> ImportResult:
    """Compile ``source`` and store it as rule set ``name`` (replacing a set of that name).
    Rules YARA-X rejects are skipped (returned); a set where nothing compiles is an error."""
    name = name or default_name(source)
    if not NAME.match(name):
        raise UsageError(
            f"rule set name {name!r}: use letters, digits, '.', '_' and '-' (at most 64)"
        )
    texts, digest = read_sources(source)
    build = compile_lenient(texts)  # each file in a namespace named by its relative path
    if build.rules is None:
        reasons = "; ".join(str(s) for s in build.skipped[:3])
        raise RuleSetError(
            f"{source}: no rule compiles with {ENGINE} ({len(build.skipped)} rejected: "
            f"{reasons or 'the files hold no rules'})"
        )
    info = RuleSetInfo(
        name=name,
        source=str(source.resolve()),
        sha256=digest,
        rules=build.count,
        files=len(texts),
        skipped=len(build.skipped),
        imported=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        engine=ENGINE,
        compiled=f"rules-{digest[:16]}.yarx",
    )
    directory = store_dir(config) / name
    directory.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    build.rules.serialize_into(buffer)
    write_atomically(directory / info.compiled, buffer.getvalue())
    manifest = {"format": FORMAT, **info.__dict__, "rejected": [str(s) for s in build.skipped]}
    write_atomically(directory / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
    for stale in directory.glob("rules-*.yarx"):
        if stale.name != info.compiled:
            stale.unlink(missing_ok=True)
    return ImportResult(info, directory, build.skipped)


def _info(manifest: dict[str, Any]) -> RuleSetInfo:
    fields = RuleSetInfo.__dataclass_fields__
    return RuleSetInfo(**{key: manifest[key] for key in fields})


def list_rule_sets(config: Config) -> list[RuleSetInfo]:
    """Every imported set, by name; a damaged manifest is a ConfigError naming it."""
    root = store_dir(config)
    if not root.is_dir():
        return []
    found: list[RuleSetInfo] = []
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            found.append(_info(data))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(
                f"imported YARA rule set unreadable ({error}): run finalexam rules update "
                "--source again or remove its directory",
                path=str(manifest),
            ) from None
    return found


def load_rule_sets(config: Config) -> Iterator[tuple[RuleSetInfo, yara_x.Rules]]:
    root = store_dir(config)
    for info in list_rule_sets(config):
        yield info, _load_compiled(root / info.name / info.compiled, info)


_LOADED: dict[tuple[str, int, int], yara_x.Rules] = {}


def _load_compiled(path: Path, info: RuleSetInfo) -> yara_x.Rules:
    """The compiled set, loaded once per process while the file stays the same."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _LOADED:
            with path.open("rb") as handle:
                rules = yara_x.Rules.deserialize_from(handle)
            if len(_LOADED) >= 16:
                _LOADED.clear()
            _LOADED[key] = rules
        return _LOADED[key]
    except (OSError, ValueError, yara_x.CompileError) as error:
        raise ConfigError(
            f"imported YARA rule set {info.name!r} cannot be loaded by {ENGINE} (compiled "
            f"by {info.engine}: {error}): run finalexam rules update --source "
            f"{info.source} --name {info.name}",
            path=str(path),
        ) from None


def remove_rule_set(config: Config, name: str) -> bool:
    directory = store_dir(config) / name
    if not NAME.match(name) or not (directory / MANIFEST).is_file():
        return False
    shutil.rmtree(directory)
    return True
