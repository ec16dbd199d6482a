"""Schema checks shared by tests: every produced report validates."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema


@cache
def report_validator() -> jsonschema.Draft202012Validator:
    text = resources.files("finalexam.report").joinpath("schema/report.schema.json").read_text()
    return jsonschema.Draft202012Validator(json.loads(text))


def assert_valid_report(document: dict[str, Any]) -> None:
    errors = sorted(report_validator().iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
