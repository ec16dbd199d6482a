from __future__ import annotations

from finalexam.analyze import ANALYZERS
from finalexam.analyze.vulnerabilities import VulnerabilityAnalyzer
from finalexam.catalog import CATALOGERS
from finalexam.catalog.sbom_input import SbomInputCataloger
from finalexam.cli import COMMANDS, db


def test_modules_are_registered() -> None:
    assert VulnerabilityAnalyzer in ANALYZERS
    assert SbomInputCataloger in CATALOGERS
    assert db in COMMANDS
