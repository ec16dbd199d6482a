"""PyPI: PEP 440 ordering (via ``packaging``) and PEP 503 name normalisation."""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.version import InvalidVersion as PackagingInvalidVersion
from packaging.version import Version

from finalexam.vuln.versions.base import InvalidVersion

_SEPARATORS = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    return _SEPARATORS.sub("-", name).lower()


@lru_cache(maxsize=65536)
def pep440_key(version: str) -> Version:
    try:
        return Version(version)
    except PackagingInvalidVersion:
        raise InvalidVersion(f"not a PEP 440 version: {version!r}") from None


class Pep440Scheme:
    name = "pep440"

    def key(self, version: str) -> Version:
        return pep440_key(version)
