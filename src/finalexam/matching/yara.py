"""YARA rule files gathered and compiled: the bundled ones and the user's directories.

A rule that does not compile is a usage error (``ConfigError``), raised before any file is
read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import yara

from finalexam.errors import ConfigError

RULE_SUFFIXES = (".yar", ".yara")


def rule_files(bundled: Path, directories: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """(namespace, file) for the bundled rules (``*.yar`` in ``bundled``) and every rule file
    under each of the user's directories."""
    files = [(f"bundled/{p.stem}", p) for p in sorted(bundled.glob("*.yar"))]
    for index, directory in enumerate(directories):
        root = Path(directory)
        if root.is_file():
            found = [root]
        elif root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
        else:
            raise ConfigError("YARA rule directory not found", path=directory)
        if not found:
            raise ConfigError("no YARA rule files (*.yar, *.yara) in directory", path=directory)
        for path in found:
            relative = path.relative_to(root).as_posix() if root.is_dir() else path.name
            files.append((f"user{index}/{relative}", path))
    return files


def compile_rules(files: Sequence[tuple[str, Path]]) -> yara.Rules:
    try:
        return yara.compile(filepaths={namespace: str(path) for namespace, path in files})
    except yara.SyntaxError as error:
        message = " ".join(str(error).split())
        raise ConfigError(f"YARA rule does not compile: {message}") from None
    except yara.Error as error:
        message = " ".join(str(error).split())
        raise ConfigError(f"cannot load YARA rules: {message}") from None
