"""Analyzers, one module per concern, registered here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from finalexam.analyze import vulnerabilities
from finalexam.analyze.base import Analyzer
from finalexam.analyze.behavior.analyzer import BehaviorAnalyzer
from finalexam.analyze.binary.analyzer import BinaryAnalyzer
from finalexam.analyze.indicators.analyzer import IndicatorAnalyzer
from finalexam.analyze.names.analyzer import TyposquatAnalyzer
from finalexam.analyze.secrets.analyzer import SecretsAnalyzer
from finalexam.analyze.yara import YaraAnalyzer
from finalexam.config import Config

ANALYZERS: tuple[Callable[[Config], Analyzer], ...] = (
    BinaryAnalyzer,
    YaraAnalyzer,
    SecretsAnalyzer,
    BehaviorAnalyzer,
    IndicatorAnalyzer,
    TyposquatAnalyzer,
    vulnerabilities.VulnerabilityAnalyzer,
)
