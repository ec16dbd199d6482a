"""False positives and recall of the typosquat check on names alone, in seconds.

Reads the benign benchmark packages (``bench/.work/{pypi,npm}``, see fetch.py) statically
(zipfile/tarfile in memory: METADATA/PKG-INFO Requires-Dist, egg-info requires.txt, setup.py
install_requires read with ``ast``, pyproject ``[project] dependencies``, package.json
dependencies/devDependencies/optionalDependencies/peerDependencies), collects every declared
dependency name and every package name, and runs the typosquat name check on them. Then it
measures the popular lists against themselves (each popular name judged as if it were not in
the list), optionally any name list (``--names FILE``: one name per line, or a TSV whose first
column is the name, e.g. a registry's full name list), and the names of the known-malicious
(MAL-) OSV records in ``../shared/data/osv/malicious``.

    python bench/behavior/misspelled.py [--names pypi=FILE] [--names npm=FILE] [--show 20]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from finalexam.analyze.names.similarity import (  # noqa: E402
    MISSPELLED,
    check_name,
    misspelled_word,
    popular,
)
from finalexam.catalog.manifests import requires_txt, setup_py_requires  # noqa: E402

WORK = ROOT / "bench" / ".work"
MALICIOUS = ROOT / ".." / "shared" / "data" / "osv" / "malicious"
ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm"}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_REQUIRES_DIST = re.compile(r"^Requires-Dist:\s*(.+)$", re.MULTILINE)
_NAME = re.compile(r"^Name:\s*(\S+)\s*$", re.MULTILINE)
_NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")
MAX_MEMBER = 4 * 1024 * 1024


def _members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of the few metadata files of a wheel, sdist or npm tarball."""
    wanted = re.compile(
        r"^([^/]+/)?(package/package\.json|[^/]+\.dist-info/METADATA|PKG-INFO|"
        r"[^/]+\.egg-info/requires\.txt|(src/)?[^/]+\.egg-info/requires\.txt|setup\.py|"
        r"pyproject\.toml)$"
    )
    if path.suffix == ".whl" or path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if wanted.match(info.filename) and info.file_size <= MAX_MEMBER:
                    yield info.filename, archive.read(info)
        return
    with tarfile.open(path) as archive:
        for member in archive:
            if member.isfile() and wanted.match(member.name) and member.size <= MAX_MEMBER:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def declared(path: Path) -> tuple[set[str], set[str]]:
    """(own names, dependency names) an artifact declares."""
    own: set[str] = set()
    deps: set[str] = set()
    for name, data in _members(path):
        text = data.decode("utf-8", "replace")
        base = name.rsplit("/", 1)[-1]
        if base == "package.json":
            try:
                document = json.loads(text)
            except ValueError:
                continue
            if not isinstance(document, dict):
                continue
            if isinstance(document.get("name"), str):
                own.add(document["name"])
            for section in _NPM_SECTIONS:
                if isinstance(document.get(section), dict):
                    deps.update(document[section])
        elif base in ("METADATA", "PKG-INFO"):
            head = text.split("\n\n", 1)[0]
            if match := _NAME.search(head):
                own.add(match.group(1))
            for line in _REQUIRES_DIST.findall(head):
                if match := _REQUIREMENT.match(line):
                    deps.add(match.group(1))
        elif base == "requires.txt":
            deps.update(requires_txt(text))
        elif base == "setup.py":
            deps.update(setup_py_requires(text))
        elif base == "pyproject.toml":
            try:
                project = tomllib.loads(text).get("project", {})
            except tomllib.TOMLDecodeError:
                continue
            lists = [project.get("dependencies", [])]
            lists += list((project.get("optional-dependencies") or {}).values())
            for requirements in lists:
                for requirement in requirements if isinstance(requirements, list) else []:
                    if isinstance(requirement, str) and (match := _REQUIREMENT.match(requirement)):
                        deps.add(match.group(1))
    return own, deps


def _fires(
    names: Iterable[str], ecosystem: str, only_misspelled: bool = False
) -> list[tuple[str, str, str]]:
    """(name, target, technique) of the names that fire; ``only_misspelled`` runs the
    misspelled-word check alone (the full check is too slow for a whole registry's names)."""
    check = misspelled_word if only_misspelled else check_name
    hits = []
    for name in sorted(set(names)):
        squat = check(name, ecosystem)
        if squat is not None:
            hits.append((name, squat.target, squat.technique))
    return hits


def _misspelled(hits: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [hit for hit in hits if hit[2] == MISSPELLED]


def _read_names(spec: str) -> tuple[str, list[str]]:
    key, _, file = spec.partition("=")
    lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    names = [line.split("\t", 1)[0].strip() for line in lines]
    if lines and lines[0].startswith("name\t"):
        names = names[1:]
    return ECOSYSTEMS[key], [name for name in names if name]


def _malicious_names(ecosystem: str) -> list[str]:
    archive_path = MALICIOUS / ecosystem / "all.zip"
    if not archive_path.is_file():
        return []
    names = set()
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".json"):
                continue
            record = json.loads(archive.read(info))
            for affected in record.get("affected", []):
                package = affected.get("package", {})
                if package.get("ecosystem") == ecosystem and package.get("name"):
                    names.add(package["name"])
    return sorted(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--names", action="append", default=[], metavar="pypi|npm=FILE")
    parser.add_argument("--show", type=int, default=20, help="list at most N hits per row")
    args = parser.parse_args()
    rows: list[tuple[str, int, int, int, float, list[tuple[str, str, str]]]] = []

    def row(label: str, names: list[str], ecosystem: str, only_misspelled: bool = False) -> None:
        start = time.perf_counter()
        hits = _fires(names, ecosystem, only_misspelled)
        seconds = time.perf_counter() - start
        fired = -1 if only_misspelled else len(hits)
        rows.append((label, len(set(names)), fired, len(_misspelled(hits)), seconds, hits))

    for key, ecosystem in ECOSYSTEMS.items():
        own: set[str] = set()
        deps: set[str] = set()
        packages = (
            sorted(p for p in (WORK / key).iterdir() if p.is_dir()) if (WORK / key).is_dir() else []
        )
        start = time.perf_counter()
        for folder in packages:
            for artifact in sorted(p for p in folder.rglob("*") if p.is_file()):
                names, dependencies = declared(artifact)
                own |= names
                deps |= dependencies
        read = time.perf_counter() - start
        row(f"{key}: dependencies of the {len(packages)} benign packages", sorted(deps), ecosystem)
        row(f"{key}: names of the {len(packages)} benign packages", sorted(own), ecosystem)
        print(f"read {key} metadata in {read:.1f} s", file=sys.stderr)

        names = list(popular(ecosystem))
        start = time.perf_counter()
        exempt = [(n, s.target, s.technique) for n in names if (s := check_name(n, ecosystem))]
        rows.append(
            (f"{key}: popular names as they are (exempt)", len(names), len(exempt),
             len(_misspelled(exempt)), time.perf_counter() - start, exempt)
        )  # fmt: skip
        start = time.perf_counter()
        against = [
            (n, s.target, s.technique)
            for n in names
            if (s := misspelled_word(n, ecosystem, leave_out=n)) is not None
        ]
        rows.append(
            (f"{key}: popular names, each left out of the list", len(names), -1,
             len(against), time.perf_counter() - start, against)
        )  # fmt: skip
        malicious = _malicious_names(ecosystem)
        if malicious:
            row(f"{key}: names of known-malicious (MAL-) packages", malicious, ecosystem)

    for spec in args.names:
        ecosystem, names = _read_names(spec)
        label = f"{ecosystem}: names in {Path(spec.partition('=')[2]).name}"
        row(label, names, ecosystem, only_misspelled=True)

    print("| names | count | any typosquat technique | misspelled word | seconds |")
    print("|---|---|---|---|---|")
    for label, count, fired, misspelled, seconds, _ in rows:
        shown = "not run" if fired < 0 else str(fired)
        print(f"| {label} | {count} | {shown} | {misspelled} | {seconds:.1f} |")
    for label, _, _, _, _, hits in rows:
        shown = _misspelled(hits)[: args.show]
        if shown:
            print(f"\n{label}, misspelled word:")
            for name, target, _ in shown:
                print(f"  {name} -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
