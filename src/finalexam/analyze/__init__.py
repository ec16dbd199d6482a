"""Analyzers, one module per concern, registered here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from finalexam.analyze import behavior, indicators, secrets, typosquat, vulnerabilities
from finalexam.analyze.base import Analyzer
from finalexam.analyze.binary import BinaryAnalyzer
from finalexam.analyze.yara import YaraAnalyzer
from finalexam.config import Config

ANALYZERS: tuple[Callable[[Config], Analyzer], ...] = (
    BinaryAnalyzer,
    YaraAnalyzer,
    secrets.make,
    behavior.make,
    indicators.make,
    typosquat.make,
    vulnerabilities.VulnerabilityAnalyzer,
)
