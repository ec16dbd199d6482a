"""Analyzers, one module per concern, registered here explicitly."""

from __future__ import annotations

from collections.abc import Callable

from finalexam.analyze import secrets
from finalexam.analyze.base import Analyzer
from finalexam.config import Config

ANALYZERS: tuple[Callable[[Config], Analyzer], ...] = (secrets.make,)
