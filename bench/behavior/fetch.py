"""Download the benign benchmark sets into bench/.work/ (nothing is built, installed or run).

PyPI: the most downloaded N packages by the registry-popularity list; for each, the newest wheel
(``pip download --no-deps --only-binary=:all:``) and the sdist (URL from PyPI's JSON API,
fetched as a file, never built). npm: the most downloaded N packages, ``npm pack --ignore-scripts``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work"
# Package popularity lists of the workplace tool library, beside the checkout; override with
# FINALEXAM_PACKAGE_LISTS.
LISTS = Path(
    os.environ.get("FINALEXAM_PACKAGE_LISTS", ROOT.parent / ".library" / "env" / "packages")
)


def top_pypi(count: int) -> list[str]:
    ranked: list[tuple[int, str]] = []
    with (LISTS / "pypi.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 3 and cols[3].strip().isdigit():
                ranked.append((int(cols[3]), cols[0]))
    return [name for _, name in sorted(ranked)[:count]]


def top_npm(count: int) -> list[str]:
    ranked: list[tuple[int, str]] = []
    with (LISTS / "npm.tsv").open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 2 and cols[2].strip().isdigit():
                ranked.append((-int(cols[2]), cols[0]))
    return [name for _, name in sorted(ranked)[:count]]


def fetch_pypi(name: str, dest: Path) -> None:
    target = dest / name
    wheel, sdist = target / "wheel", target / "sdist"
    if not (wheel.is_dir() and any(wheel.iterdir())):
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps",
             "--only-binary=:all:", "-d", str(wheel), name],
            check=False, capture_output=True, timeout=300,
        )  # fmt: skip
    if sdist.is_dir() and any(sdist.iterdir()):
        return
    api = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(api, timeout=60) as resp:
            meta = json.load(resp)
        for item in meta.get("urls", []):
            if item.get("packagetype") == "sdist":
                sdist.mkdir(parents=True, exist_ok=True)
                # Mirrors answer with URLs relative to the API document.
                url = urllib.parse.urljoin(api, item["url"])
                with urllib.request.urlopen(url, timeout=120) as resp:
                    (sdist / item["filename"]).write_bytes(resp.read())
                break
    except Exception as error:  # a missing sdist is fine: the wheel still counts
        print(f"{name}: sdist: {error}", file=sys.stderr)


def fetch_npm(name: str, dest: Path) -> None:
    target = dest / name.replace("/", "__")
    if target.exists() and any(target.iterdir()):
        return
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "pack", "--ignore-scripts", "--silent", "--pack-destination", str(target), name],
        check=False,
        capture_output=True,
        timeout=300,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--only", choices=["pypi", "npm"])
    args = parser.parse_args()
    if args.only in (None, "pypi"):
        for name in top_pypi(args.count):
            fetch_pypi(name, WORK / "pypi")
    if args.only in (None, "npm"):
        for name in top_npm(args.count):
            fetch_npm(name, WORK / "npm")


if __name__ == "__main__":
    main()
