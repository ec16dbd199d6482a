"""One pass over a text to learn which of many regular expressions can match at all.

With Hyperscan (in prefilter mode, which widens constructs it cannot run exactly) every
pattern of every rule is searched in a single scan; only the patterns it reports are then run
with ``re`` for their exact matches and positions. Without Hyperscan, or for a pattern it
rejects, every pattern is simply run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from finalexam.matching import hscache

_hs: ModuleType | None
try:
    import hyperscan as _hs
except ImportError:  # pragma: no cover - the pure-re fallback
    _hs = None


class Prefilter:
    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.count = len(patterns)
        self.always: set[int] = set()
        self._db: Any = None
        self._scratch: Any = None
        if _hs is None or not patterns:
            self.always = set(range(self.count))
            return
        flags = (
            _hs.HS_FLAG_CASELESS
            | _hs.HS_FLAG_MULTILINE
            | _hs.HS_FLAG_SINGLEMATCH
            | _hs.HS_FLAG_PREFILTER
            | _hs.HS_FLAG_ALLOWEMPTY
        )
        expressions = [pattern.pattern.encode("utf-8") for pattern in patterns]
        self._db, self.always = hscache.build("prefilter", expressions, flags)
        self._scratch = _hs.Scratch(self._db) if self._db is not None else None

    def candidates(self, text: str) -> set[int]:
        """Indexes of the patterns that may match ``text`` (a superset of those that do)."""
        if self._db is None:
            return set(self.always)
        hits: set[int] = set(self.always)

        def on_match(pattern_id: int, start: int, end: int, flags: int, context: Any) -> None:
            hits.add(pattern_id)

        self._db.scan(
            text.encode("utf-8", "surrogatepass"),
            match_event_handler=on_match,
            scratch=self._scratch,
        )
        return hits
