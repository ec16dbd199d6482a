"""Alpine (apk): ``1.2.3[letter][_suffix[N]...][-rN]``, ordered as apk-tools does.

Pre-release suffixes (_alpha, _beta, _pre, _rc) sort before the plain version, the others
(_cvs, _svn, _git, _hg, _p) after it. A letter sorts after the version without it but
before a further numeric part (1.2 < 1.2a < 1.2.1).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from finalexam.vuln.versions.base import InvalidVersion

_APK = re.compile(
    r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:~[0-9a-f]+)?(?:-r(\d+))?$"
)
_SUFFIX_RANK = {
    "alpha": -4,
    "beta": -3,
    "pre": -2,
    "rc": -1,
    "cvs": 1,
    "svn": 2,
    "git": 3,
    "hg": 4,
    "p": 5,
}
_SUFFIX = re.compile(r"_([a-z]+)(\d*)")

ApkKey = tuple[tuple[int, ...], str, tuple[tuple[int, int], ...], int]


@functools.lru_cache(maxsize=65536)
def apk_key(version: str) -> ApkKey:
    match = _APK.match(version.strip())
    if match is None:
        raise InvalidVersion(f"not an Alpine version: {version!r}")
    numbers, letter, suffixes, revision = match.groups()
    suffix_key = tuple(
        (_SUFFIX_RANK[name], int(number or 0)) for name, number in _SUFFIX.findall(suffixes)
    )
    # The end of the suffixes sorts between pre-release and post-release suffixes.
    return (
        tuple(int(n) for n in numbers.split(".")),
        letter,
        (*suffix_key, (0, 0)),
        int(revision or 0),
    )


class ApkScheme:
    name = "apk"

    def key(self, version: str) -> Any:
        return apk_key(version)
