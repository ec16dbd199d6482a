"""The hostile cases, one module per area (an explicit list: adding a module = one line)."""

from __future__ import annotations

import importlib

from hostile.harness import Case

MODULES = ("unpack", "budget", "exam")


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for name in MODULES:
        cases.extend(importlib.import_module(f"hostile.cases.{name}").CASES)
    names = [case.name for case in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"hostile case names must be unique: {sorted(duplicates)}"
    return cases
