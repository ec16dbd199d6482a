"""What every route of the application reads: the store, the security settings, the
vulnerability database and the clock (``app.state.server``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from finalexam.store import Store
from finalexam.web.security import Security


@dataclass
class ServerState:
    store: Store
    security: Security
    db: str | None  # vulnerability DB for re-deciding a release after a waiver change
    today: Callable[[], date]
