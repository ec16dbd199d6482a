"""Component recall and precision per artifact: finalexam beside syft and trivy, one run.

Usage (from the repository root)::

    python bench/catalog/run.py fetch   # download the labelled inputs into bench/.work/
    python bench/catalog/run.py         # run the three tools, print the Markdown table

Inputs come from PyPI, npm and Debian with their ordinary clients. Nothing examined is ever
installed or run: wheels and tarballs are read as archives, the npm lock file is resolved
with ``npm install --package-lock-only --ignore-scripts`` (no package code runs), and the
Debian packages are unpacked with ``dpkg-deb -x`` for the peers, which do not open a .deb.

The truth for each artifact is in ``labels.json`` (type, name, version, and whether the
component is a native library that only a binary cataloger can see). Matching is by normalised name
and version within a package type (pypi, npm, maven, ...), as sets: copies of one release
in several places are one component.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "catalog"
INPUTS = WORK / "inputs"
UNPACKED = WORK / "unpacked"
OUT = WORK / "out"
LABELS = Path(__file__).with_name("labels.json")
PEERS = Path(os.environ.get("PEERS_BIN", "/opt/peers/bin"))

PYPI = [
    "pip==24.0",
    "pyzmq==25.1.2",
    "py4j==0.10.9.7",
    "tabula-py==2.9.0",
    "setuptools==75.1.0",
]
NPM = ["npm@10.2.4"]
DEBIAN = ["libguava-java", "libcommons-lang3-java"]
LOCK_APP = {"name": "demo-app", "version": "1.0.0", "dependencies": {"express": "4.18.2"}}


def fetch() -> None:
    INPUTS.mkdir(parents=True, exist_ok=True)
    for spec in PYPI:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-q",
                "-d",
                str(INPUTS),
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--python-version",
                "3.11",
                spec,
            ],
            check=True,
        )
    for spec in NPM:
        subprocess.run(["npm", "pack", "--silent", spec], cwd=INPUTS, check=True)
    subprocess.run(["apt-get", "download", "-q", *DEBIAN], cwd=INPUTS, check=True)
    app = INPUTS / "demo-app"
    app.mkdir(exist_ok=True)
    (app / "package.json").write_text(json.dumps(LOCK_APP, indent=2))
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--ignore-scripts", "--silent"],
        cwd=app,
        check=True,
    )


# -- artifacts: what finalexam reads, and the directory the peers get -------------------------


def artifacts() -> dict[str, tuple[Path, Path]]:
    """name -> (finalexam target, unpacked directory for the peers)."""
    found: dict[str, tuple[Path, Path]] = {}
    for path in sorted(INPUTS.iterdir()):
        if path.suffix == ".whl":
            found[path.name] = (path, unpack_zip(path))
        elif path.suffix == ".tgz":
            found[path.name] = (path, unpack_tar(path))
    debs = sorted(INPUTS.glob("*.deb"))
    if debs:
        target = UNPACKED / "debian-jars"
        if not target.exists():
            for deb in debs:
                subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
        found["debian-jars (guava, commons-lang3)"] = (target, target)
    if (INPUTS / "demo-app").is_dir():
        found["demo-app (package-lock v3)"] = (INPUTS / "demo-app", INPUTS / "demo-app")
    return found


def unpack_zip(path: Path) -> Path:
    target = UNPACKED / path.name
    if not target.exists():
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith("/") or ".." in member.split("/"):
                    continue
                archive.extract(member, target)
    return target


def unpack_tar(path: Path) -> Path:
    target = UNPACKED / path.name
    if not target.exists():
        with tarfile.open(path) as archive:
            archive.extractall(target, filter="data")
    return target


# -- tools --------------------------------------------------------------------------------


def run_finalexam(target: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(
        [sys.executable, "-m", "finalexam", "sbom", str(target), "-o", f"cyclonedx-json={out}"],
        env=env,
        check=True,
    )


def run_syft(directory: Path, out: Path) -> None:
    command = [str(PEERS / "syft"), "scan", f"dir:{directory}", "-o", f"cyclonedx-json={out}", "-q"]
    if any(directory.rglob("package.json")):
        command[3:3] = ["--select-catalogers", "+javascript-package-cataloger"]
    subprocess.run(command, check=True, capture_output=True)


def run_trivy(directory: Path, out: Path) -> None:
    # Offline: trivy cannot fetch its Java index, so jars are skipped (reported as n/a).
    subprocess.run(
        [
            str(PEERS / "trivy"),
            "rootfs",
            "-f",
            "cyclonedx",
            "-q",
            "--offline-scan",
            "--skip-db-update",
            "--skip-files",
            "**/*.jar",
            "-o",
            str(out),
            str(directory),
        ],
        check=True,
        capture_output=True,
    )


# -- scoring ------------------------------------------------------------------------------


Key = tuple[str, str, str]
_ECOSYSTEM_TYPES = {"pypi": "pypi", "npm": "npm", "maven": "maven"}


def normalise(kind: str, name: str, version: str | None) -> Key:
    name = name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return kind, re.sub(r"[-_.]+", "-", name).lower(), (version or "").removeprefix("v")


def _kind(item: dict[str, Any]) -> str:
    purl = item.get("purl") or ""
    if purl.startswith("pkg:"):
        return purl[4:].split("/", 1)[0]
    for prop in item.get("properties", []):
        if prop.get("name") == "finalexam:ecosystem":
            return _ECOSYSTEM_TYPES.get(str(prop.get("value")).lower(), "generic")
    return "generic"


def components(path: Path) -> set[Key]:
    """Distinct (type, name, version): copies of one release are one component."""
    document = json.loads(path.read_text())
    found: set[Key] = set()

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if item.get("type") in ("library", "framework", "application", None):
                found.add(normalise(_kind(item), item["name"], item.get("version")))
            walk(item.get("components", []))

    walk(document.get("components", []))
    return found


def score(found: set[Key], truth: set[Key]) -> tuple[float, float]:
    hits = len(found & truth)
    recall = hits / len(truth) if truth else 1.0
    precision = hits / len(found) if found else 1.0
    return recall, precision


def main() -> int:
    if sys.argv[1:] == ["fetch"]:
        fetch()
        return 0
    labels = json.loads(LABELS.read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    total: dict[str, list[int]] = {}
    for name, (target, directory) in artifacts().items():
        label = labels.get(name)
        if label is None:
            print(f"skipping {name}: no labels", file=sys.stderr)
            continue
        truth = {normalise(k, n, v) for k, n, v, _ in label["components"]}
        packaged = {normalise(k, n, v) for k, n, v, native in label["components"] if not native}
        cells = [name, str(len(truth))]
        for tool, runner, where in (
            ("finalexam", run_finalexam, target),
            ("syft", run_syft, directory),
            ("trivy", run_trivy, directory),
        ):
            out = OUT / f"{tool}-{re.sub(r'[^A-Za-z0-9.]+', '_', name)}.json"
            if tool == "trivy" and label.get("java"):
                cells.append("n/a")
                continue
            start = time.perf_counter()
            try:
                runner(where, out)
            except (subprocess.CalledProcessError, FileNotFoundError) as error:
                cells.append(f"error ({type(error).__name__})")
                continue
            seconds = time.perf_counter() - start
            found = components(out)
            recall, precision = score(found, truth)
            packaged_recall, _ = score(found, packaged)
            hits = len(found & truth)
            sums = total.setdefault(tool, [0, 0, 0])
            sums[0] += hits
            sums[1] += len(truth)
            sums[2] += len(found)
            cells.append(
                f"{recall:.0%} / {precision:.0%}"
                + (f" (pkg {packaged_recall:.0%})" if packaged != truth else "")
                + f" · {seconds:.1f}s"
            )
            missing = sorted(truth - found)
            extra = sorted(found - truth)
            if missing or extra:
                print(f"{tool} {name}: missing {missing[:8]} extra {extra[:8]}", file=sys.stderr)
        rows.append(cells)
    print("| artifact | truth | finalexam R / P | syft R / P | trivy R / P |")
    print("|---|---:|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    overall = []
    for tool in ("finalexam", "syft", "trivy"):
        hits, truth_count, found_count = total.get(tool, [0, 0, 0])
        if truth_count:
            overall.append(
                f"{tool}: recall {hits / truth_count:.1%}, precision "
                f"{hits / max(found_count, 1):.1%} (over the artifacts it ran on)"
            )
    print("\n" + "; ".join(overall))
    shutil.rmtree(OUT / "tmp", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
