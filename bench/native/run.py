"""Binary and bundle catalogers on real artifacts, side by side with syft and trivy.

    PYTHONPATH=src python bench/native/run.py            # fetch (once), unpack, run, table

Inputs are downloaded into bench/.work/native/ (git-ignored): wheels from PyPI with
`pip download`, Debian packages with `apt-get download`. Every tool examines the same
unpacked tree (syft and trivy do not open .whl/.deb files themselves). finalexam runs only
its binary/bundle catalogers here (golang, rust, native, jsbundle, dotnet-pe): the package
metadata catalogers are measured elsewhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from finalexam.catalog import dotnet_pe, golang, jsbundle, native, rust
from finalexam.catalog.fingerprint import Scanner, hyperscan, load_rules
from finalexam.config import Config
from finalexam.exam import run_exam

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / ".work" / "native"
PEERS = Path("/opt/peers/bin")
CATALOGERS = [golang.make, rust.make, native.make, jsbundle.make, dotnet_pe.make]


@dataclass(frozen=True)
class Label:
    name: str
    version: str
    aliases: tuple[str, ...]


def norm(name: str) -> str:
    text = re.sub(r"[^a-z0-9]", "", name.lower())
    return text[3:] if text.startswith("lib") and len(text) > 4 else text


def fetch(source: str) -> Path:
    downloads = WORK / "dl"
    downloads.mkdir(parents=True, exist_ok=True)
    kind, _, spec = source.partition(":")
    if kind == "pypi":
        name = spec.split("==")[0].replace("-", "_").lower()
        found = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(name)]
        if not found:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                 "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
                 "-d", str(downloads), spec],
                check=True, capture_output=True,
            )  # fmt: skip
            found = [p for p in downloads.glob("*.whl") if p.name.lower().startswith(name)]
        return found[0]
    found = list(downloads.glob(f"{spec}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", spec], cwd=downloads, check=True)
        found = list(downloads.glob(f"{spec}_*.deb"))
    return found[0]


def unpack(archive: Path, name: str) -> Path:
    target = WORK / "unpacked" / name
    if not target.exists():
        target.mkdir(parents=True)
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                wheel.extractall(target)
        else:
            subprocess.run(["dpkg-deb", "-x", str(archive), str(target)], check=True)
    return target


def deb_labels(archive: Path, name: str) -> list[Label]:
    """Go modules and Rust crates the Debian package says it was built from."""

    def field(key: str) -> str:
        result = subprocess.run(
            ["dpkg-deb", "-f", str(archive), key], capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    version = re.sub(r"^\d+:|-[^-]*$", "", field("Version"))
    labels = [Label(name, version, (field("Source") or name,))]
    built = field("X-Cargo-Built-Using") or field("Built-Using")
    for package, raw in re.findall(r"([\w.+-]+) \(= ([^)]+)\)", built):
        clean = re.sub(r"^\d+:|-[^-]*$", "", raw).split("~")[0].split("+")[0]
        if package == "rustc":
            continue
        if package.startswith("golang-1."):
            labels.append(Label("stdlib", clean, ()))
        elif package.startswith("rust-"):
            crate = re.sub(r"-\d+(?:\.\d+)?$", "", package[5:])  # rust-clap-2 is clap 2.x
            labels.append(Label(crate, clean, ()))
        else:  # golang-golang-x-sys, golang-go.crypto, golang-filippo-edwards25519
            last = re.split(r"[-.]", package)[-1]
            labels.append(Label(package, clean, (last,)))
    return labels


def peer_components(tool: str, directory: Path) -> tuple[list[tuple[str, str]], float]:
    if tool == "syft":
        command = [str(PEERS / "syft"), "scan", f"dir:{directory}", "-o", "cyclonedx-json", "-q"]
    else:
        command = [str(PEERS / "trivy"), "rootfs", "-f", "cyclonedx", "-q", str(directory)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    try:
        document = json.loads(result.stdout)
    except ValueError:
        return [], seconds
    found = [(c.get("name", ""), c.get("version") or "") for c in document.get("components", [])]
    return found, seconds


def same_version(found: str, expected: str) -> bool:
    def clean(v: str) -> str:
        return v.lower().removeprefix("go").removeprefix("v")

    return bool(expected) and clean(found) == clean(expected)


def score(labels: list[Label], found: list[tuple[str, str]]) -> tuple[int, int, int]:
    """(labels named, labels named with the right version, reports matching no label)."""
    keys = [
        ({norm(n) for n in (name, name.rsplit("/", 1)[-1])}, version) for name, version in found
    ]
    named = versioned = 0
    matched: set[int] = set()
    for label in labels:
        wanted = {norm(label.name), *(norm(a) for a in label.aliases)}
        hits = [i for i, (names, _) in enumerate(keys) if names & wanted]
        matched.update(hits)
        if hits:
            named += 1
            if any(same_version(keys[i][1], label.version) for i in hits):
                versioned += 1
    return named, versioned, len(found) - len(matched)


def main() -> int:
    config = tomllib.loads((HERE / "labels.toml").read_text())
    rows = []
    totals = {tool: [0, 0] for tool in ("finalexam", "syft", "trivy")}
    labelled_total = versioned_total = 0
    for artifact in config["artifact"]:
        name, source = artifact["name"], artifact["source"]
        archive = fetch(source)
        directory = unpack(archive, name)
        if "libraries" in artifact:
            labels = [
                Label(e["name"], e["version"], tuple(e.get("aliases", ())))
                for e in artifact["libraries"]
            ]
        else:
            labels = deb_labels(archive, name)
        start = time.perf_counter()
        report = run_exam(directory, Config(), catalogers=CATALOGERS)
        ours_seconds = time.perf_counter() - start
        ours = [(c.name, c.version or "") for c in report.components]
        results = {"finalexam": (ours, ours_seconds)}
        for tool in ("syft", "trivy"):
            results[tool] = peer_components(tool, directory)
        versioned_labels = sum(1 for label in labels if label.version)
        labelled_total += len(labels)
        versioned_total += versioned_labels
        cells = []
        for tool, (found, seconds) in results.items():
            named, versioned, other = score(labels, found)
            totals[tool][0] += named
            totals[tool][1] += versioned
            cells.append(f"{named} / {versioned} / {other} ({seconds:.1f} s)")
        rows.append(
            f"| {name} ({source}) | {len(labels)} / {versioned_labels} | "
            + " | ".join(cells)
            + " |"
        )
        print(rows[-1], flush=True)
        missed = [label.name for label in labels if not score([label], ours)[0]]
        print(f"    finalexam missed: {', '.join(missed) or '-'}", flush=True)
    summary = " | ".join(
        f"{totals[t][0]}/{labelled_total} = {totals[t][0] / labelled_total:.0%} named, "
        f"{totals[t][1]}/{versioned_total} = {totals[t][1] / versioned_total:.0%} versioned"
        for t in ("finalexam", "syft", "trivy")
    )
    print(f"| total | {labelled_total} / {versioned_total} | {summary} |")
    engines()
    return 0


def engines() -> None:
    """The native rule set over every ELF file of the unpacked inputs, with each engine."""
    blobs = []
    for path in sorted((WORK / "unpacked").rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    blobs.append(path.read_bytes())
    size = sum(len(b) for b in blobs) / 1e6
    results = {}
    for engine in (["hyperscan"] if hyperscan is not None else []) + ["re"]:
        scanner = Scanner(load_rules("native"), use_hyperscan=engine == "hyperscan")
        start = time.perf_counter()
        found = sorted({(h.rule.id, h.version) for blob in blobs for h in scanner.scan(blob)})
        seconds = time.perf_counter() - start
        results[engine] = found
        print(f"engine {engine}: {len(blobs)} ELF files, {size:.0f} MB in {seconds:.1f} s "
              f"= {size / seconds:.0f} MB/s, {len(found)} (library, version) pairs")  # fmt: skip
    if len(results) == 2:
        print(f"engines agree: {results['hyperscan'] == results['re']}")


if __name__ == "__main__":
    sys.exit(main())
