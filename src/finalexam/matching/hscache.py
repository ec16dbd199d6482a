"""Compiled Hyperscan databases kept between runs (compiling takes a second or more).

A database is stored under the user cache directory, named by a hash of everything it is
built from (its patterns, their flags, the mode and the Hyperscan version), so a changed rule
or another Hyperscan simply misses. The cache is a convenience: an unreadable, corrupt or
read-only cache falls back to compiling, and only complete databases (every pattern
compiled) are stored. Each kind keeps its few newest databases (a few installed versions
side by side); older ones, left by rules that have since changed, are removed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# A run may use a few databases of one kind (whole rule set, subsets); 16 leaves room for
# several installed versions without growing forever.
KEEP_PER_NAME = 16

hyperscan: ModuleType | None
try:
    import hyperscan
except ImportError:  # pragma: no cover - callers only ask when Hyperscan is installed
    hyperscan = None


def cache_path(name: str, patterns: Sequence[bytes], flags: int, mode: int) -> Path | None:
    try:
        import platformdirs

        digest = hashlib.sha256(b"\x00".join(patterns))
        digest.update(str(getattr(hyperscan, "__version__", "")).encode())
        digest.update(b"flags=%d mode=%d" % (flags, mode))
        return (
            Path(platformdirs.user_cache_dir("finalexam"))
            / f"{name}-{digest.hexdigest()[:24]}.hsdb"
        )
    except Exception:
        return None


def load(name: str, patterns: Sequence[bytes], flags: int, mode: int) -> Any:
    """The database an earlier run compiled from the same inputs, or None."""
    path = cache_path(name, patterns, flags, mode)
    if hyperscan is None or path is None or not path.is_file():
        return None
    try:
        return hyperscan.loadb(path.read_bytes(), mode=mode)
    except Exception:
        return None


def store(name: str, patterns: Sequence[bytes], flags: int, mode: int, database: Any) -> None:
    path = cache_path(name, patterns, flags, mode)
    if hyperscan is None or path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_bytes(hyperscan.dumpb(database))
        scratch.replace(path)  # atomic: a concurrent run sees the old file or the new one
        _prune(path.parent, name)
    except Exception:
        return  # a read-only home is fine


def _prune(folder: Path, name: str) -> None:
    def mtime(path: Path) -> int:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    stored = sorted(folder.glob(f"{name}-*.hsdb"), key=mtime, reverse=True)
    for stale in stored[KEEP_PER_NAME:]:
        with contextlib.suppress(OSError):  # another run removed it first
            stale.unlink()


def build(name: str, expressions: Sequence[bytes], flags: int) -> tuple[Any, set[int]]:
    """A block-mode database of the expressions (ids are their indexes), cached between runs,
    and the indexes Hyperscan rejects, which the caller must always check itself. The database
    is None when none compiles; only complete databases are cached, so a cached one rejects
    nothing."""
    assert hyperscan is not None
    mode = hyperscan.HS_MODE_BLOCK
    everything = list(range(len(expressions)))
    database = load(name, expressions, flags, mode)
    if database is not None:
        return database, set()
    try:
        database = _compile(expressions, everything, flags)
    except Exception:
        usable = [i for i in everything if _compiles(expressions[i], flags)]
        return (_compile(expressions, usable, flags) if usable else None), set(everything) - set(
            usable
        )
    store(name, expressions, flags, mode, database)
    return database, set()


def _compile(expressions: Sequence[bytes], ids: list[int], flags: int) -> Any:
    assert hyperscan is not None
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[expressions[i] for i in ids],
        ids=ids,
        elements=len(ids),
        flags=[flags] * len(ids),
    )
    return database


@functools.cache  # the same rule patterns are tried once per process, not once per exam
def _compiles(expression: bytes, flags: int) -> bool:
    try:
        _compile([expression], [0], flags)
    except Exception:
        return False
    return True
