"""Regenerate docs/rules.md and docs/configuration.md (run with PYTHONPATH=src)."""

from __future__ import annotations

from pathlib import Path

from finalexam.docgen import write_docs

if __name__ == "__main__":
    for path in write_docs(Path(__file__).resolve().parents[1] / "docs"):
        print(path)
