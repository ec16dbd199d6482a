"""Regenerate the popular-name lists used by the typosquatting check.

Input: the registry popularity lists (``pypi.tsv``: rank among the 15,000 most downloaded;
``npm.tsv``: downloads a month). Output: ``src/finalexam/data/popular-<ecosystem>.txt``, one
normalized name per line, most popular first.

    python scripts/popular_names.py /path/to/packages/  [--count 15000]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "finalexam" / "data"


def normalize_pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pypi(source: Path, count: int) -> list[str]:
    ranked: list[tuple[int, str]] = []
    with source.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 3 and cols[3].strip().isdigit():
                ranked.append((int(cols[3]), normalize_pypi(cols[0])))
    return list(dict.fromkeys(name for _, name in sorted(ranked)))[:count]


def npm(source: Path, count: int) -> list[str]:
    ranked: list[tuple[int, str]] = []
    with source.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > 2 and cols[2].strip().isdigit():
                ranked.append((-int(cols[2]), cols[0].lower()))
    return list(dict.fromkeys(name for _, name in sorted(ranked)))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("packages", type=Path)
    parser.add_argument("--count", type=int, default=15000)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for ecosystem, names in (
        ("pypi", pypi(args.packages / "pypi.tsv", args.count)),
        ("npm", npm(args.packages / "npm.tsv", args.count)),
    ):
        target = OUT / f"popular-{ecosystem}.txt"
        target.write_text("\n".join(names) + "\n", encoding="utf-8")
        print(f"{target}: {len(names)} names")


if __name__ == "__main__":
    main()
