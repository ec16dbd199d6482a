"""Changes made through the server: a waiver, then the affected releases re-decided now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from finalexam.store import WaiverInput
from finalexam.store import schema as t
from finalexam.web.state import ServerState


@dataclass(frozen=True)
class Outcome:
    waiver_id: int
    rechecked: bool  # False: no usable DB here; the next `monitor run` re-decides
    message: str


def _affected(state: ServerState, release_id: int | None, product: str | None) -> list[int]:
    r = t.releases.c
    query = select(r.id)
    if release_id is not None:
        query = query.where(r.id == release_id)
    elif product is not None:
        query = query.where(r.product == product)
    with state.store.reading() as connection:
        return [row[0] for row in connection.execute(query)]


def recheck(state: ServerState, release_ids: list[int]) -> tuple[bool, str]:
    from finalexam.monitor.recheck import run_monitor
    from finalexam.vuln.store import DatabaseError, open_database

    try:
        database = open_database(state.db)
    except DatabaseError as error:
        return False, f"verdicts are re-decided by the next `monitor run` ({error})"
    with database:
        result = run_monitor(state.store, database, state.today(), release_ids)
    changed = len(result.verdict_changes)
    return True, f"re-decided {result.rechecked} release(s): {changed} verdict change(s)"


def add_waiver(state: ServerState, waiver: WaiverInput) -> Outcome:
    waiver_id = state.store.add_waiver(waiver)
    done, message = recheck(state, _affected(state, waiver.release_id, waiver.product))
    return Outcome(waiver_id, done, message)


def remove_waiver(state: ServerState, waiver_id: int) -> Outcome:
    with state.store.reading() as connection:
        row = connection.execute(
            select(t.waivers.c.release_id, t.waivers.c.product).where(t.waivers.c.id == waiver_id)
        ).first()
    state.store.remove_waiver(waiver_id)
    release_id, product = (row.release_id, row.product) if row is not None else (None, None)
    done, message = recheck(state, _affected(state, release_id, product))
    return Outcome(waiver_id, done, message)
