"""The portfolio store: exams kept so they can be re-checked without their artifacts.

SQLite in the user data directory by default, PostgreSQL through the same code; the schema
is migrated by the Alembic migrations shipped in ``migrations/``.
"""

from __future__ import annotations

from finalexam.store.engine import StoreError, default_store_url, resolve_store_url
from finalexam.store.records import BUILT, FAILED, INCOMPLETE, PASSED, RECEIVED
from finalexam.store.store import Attestation, Store, StoredExam, WaiverInput

__all__ = [
    "BUILT",
    "FAILED",
    "INCOMPLETE",
    "PASSED",
    "RECEIVED",
    "Attestation",
    "Store",
    "StoreError",
    "StoredExam",
    "WaiverInput",
    "default_store_url",
    "resolve_store_url",
]
