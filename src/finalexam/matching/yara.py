"""YARA rule files gathered and compiled with YARA-X: the bundled ones, the user's directories
and imported rule sets (``finalexam rules update``).

YARA-X matches in linear time and is memory-safe on hostile input; it is stricter than libyara
about rule syntax. Two ways to compile:

- ``compile_rules`` (bundled rules, ``--yara-rules`` directories): a rule that does not compile
  is a usage error (``ConfigError``), raised before any file is read.
- ``compile_lenient`` (third-party sets): a rule YARA-X rejects is skipped and named in a
  ``Skipped`` record; the rest is kept.

Every set is compiled with the same external variables (``filename``, ``filepath``,
``extension``, ``filetype``, ``owner``: the ones signature-base and THOR rules use), set per
file at scan time.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yara_x

from finalexam.errors import ConfigError

RULE_SUFFIXES = (".yar", ".yara")
ENGINE = f"yara-x {importlib.metadata.version('yara-x')}"
# External variables third-party rules read (THOR / signature-base): defined empty, set per file.
EXTERNALS = ("filename", "filepath", "extension", "filetype", "owner")
# libyara modules YARA-X does not have: rules that use them are skipped, the others kept.
UNSUPPORTED_MODULES = ("cuckoo", "magic")


def rule_files(bundled: Path, directories: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """(namespace, file) for the bundled rules (``*.yar`` in ``bundled``) and every rule file
    under each of the user's directories."""
    files = [(f"bundled/{p.stem}", p) for p in sorted(bundled.glob("*.yar"))]
    for index, directory in enumerate(directories):
        root = Path(directory)
        if root.is_file():
            found = [root]
        elif root.is_dir():
            found = rule_files_under(root)
        else:
            raise ConfigError("YARA rule directory not found", path=directory)
        if not found:
            raise ConfigError("no YARA rule files (*.yar, *.yara) in directory", path=directory)
        for path in found:
            relative = path.relative_to(root).as_posix() if root.is_dir() else path.name
            files.append((f"user{index}/{relative}", path))
    return files


def rule_files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())


def _compiler(*, lenient: bool) -> yara_x.Compiler:
    # includes resolve against the including file's directory (added per file); imported
    # sets come from archives and untrusted trees: no includes there. Third-party rules were
    # written for libyara, which reads `\R` as `R` and a lone `{` as a brace: so does YARA-X
    # in relaxed mode.
    compiler = yara_x.Compiler(relaxed_re_syntax=lenient, includes_enabled=not lenient)
    for name in EXTERNALS:
        compiler.define_global(name, "")
    if lenient:
        compiler.ignore_invalid_rules(True)
        for module in UNSUPPORTED_MODULES:
            compiler.ignore_module(module)
    return compiler


def _first_error(compiler: yara_x.Compiler, error: Exception) -> str:
    """``line N: title`` of the compiler's first error, else the exception's first line."""
    for found in compiler.errors():
        if isinstance(found, Mapping) and found.get("title"):
            line = found.get("line")
            return f"line {line}: {found['title']}" if line else str(found["title"])
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def compile_rules(files: Sequence[tuple[str, Path]]) -> yara_x.Rules:
    """Every rule of every file, each file in its own namespace; any error is a ConfigError.

    Compiling with YARA-X takes a tenth of a second per rule file or more: the result is kept
    for the process and in the user cache directory, named by a hash of the engine and every
    file's namespace and bytes (a set with ``include`` is not cached: what it includes could
    change unseen)."""
    sources: list[tuple[str, Path, str]] = []
    for namespace, path in files:
        try:
            sources.append((namespace, path, path.read_text(encoding="utf-8", errors="replace")))
        except OSError as error:
            raise ConfigError(f"cannot read YARA rules: {error.strerror}", path=str(path)) from None
    digest = hashlib.sha256(ENGINE.encode())
    for namespace, _, source in sources:
        digest.update(f"\0{namespace}\0{len(source)}\0{source}".encode())
    cacheable = not any("include" in source for _, _, source in sources)
    key = digest.hexdigest()[:24] if cacheable else None
    if key is not None and key in _COMPILED:
        return _COMPILED[key]
    rules = _load_cached(key) if key else None
    if rules is None:
        rules = _compile_strict(sources)
        if key:
            _store_cached(key, rules)
    if key:
        if len(_COMPILED) >= _CACHE_KEEP:
            _COMPILED.clear()
        _COMPILED[key] = rules
    return rules


_COMPILED: dict[str, yara_x.Rules] = {}
_CACHE_KEEP = 16  # a few installed versions and rule directories side by side


def _compile_strict(sources: Sequence[tuple[str, Path, str]]) -> yara_x.Rules:
    compiler = _compiler(lenient=False)
    for namespace, path, source in sources:
        compiler.new_namespace(namespace)
        compiler.add_include_dir(str(path.parent))
        try:
            compiler.add_source(source, origin=str(path))
        except yara_x.CompileError as error:
            message = _first_error(compiler, error)
            raise ConfigError(f"YARA rule does not compile: {path}: {message}") from None
    return compiler.build()


def _cache_file(key: str) -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("finalexam")) / f"yara-{key}.yarx"


def _load_cached(key: str) -> yara_x.Rules | None:
    """An earlier run's compiled rules, or None (a missing or damaged cache just compiles)."""
    try:
        with _cache_file(key).open("rb") as handle:
            return yara_x.Rules.deserialize_from(handle)
    except Exception:
        return None


def _store_cached(key: str, rules: yara_x.Rules) -> None:
    path = _cache_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        with scratch.open("wb") as handle:
            rules.serialize_into(handle)
        scratch.replace(path)  # atomic: a concurrent run sees the old file or the new one
        stored = sorted(path.parent.glob("yara-*.yarx"), key=_mtime, reverse=True)
        for old in stored[_CACHE_KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        return  # a read-only home is fine


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@dataclass(frozen=True)
class Skipped:
    """A rule YARA-X rejected, or a part of a file it could not read (``rule`` None)."""

    file: str
    rule: str | None
    reason: str

    def __str__(self) -> str:
        if self.rule is None:
            return f"{self.file}: {self.reason}: skipped"
        return f"{self.file}: rule {self.rule} skipped: {self.reason}"


@dataclass(frozen=True)
class LenientBuild:
    rules: yara_x.Rules | None  # None when nothing compiled
    count: int
    skipped: tuple[Skipped, ...]


def compile_lenient(sources: Iterable[tuple[str, str]]) -> LenientBuild:
    """(namespace, source text) pairs, each in its own namespace; rules YARA-X rejects (an
    unknown identifier or module, a duplicate) are skipped and named, and so is what a syntax
    error or a refused include leaves out."""
    compiler = _compiler(lenient=True)
    skipped: list[Skipped] = []
    for namespace, source in sources:
        compiler.new_namespace(namespace)
        ignored_before, errors_before = len(_ignored(compiler)), len(compiler.errors())
        try:
            compiler.add_source(source, origin=namespace)
        except yara_x.CompileError as error:
            skipped.append(Skipped(namespace, None, _first_error(compiler, error)))
            continue
        rejected = Counter[str]()
        for ignored in _ignored(compiler)[ignored_before:]:
            reason = _one_line(str(getattr(ignored, "message", "")))
            rejected[reason] += 1
            skipped.append(Skipped(namespace, str(getattr(ignored, "name", "?")), reason))
        # errors that belong to no ignored rule: the file's own (syntax, include, module)
        for found in compiler.errors()[errors_before:]:
            title = str(found.get("title", "")) if isinstance(found, Mapping) else str(found)
            if rejected[title] > 0:
                rejected[title] -= 1
                continue
            skipped.append(Skipped(namespace, None, _describe(found)))
    rules = compiler.build()
    count = sum(1 for _ in rules)
    return LenientBuild(rules if count else None, count, tuple(skipped))


def _describe(error: object) -> str:
    """``line N: title (what the label says)`` of one compiler error."""
    if not isinstance(error, Mapping):
        return _one_line(str(error))
    text = str(error.get("title") or "error")
    labels = error.get("labels") or []
    label = labels[0].get("text") if labels and isinstance(labels[0], Mapping) else None
    if label and label != text:
        text += f" ({label})"
    return f"line {error['line']}: {text}" if error.get("line") else text


def _ignored(compiler: yara_x.Compiler) -> list[Any]:
    return list(compiler.ignored_rules())  # type: ignore[misc]  # the stub omits self


def _one_line(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "rejected"
    return first.removeprefix("error: ")


@dataclass(frozen=True)
class PatternMatch:
    identifier: str
    offset: int
    length: int


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    namespace: str
    tags: tuple[str, ...]
    meta: dict[str, Any]
    strings: tuple[PatternMatch, ...]  # sorted by offset


class RuleScanner:
    """One compiled set and its scanner (a scanner is not shared between threads: each
    analyzer, and so each worker process, has its own)."""

    def __init__(self, rules: yara_x.Rules, max_matches_per_pattern: int = 1000) -> None:
        self.rules = rules
        self._scanner = yara_x.Scanner(rules)
        self._scanner.max_matches_per_pattern(max_matches_per_pattern)

    def scan(self, data: bytes, timeout: int, externals: Mapping[str, str]) -> list[RuleMatch]:
        """Raises ``ScanTimeout`` past ``timeout`` seconds, ``ScanError`` when the scan fails."""
        self._scanner.set_timeout(max(1, timeout))
        for name, value in externals.items():
            self._scanner.set_global(name, value)
        results = self._scanner.scan(data)
        return [
            RuleMatch(
                rule=rule.identifier,
                namespace=rule.namespace,
                tags=tuple(rule.tags),
                meta=dict(rule.metadata),
                strings=tuple(
                    sorted(
                        (
                            PatternMatch(pattern.identifier, match.offset, match.length)
                            for pattern in rule.patterns
                            for match in pattern.matches
                        ),
                        key=lambda m: (m.offset, m.identifier),
                    )
                ),
            )
            for rule in results.matching_rules
        ]


ScanTimeout = yara_x.TimeoutError
ScanError = yara_x.ScanError
