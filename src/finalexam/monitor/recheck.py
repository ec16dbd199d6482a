"""``monitor run``: re-match every stored component against the current vulnerability DB.

Nothing is unpacked again. A quick pass matches each distinct stored package once (only
names the DB knows are read back from the store) and compares, release by release, what
matches now with the exposures still open. Only releases where that differs, whose
waivers changed or expired, or that declare a dependency named by a MAL- record, are
re-decided in full: their stored report is read, its DB findings replaced by today's, and
the policy they were examined under (plus the portfolio's waivers) gives the new verdict.
Every change is written in one transaction with the run that found it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from finalexam.model import Component, Report, Waiver
from finalexam.policy.engine import evaluate
from finalexam.policy.model import Origin, Policy, WaiverSpec
from finalexam.store import schema as t
from finalexam.store.policy import policy_from_snapshot
from finalexam.store.records import (
    Exposure,
    exposure,
    is_db_finding,
    report_status,
    unpack_report,
    utc_now,
)
from finalexam.store.store import Store, insert_ignoring_conflict, sync_exposures
from finalexam.version import __version__
from finalexam.vuln.dependencies import RULE_PREFIX as MALICIOUS_PREFIX
from finalexam.vuln.dependencies import malicious_dependencies
from finalexam.vuln.match import Matcher, RecordMatch
from finalexam.vuln.purl import PackageRef, package_ref
from finalexam.vuln.store import VulnDatabase
from finalexam.vuln.versions import normalize_name

_CHUNK = 500
CLOSED_REASON = "no longer matched by the vulnerability database"


@dataclass(frozen=True)
class Release:
    id: int
    product: str
    version: str
    source: str
    exam_id: int
    status: str
    violations: int
    policy_digest: str
    dirty: bool

    @property
    def label(self) -> str:
        return f"{self.product} {self.version}"


@dataclass(frozen=True)
class Recheck:
    release: Release
    status: str
    violations: int
    exposures: tuple[Exposure, ...]
    why: str


@dataclass(frozen=True)
class Opened:
    release: Release
    exposure: Exposure


@dataclass(frozen=True)
class VerdictChange:
    release: Release
    before: str
    after: str
    violations: int
    why: str


@dataclass
class RunResult:
    run_id: int
    reference_date: str
    releases: int
    rechecked: int
    opened: list[Opened] = field(default_factory=list)
    closed: list[tuple[Release, dict[str, Any]]] = field(default_factory=list)
    verdict_changes: list[VerdictChange] = field(default_factory=list)


def _releases(connection: Connection) -> dict[int, Release]:
    rows = connection.execute(
        select(
            t.releases.c.id,
            t.releases.c.product,
            t.releases.c.version,
            t.releases.c.source,
            t.releases.c.exam_id,
            t.releases.c.status,
            t.releases.c.violations,
            t.releases.c.policy_digest,
            t.releases.c.dirty,
        ).where(t.releases.c.exam_id.is_not(None))
    )
    return {row.id: Release(*row) for row in rows}


Triple = tuple[str, str, str]  # lookup ecosystem, lookup name, version ("" for none)
Signature = set[tuple[Triple, str]]  # (package version, advisory) pairs


def _open_signatures(connection: Connection) -> dict[int, Signature]:
    """What the open exposures say matched, per release."""
    found: dict[int, Signature] = defaultdict(set)
    x = t.exposures.c
    rows = connection.execute(
        select(x.release_id, x.ecosystem, x.component_name, x.component_version, x.advisory).where(
            x.state == "open"
        )
    )
    for release_id, ecosystem, name, version, advisory in rows:
        triple = (ecosystem, normalize_name(ecosystem, name), version or "")
        found[release_id].add((triple, advisory))
    return found


def _known_keys(
    connection: Connection, database: VulnDatabase, column_table: Any
) -> dict[tuple[str, str], list[str]]:
    """Distinct (ecosystem, name) stored in ``column_table`` that the DB has records for."""
    keys = connection.execute(
        select(column_table.c.lookup_ecosystem, column_table.c.lookup_name)
        .where(column_table.c.lookup_ecosystem.is_not(None))
        .distinct()
    ).all()
    return database.record_ids_many((str(e), str(n)) for e, n in keys)


def _matched_components(
    connection: Connection, keys: Iterable[tuple[str, str]], exams: Mapping[int, int]
) -> list[tuple[int, Component]]:
    """(release id, component) for every current-exam component with one of ``keys``."""
    by_ecosystem: dict[str, list[str]] = defaultdict(list)
    for ecosystem, name in keys:
        by_ecosystem[ecosystem].append(name)
    c = t.components.c
    found: list[tuple[int, Component]] = []
    for ecosystem, names in sorted(by_ecosystem.items()):
        names.sort()
        for start in range(0, len(names), _CHUNK):
            rows = connection.execute(
                select(c.exam_id, c.name, c.version, c.ecosystem, c.purl).where(
                    and_(
                        c.lookup_ecosystem == ecosystem,
                        c.lookup_name.in_(names[start : start + _CHUNK]),
                    )
                )
            )
            for exam_id, name, version, eco, purl in rows:
                release_id = exams.get(exam_id)
                if release_id is not None:
                    found.append((release_id, Component(name, version, eco, purl=purl)))
    return found


def name_digests(
    database: VulnDatabase, ids: Mapping[tuple[str, str], Sequence[str]]
) -> dict[tuple[str, str], str]:
    """A digest of every record naming each package (and of the matcher's version)."""
    digests = database.record_digests(i for found in ids.values() for i in found)
    out = {}
    for key, found in ids.items():
        text = __version__ + "".join(f"\x00{i}:{digests.get(i, '')}" for i in sorted(found))
        out[key] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return out


class MemoMatcher(Matcher):
    """The DB matcher, remembering each package version's matching records: one version
    stands in many releases, and only the findings' locations differ between them."""

    def __init__(self, database: VulnDatabase) -> None:
        super().__init__(database)
        self._memo: dict[tuple[str, str, str | None], list[RecordMatch]] = {}

    def matches(self, ref: PackageRef) -> list[RecordMatch]:
        key = (ref.ecosystem, ref.name, ref.version)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = super().matches(ref)
        return found


@dataclass
class MatchState:
    """Package versions already matched, and the names whose advisories did not change."""

    cache: dict[Triple, list[str]]
    unchanged: set[tuple[str, str]]
    rematched: dict[Triple, list[str]] = field(default_factory=dict)

    def known(self, triple: Triple) -> list[str] | None:
        """What the package version matches, if this check already knows."""
        if triple in self.rematched:
            return self.rematched[triple]
        if (triple[0], triple[1]) in self.unchanged:
            return self.cache.get(triple)
        return None

    def advisories(self, matcher: Matcher, triple: Triple, component: Component) -> list[str]:
        key = (triple[0], triple[1])
        if key in self.unchanged and triple in self.cache:
            return self.cache[triple]
        if triple not in self.rematched:
            self.rematched[triple] = [f.rule_id for f in matcher.match_component(component)]
        return self.rematched[triple]


def _load_state(connection: Connection, digests: Mapping[tuple[str, str], str]) -> MatchState:
    p, m = t.package_state.c, t.match_cache.c
    before = {
        (e, n): d
        for e, n, d in connection.execute(select(p.lookup_ecosystem, p.lookup_name, p.digest))
    }
    unchanged = {key for key, digest in digests.items() if before.get(key) == digest}
    cache = {
        (e, n, v): json.loads(a)
        for e, n, v, a in connection.execute(
            select(m.lookup_ecosystem, m.lookup_name, m.version, m.advisories)
        )
        if (e, n) in unchanged
    }
    return MatchState(cache, unchanged)


def _signatures(
    matcher: Matcher, matched: Sequence[tuple[int, Component]], state: MatchState
) -> dict[int, Signature]:
    """What matches now, per release; only packages whose advisories changed are matched."""
    refs: dict[Component, Triple | None] = {}
    for _, component in matched:
        if component not in refs:
            ref = package_ref(component)
            refs[component] = (ref.ecosystem, ref.name, ref.version or "") if ref else None
    matcher.prefetch(
        c
        for c, triple in refs.items()
        if triple is not None and (triple[0], triple[1]) not in state.unchanged
    )
    found: dict[int, Signature] = defaultdict(set)
    for release_id, component in matched:
        triple = refs[component]
        if triple is not None:
            found[release_id].update(
                (triple, advisory) for advisory in state.advisories(matcher, triple, component)
            )
    return found


def _save_state(
    connection: Connection, digests: Mapping[tuple[str, str], str], state: MatchState
) -> None:
    """Remember what this full check saw (names no longer stored or known are dropped)."""
    connection.execute(delete(t.package_state))
    rows = [{"lookup_ecosystem": e, "lookup_name": n, "digest": d} for (e, n), d in digests.items()]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(t.package_state), rows[start : start + 5000])
    connection.execute(delete(t.match_cache))
    kept = {**state.cache, **state.rematched}
    rows = [
        {"lookup_ecosystem": e, "lookup_name": n, "version": v, "advisories": json.dumps(a)}
        for (e, n, v), a in kept.items()
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(t.match_cache), rows[start : start + 5000])


def _portfolio_waivers(connection: Connection) -> list[dict[str, Any]]:
    rows = connection.execute(select(t.waivers).where(t.waivers.c.removed_at.is_(None)))
    return [dict(row) for row in rows.mappings()]


def waiver_applies(row: Mapping[str, Any], release: Release) -> bool:
    if row["release_id"] is not None:
        return bool(row["release_id"] == release.id)
    return row["product"] is None or row["product"] == release.product


def waiver_spec(row: Mapping[str, Any]) -> WaiverSpec:
    expires = row["expires"]
    return WaiverSpec(
        waiver=Waiver(
            reason=row["reason"],
            fingerprint=row["fingerprint"],
            rule_id=row["rule_id"],
            purl=row["purl"],
            path=row["path"],
            expires=expires,
            approved_by=row["approved_by"],
        ),
        origin=Origin(f"portfolio waiver {row['id']}"),
        expires=date.fromisoformat(expires) if expires else None,
    )


def _expiring(
    releases: Mapping[int, Release],
    snapshots: Mapping[str, str],
    waivers: Sequence[Mapping[str, Any]],
    last: date | None,
    today: date,
) -> set[int]:
    """Releases with a waiver that expired (or came back into force) since the last run."""
    if last is None or last == today:
        return set()
    low, high = min(last, today), max(last, today)

    def crossed(expires: date | None) -> bool:
        return expires is not None and low <= expires < high

    digests = {
        digest
        for digest, text in snapshots.items()
        if any(crossed(spec.expires) for spec in policy_from_snapshot(text).waivers)
    }
    found = {r.id for r in releases.values() if r.policy_digest in digests}
    for row in waivers:
        spec = waiver_spec(row)
        if crossed(spec.expires):
            found |= {r.id for r in releases.values() if waiver_applies(row, r)}
    return found


def recheck_release(
    release: Release,
    report: Report,
    matcher: Matcher,
    known: Container[tuple[str, str]],
    state: MatchState,
    database: VulnDatabase,
    policy: Policy,
    today: date,
) -> tuple[Recheck, Any]:
    """Today's verdict of a stored exam: its own findings plus today's DB matches.

    Packages the DB has no record for (not in ``known``), and versions this check already
    found unaffected, cannot match and are not looked up again.
    """
    kept = [
        f
        for f in (*report.findings, *(s.finding for s in report.suppressed))
        if not is_db_finding(f) and f.found_by != "policy"  # license findings are re-derived
    ]
    components = list(report.components)
    found = []
    for component in components:
        ref = package_ref(component)
        if ref is None or (ref.ecosystem, ref.name) not in known:
            continue
        if state.known((ref.ecosystem, ref.name, ref.version or "")) != []:
            found += matcher.match_component(component)
    found += malicious_dependencies(database, components)
    decision = evaluate([*kept, *found], components, policy, today)
    status = report_status(replace(report, verdict=decision.verdict))
    current = [exposure(f, False) for f in decision.findings if is_db_finding(f)]
    current += [exposure(s.finding, True) for s in decision.suppressed if is_db_finding(s.finding)]
    return (
        Recheck(release, status, len(decision.verdict.violations), tuple(current), ""),
        decision,
    )


def _alert_key(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def run_monitor(
    store: Store,
    database: VulnDatabase,
    today: date,
    release_ids: Iterable[int] | None = None,
) -> RunResult:
    """Re-check the portfolio (or only ``release_ids``) and record what changed."""
    started = utc_now()
    with store.reading() as connection:
        releases = _releases(connection)
        if release_ids is not None:
            wanted = set(release_ids)
            releases = {k: v for k, v in releases.items() if k in wanted}
        exams = {r.exam_id: r.id for r in releases.values()}
        open_now = _open_signatures(connection)
        component_keys = _known_keys(connection, database, t.components)
        dependency_keys = _known_keys(connection, database, t.dependency_names)
        matched = _matched_components(connection, component_keys, exams)
        digests = name_digests(database, component_keys)
        # a check of some releases only re-matches everything it reads and remembers nothing
        state = _load_state(connection, digests if release_ids is None else {})
        waivers = _portfolio_waivers(connection)
        snapshots = dict(
            connection.execute(select(t.policies.c.digest, t.policies.c.snapshot)).all()
        )
        last = connection.execute(
            select(t.runs.c.reference_date).order_by(t.runs.c.id.desc()).limit(1)
        ).scalar_one_or_none()
        malicious_names = [
            key
            for key, ids in dependency_keys.items()
            if any(i.startswith(MALICIOUS_PREFIX) for i in ids)
        ]
        declaring: set[int] = set()
        if malicious_names:
            d = t.dependency_names.c
            for ecosystem, name in malicious_names:
                rows = connection.execute(
                    select(d.exam_id).where(
                        and_(d.lookup_ecosystem == ecosystem, d.lookup_name == name)
                    )
                )
                declaring |= {exams[e] for (e,) in rows if e in exams}
    matcher = MemoMatcher(database)
    now_matched = _signatures(matcher, matched, state)
    why: dict[int, str] = {}
    for release_id in releases:
        if now_matched.get(release_id, set()) != open_now.get(release_id, set()):
            why[release_id] = "vulnerability database changed"
    for release_id in declaring:
        why.setdefault(release_id, "declares a dependency named by a MAL- record")
    for release_id in _expiring(
        releases, snapshots, waivers, date.fromisoformat(last) if last else None, today
    ):
        why.setdefault(release_id, "a waiver expired or came into force")
    for release in releases.values():
        if release.dirty:
            why.setdefault(release.id, "waivers changed")

    rechecks: list[Recheck] = []
    with store.reading() as connection:
        for release_id in sorted(why):
            release = releases[release_id]
            data = connection.execute(
                select(t.exams.c.report).where(t.exams.c.id == release.exam_id)
            ).scalar_one()
            policy = policy_from_snapshot(snapshots[release.policy_digest])
            extra = tuple(waiver_spec(w) for w in waivers if waiver_applies(w, release))
            if extra:
                policy = replace(policy, waivers=(*policy.waivers, *extra))
            recheck, _ = recheck_release(
                release,
                unpack_report(data),
                matcher,
                component_keys,
                state,
                database,
                policy,
                today,
            )
            rechecks.append(replace(recheck, why=why[release_id]))
    remember = (digests, state) if release_ids is None else None
    return _record(store, database, releases, rechecks, started, today, remember)


def _record(
    store: Store,
    database: VulnDatabase,
    releases: Mapping[int, Release],
    rechecks: Sequence[Recheck],
    started: str,
    today: date,
    remember: tuple[Mapping[tuple[str, str], str], MatchState] | None,
) -> RunResult:
    status = database.status()
    now = utc_now()
    with store.writing() as connection:
        run_id = connection.execute(
            insert(t.runs)
            .values(
                started_at=started,
                reference_date=today.isoformat(),
                db_updated=status.updated,
                db_records=status.records,
                releases=len(releases),
                rechecked=len(rechecks),
                opened=0,
                closed=0,
                verdict_changes=0,
            )
            .returning(t.runs.c.id)
        ).scalar_one()
        result = RunResult(run_id, today.isoformat(), len(releases), len(rechecks))
        for recheck in rechecks:
            release = recheck.release
            current_exam = connection.execute(
                select(t.releases.c.exam_id).where(t.releases.c.id == release.id)
            ).scalar_one()
            if current_exam != release.exam_id:
                continue  # re-examined meanwhile: the next run checks the new exam
            opened, closed = sync_exposures(
                connection, release.id, recheck.exposures, run_id, CLOSED_REASON
            )
            result.opened += [Opened(release, item) for item in opened]
            result.closed += [(release, row) for row in closed]
            values: dict[str, Any] = {"dirty": False, "checked_at": now}
            if (recheck.status, recheck.violations) != (release.status, release.violations):
                values |= {"status": recheck.status, "violations": recheck.violations}
                reason = _reason(opened, closed, recheck.why)
                connection.execute(
                    insert(t.verdicts).values(
                        release_id=release.id,
                        run_id=run_id,
                        at=now,
                        status=recheck.status,
                        violations=recheck.violations,
                        reason=reason,
                    )
                )
                if recheck.status != release.status:
                    result.verdict_changes.append(
                        VerdictChange(
                            release, release.status, recheck.status, recheck.violations, reason
                        )
                    )
            connection.execute(
                update(t.releases).where(t.releases.c.id == release.id).values(**values)
            )
        _queue_alerts(connection, run_id, result, now)
        if remember is not None:
            _save_state(connection, *remember)
        x = t.exposures.c
        counts = connection.execute(
            select(x.severity, func.count())
            .where(and_(x.state == "open", x.waived.is_(False)))
            .group_by(x.severity)
        ).all()
        connection.execute(
            update(t.runs)
            .where(t.runs.c.id == run_id)
            .values(
                open_counts=json.dumps({str(s): int(n) for s, n in counts}),
                finished_at=utc_now(),
                opened=len(result.opened),
                closed=len(result.closed),
                verdict_changes=len(result.verdict_changes),
            )
        )
    return result


def _reason(opened: Sequence[Exposure], closed: Sequence[Mapping[str, Any]], why: str) -> str:
    parts = []
    if opened:
        parts.append("new: " + ", ".join(sorted({e.advisory for e in opened})))
    if closed:
        parts.append("closed: " + ", ".join(sorted({str(r["advisory"]) for r in closed})))
    return "; ".join(parts) or why


def _release_payload(release: Release) -> dict[str, Any]:
    return {
        "id": release.id,
        "product": release.product,
        "version": release.version,
        "source": release.source,
    }


def exposure_payload(release: Release, item: Exposure) -> dict[str, Any]:
    return {
        "release": _release_payload(release),
        "advisory": item.advisory,
        "aliases": [i for i in item.ids if i != item.advisory],
        "component": item.component,
        "package": item.component_name,
        "version": item.component_version,
        "ecosystem": item.ecosystem,
        "finding_kind": item.kind,
        "severity": item.severity,
        "title": item.title,
        "fixed": list(item.fixed),
        "waived": item.waived,
    }


def _queue_alerts(connection: Connection, run_id: int, result: RunResult, now: str) -> None:
    rows = []
    for opened in result.opened:
        release, item = opened.release, opened.exposure
        payload = {"kind": "new-exposure", "run": run_id} | exposure_payload(release, item)
        rows.append(
            {
                "key": _alert_key("exposure", release.id, item.component, item.advisory),
                "kind": "new-exposure",
                "release_id": release.id,
                "severity": item.severity,
                "payload": payload,
            }
        )
    for change in result.verdict_changes:
        release = change.release
        payload = {
            "kind": "verdict-change",
            "run": run_id,
            "release": _release_payload(release),
            "before": change.before,
            "after": change.after,
            "violations": change.violations,
            "reason": change.why,
        }
        rows.append(
            {
                "key": _alert_key("verdict", release.id, run_id, change.after),
                "kind": "verdict-change",
                "release_id": release.id,
                "severity": None,
                "payload": payload,
            }
        )
    insert_ignoring_conflict(
        connection,
        t.alerts,
        [
            row
            | {
                "run_id": run_id,
                "created_at": now,
                "payload": json.dumps(row["payload"], ensure_ascii=False),
            }
            for row in rows
        ],
    )
