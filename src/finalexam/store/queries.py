"""Questions asked of the portfolio, answered as plain JSON-ready data (CLI and API alike)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, desc, func, or_, select

from finalexam.errors import UsageError
from finalexam.model import Report, Severity
from finalexam.store import schema as t
from finalexam.store.policy import policy_from_snapshot
from finalexam.store.records import unpack_document, unpack_report
from finalexam.vuln.purl import purl_ref
from finalexam.vuln.versions import InvalidVersion, ecosystem_rule

SEVERITIES = tuple(s.value for s in reversed(Severity))  # worst first; unknown after high
_OPERATORS = re.compile(r"^(>=|<=|!=|==|=|>|<)?\s*(.+)$")


def _release_columns() -> list[Any]:
    r, e = t.releases.c, t.exams.c
    return [
        r.id,
        r.product,
        r.version,
        r.source,
        r.status,
        r.violations,
        r.checked_at,
        r.created_at,
        r.exam_id,
        e.artifact_name,
        e.artifact_sha256,
        e.artifact_size,
        e.artifact_kind,
        e.stored_at,
        e.tool_version,
    ]


def _release_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "product": row.product,
        "version": row.version,
        "source": row.source,
        "status": row.status,
        "violations": row.violations,
        "checked_at": row.checked_at,
        "created_at": row.created_at,
        "artifact": {
            "name": row.artifact_name,
            "sha256": row.artifact_sha256,
            "size": row.artifact_size,
            "kind": row.artifact_kind,
            "stored_at": row.stored_at,
            "tool_version": row.tool_version,
        },
    }


def _open_counts(connection: Connection) -> dict[int, dict[str, int]]:
    x = t.exposures.c
    rows = connection.execute(
        select(x.release_id, x.severity, func.count())
        .where(and_(x.state == "open", x.waived.is_(False)))
        .group_by(x.release_id, x.severity)
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for release_id, severity, count in rows:
        counts[release_id][severity] = int(count)
    return counts


def list_releases(
    connection: Connection, product: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    r = t.releases.c
    query = select(*_release_columns()).join(t.exams, t.exams.c.id == r.exam_id)
    if product:
        query = query.where(r.product == product)
    if status:
        query = query.where(r.status == status)
    counts = _open_counts(connection)
    out = []
    for row in connection.execute(query.order_by(r.product, r.version, r.id)):
        item = _release_dict(row)
        item["exposures"] = {s: counts.get(row.id, {}).get(s, 0) for s in SEVERITIES}
        out.append(item)
    return out


def get_release(connection: Connection, release_id: int) -> dict[str, Any]:
    r = t.releases.c
    row = connection.execute(
        select(*_release_columns())
        .join(t.exams, t.exams.c.id == r.exam_id)
        .where(r.id == release_id)
    ).first()
    if row is None:
        raise LookupError(f"no release with id {release_id}")
    item = _release_dict(row)
    counts = _open_counts(connection).get(release_id, {})
    item["exposures"] = {s: counts.get(s, 0) for s in SEVERITIES}
    return item


def find_release(connection: Connection, product: str, version: str) -> int:
    r = t.releases.c
    found = connection.execute(
        select(r.id).where(and_(r.product == product, r.version == version))
    ).scalar_one_or_none()
    if found is None:
        raise UsageError(f"no release {product} {version} in the portfolio")
    return int(found)


def _exam_blob(connection: Connection, release_id: int) -> bytes:
    data = connection.execute(
        select(t.exams.c.report)
        .join(t.releases, t.releases.c.exam_id == t.exams.c.id)
        .where(t.releases.c.id == release_id)
    ).scalar_one_or_none()
    if data is None:
        raise LookupError(f"no release with id {release_id}")
    return bytes(data)


def release_document(connection: Connection, release_id: int) -> dict[str, Any]:
    """The stored JSON report of the release's current exam."""
    return unpack_document(_exam_blob(connection, release_id))


def release_report(connection: Connection, release_id: int) -> Report:
    return unpack_report(_exam_blob(connection, release_id))


def _exposure_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "release_id": row.release_id,
        "advisory": row.advisory,
        "aliases": [i for i in row.ids.split() if i != row.advisory],
        "component": row.component,
        "package": row.component_name,
        "version": row.component_version,
        "ecosystem": row.ecosystem,
        "kind": row.kind,
        "severity": row.severity,
        "title": row.title,
        "fixed": json.loads(row.fixed),
        "fingerprint": row.fingerprint,
        "waived": bool(row.waived),
        "state": row.state,
        "opened_run": row.opened_run,
        "closed_run": row.closed_run,
        "closed_reason": row.closed_reason,
    }


def _with_release(connection: Connection, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({item["release_id"] for item in items})
    r = t.releases.c
    names = {
        row.id: {
            "id": row.id,
            "product": row.product,
            "version": row.version,
            "source": row.source,
            "status": row.status,
        }
        for row in connection.execute(
            select(r.id, r.product, r.version, r.source, r.status).where(r.id.in_(ids))
        )
    }
    for item in items:
        item["release"] = names.get(item["release_id"])
    return items


def _severity_order(item: Mapping[str, Any]) -> tuple[int, str, str]:
    rank = SEVERITIES.index(item["severity"]) if item["severity"] in SEVERITIES else 9
    return (rank, item["advisory"], item["component"])


def release_exposures(
    connection: Connection, release_id: int, include_closed: bool = False
) -> list[dict[str, Any]]:
    x = t.exposures.c
    query = select(t.exposures).where(x.release_id == release_id)
    if not include_closed:
        query = query.where(x.state == "open")
    items = [_exposure_dict(row) for row in connection.execute(query)]
    return sorted(items, key=lambda i: (i["state"] != "open", *_severity_order(i)))


def exposed(
    connection: Connection, advisory: str, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Releases exposed to an advisory, named by its id or any alias (CVE, GHSA, ...)."""
    x = t.exposures.c
    name = advisory.strip()
    if not name or " " in name:
        raise UsageError(f"not an advisory id: {advisory!r}")
    query = select(t.exposures).where(or_(x.advisory == name, x.ids.contains(f" {name} ")))
    if not include_closed:
        query = query.where(x.state == "open")
    items = [_exposure_dict(row) for row in connection.execute(query)]
    return _with_release(
        connection, sorted(items, key=lambda i: (i["state"] != "open", i["release_id"]))
    )


def release_history(connection: Connection, release_id: int) -> list[dict[str, Any]]:
    v = t.verdicts.c
    rows = connection.execute(
        select(t.verdicts).where(v.release_id == release_id).order_by(v.at, v.id)
    )
    return [
        {
            "at": row.at,
            "run": row.run_id,
            "status": row.status,
            "violations": row.violations,
            "reason": row.reason,
        }
        for row in rows
    ]


def _waiver_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "release_id": row.release_id,
        "product": row.product,
        "rule_id": row.rule_id,
        "purl": row.purl,
        "fingerprint": row.fingerprint,
        "path": row.path,
        "reason": row.reason,
        "expires": row.expires,
        "approved_by": row.approved_by,
        "created_at": row.created_at,
        "origin": f"portfolio waiver {row.id}",
    }


def list_waivers(connection: Connection, release_id: int | None = None) -> list[dict[str, Any]]:
    """Active portfolio waivers (those that apply to ``release_id`` when given), and the
    waivers the release's own policy carried."""
    w = t.waivers.c
    query = select(t.waivers).where(w.removed_at.is_(None))
    out: list[dict[str, Any]] = []
    if release_id is not None:
        release = connection.execute(
            select(t.releases.c.product, t.releases.c.policy_digest).where(
                t.releases.c.id == release_id
            )
        ).first()
        if release is None:
            raise LookupError(f"no release with id {release_id}")
        query = query.where(
            or_(
                w.release_id == release_id,
                and_(
                    w.release_id.is_(None), or_(w.product.is_(None), w.product == release.product)
                ),
            )
        )
        snapshot = connection.execute(
            select(t.policies.c.snapshot).where(t.policies.c.digest == release.policy_digest)
        ).scalar_one()
        for spec in policy_from_snapshot(snapshot).waivers:
            waiver = spec.waiver
            out.append(
                {
                    "id": None,
                    "release_id": release_id,
                    "product": None,
                    "rule_id": waiver.rule_id,
                    "purl": waiver.purl,
                    "fingerprint": waiver.fingerprint,
                    "path": waiver.path,
                    "reason": waiver.reason,
                    "expires": waiver.expires,
                    "approved_by": waiver.approved_by,
                    "created_at": None,
                    "origin": str(spec.origin),
                }
            )
    out = [_waiver_dict(row) for row in connection.execute(query.order_by(w.id))] + out
    return out


# -- where is component X ------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentQuery:
    ecosystem: str
    name: str
    display: str
    constraints: tuple[tuple[str, str], ...]  # (operator, version); empty: any version

    def admits(self, version: str | None) -> bool:
        if not self.constraints:
            return True
        if version is None:
            return False
        rule = ecosystem_rule(self.ecosystem)
        key: Callable[[str], Any] = rule.scheme.key if rule else (lambda v: v)
        try:
            have = key(version)
            for operator, wanted in self.constraints:
                other = key(wanted)
                ok = {
                    "=": have == other,
                    "==": have == other,
                    "!=": have != other,
                    ">": have > other,
                    ">=": have >= other,
                    "<": have < other,
                    "<=": have <= other,
                }[operator]
                if not ok:
                    return False
        except (InvalidVersion, TypeError, ValueError):
            return version == self.constraints[0][1] and self.constraints[0][0] in ("=", "==")
        return True


def parse_component_query(text: str, versions: str | None = None) -> ComponentQuery:
    """``pkg:TYPE/NS/NAME`` (any version), ``…@1.2.3`` (exactly), ``…@>=2.0,<2.15.0`` or
    ``…@vers:maven/>=2.0|<2.15.0`` (every constraint must hold). ``versions`` may give the
    range separately."""
    purl, _, inline = text.strip().partition("@") if "@" in text else (text.strip(), "", "")
    if not purl.startswith("pkg:"):
        raise UsageError(
            f"not a package URL: {text!r} (expected pkg:TYPE/NAMESPACE/NAME[@VERSION])"
        )
    ref = purl_ref(purl)
    if ref is None:
        raise UsageError(f"no known ecosystem for {purl!r}")
    spec = (versions or inline or "").strip()
    if spec.startswith("vers:"):
        spec = spec.split("/", 1)[1] if "/" in spec else ""
    constraints: list[tuple[str, str]] = []
    for part in re.split(r"[,|]", spec):
        part = part.strip()
        if not part or part == "*":
            continue
        match = _OPERATORS.match(part)
        if match is None:  # pragma: no cover - the pattern matches any non-empty text
            raise UsageError(f"not a version constraint: {part!r}")
        constraints.append((match.group(1) or "=", match.group(2).strip()))
    return ComponentQuery(ref.ecosystem, ref.name, ref.display_name, tuple(constraints))


def where(connection: Connection, query: ComponentQuery) -> list[dict[str, Any]]:
    """Current releases containing the component, in any admitted version."""
    c, r = t.components.c, t.releases.c
    rows = connection.execute(
        select(
            c.name,
            c.version,
            c.purl,
            c.ecosystem,
            c.doc,
            r.id,
            r.product,
            r.version.label("release_version"),
            r.source,
            r.status,
        )
        .join(t.releases, t.releases.c.exam_id == c.exam_id)
        .where(and_(c.lookup_ecosystem == query.ecosystem, c.lookup_name == query.name))
        .order_by(r.product, r.version, c.version)
    )
    out = []
    for row in rows:
        if not query.admits(row.version):
            continue
        doc = json.loads(row.doc)
        out.append(
            {
                "release": {
                    "id": row.id,
                    "product": row.product,
                    "version": row.release_version,
                    "source": row.source,
                    "status": row.status,
                },
                "component": {
                    "name": row.name,
                    "version": row.version,
                    "purl": row.purl,
                    "ecosystem": row.ecosystem,
                    "locations": doc.get("locations", []),
                },
            }
        )
    return out


def search_components(connection: Connection, text: str, limit: int = 200) -> list[dict[str, Any]]:
    """Components of current exams whose name or package URL contains ``text``."""
    c, r = t.components.c, t.releases.c
    needle = text.strip()
    if not needle:
        return []
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = connection.execute(
        select(
            c.name,
            c.version,
            c.purl,
            c.ecosystem,
            r.id,
            r.product,
            r.version.label("release_version"),
            r.status,
        )
        .join(t.releases, t.releases.c.exam_id == c.exam_id)
        .where(or_(c.name.ilike(pattern, escape="\\"), c.purl.ilike(pattern, escape="\\")))
        .order_by(c.name, c.version, r.product, r.version)
        .limit(limit)
    )
    return [
        {
            "name": row.name,
            "version": row.version,
            "purl": row.purl,
            "ecosystem": row.ecosystem,
            "release": {
                "id": row.id,
                "product": row.product,
                "version": row.release_version,
                "status": row.status,
            },
        }
        for row in rows
    ]


# -- runs, changes, trend, alerts ------------------------------------------------------------


def list_runs(connection: Connection, limit: int = 50) -> list[dict[str, Any]]:
    rows = connection.execute(select(t.runs).order_by(desc(t.runs.c.id)).limit(limit)).mappings()
    return [dict(row) for row in rows]


def changes(connection: Connection, run_id: int | None = None) -> dict[str, Any]:
    """What a run (the last by default) changed since the check before it."""
    if run_id is None:
        run_id = connection.execute(select(func.max(t.runs.c.id))).scalar_one_or_none()
    if run_id is None:
        return {"run": None, "previous": None, "opened": [], "closed": [], "verdicts": []}
    run = connection.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
    if run is None:
        raise LookupError(f"no monitor run {run_id}")
    previous = (
        connection.execute(
            select(t.runs).where(t.runs.c.id < run_id).order_by(desc(t.runs.c.id)).limit(1)
        )
        .mappings()
        .first()
    )
    x = t.exposures.c
    opened = [
        _exposure_dict(r)
        for r in connection.execute(select(t.exposures).where(x.opened_run == run_id))
    ]
    closed = [
        _exposure_dict(r)
        for r in connection.execute(select(t.exposures).where(x.closed_run == run_id))
    ]
    v = t.verdicts.c
    verdicts = []
    for row in connection.execute(select(t.verdicts).where(v.run_id == run_id).order_by(v.id)):
        before = connection.execute(
            select(v.status)
            .where(and_(v.release_id == row.release_id, v.id < row.id))
            .order_by(desc(v.id))
            .limit(1)
        ).scalar_one_or_none()
        if before == row.status:
            continue  # the same verdict with another count of violations
        verdicts.append(
            {
                "release_id": row.release_id,
                "before": before,
                "after": row.status,
                "violations": row.violations,
                "reason": row.reason,
            }
        )
    return {
        "run": dict(run),
        "previous": dict(previous) if previous else None,
        "opened": _with_release(connection, sorted(opened, key=_severity_order)),
        "closed": _with_release(connection, sorted(closed, key=_severity_order)),
        "verdicts": _with_release(connection, verdicts),
    }


def trend(connection: Connection, limit: int = 60) -> list[dict[str, Any]]:
    """Open, unwaived exposures by severity after each of the last ``limit`` runs."""
    r = t.runs.c
    rows = connection.execute(
        select(r.id, r.started_at, r.open_counts).order_by(desc(r.id)).limit(limit)
    ).all()[::-1]
    points = []
    for run_id, started, counts in rows:
        found = json.loads(counts) if counts else {}
        points.append({"run": run_id, "at": started, **{s: found.get(s, 0) for s in SEVERITIES}})
    return points


def list_alerts(connection: Connection, limit: int = 200) -> list[dict[str, Any]]:
    a, d = t.alerts.c, t.deliveries.c
    rows = connection.execute(select(t.alerts).order_by(desc(a.id)).limit(limit)).all()
    ids = [row.id for row in rows]
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in connection.execute(select(t.deliveries).where(d.alert_id.in_(ids))):
        deliveries[row.alert_id].append({"channel": row.channel, "at": row.at, "error": row.error})
    return [
        {
            "id": row.id,
            "run": row.run_id,
            "kind": row.kind,
            "release_id": row.release_id,
            "severity": row.severity,
            "created_at": row.created_at,
            "payload": json.loads(row.payload),
            "deliveries": deliveries.get(row.id, []),
        }
        for row in rows
    ]


def advisory_ids(connection: Connection) -> list[str]:
    rows = connection.execute(
        select(t.exposures.c.advisory).distinct().order_by(t.exposures.c.advisory)
    )
    return [row[0] for row in rows]


def overview(connection: Connection) -> dict[str, Any]:
    releases = list_releases(connection)
    by_status = Counter(item["status"] for item in releases)
    totals: Counter[str] = Counter()
    for item in releases:
        totals.update(item["exposures"])
    return {
        "releases": len(releases),
        "by_status": dict(by_status),
        "exposures": {s: totals.get(s, 0) for s in SEVERITIES},
        "exposed_releases": sum(1 for i in releases if any(i["exposures"].values())),
        "last_run": next(iter(list_runs(connection, 1)), None),
    }


def releases_for(connection: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in list_releases(connection) if item["id"] in set(ids)}


def release_attestations(connection: Connection, release_id: int) -> list[dict[str, Any]]:
    """The attestations kept with the release's current exam (without their bytes)."""
    a = t.attestations.c
    rows = connection.execute(
        select(a.id, a.format, a.origin, a.sha256, a.stored_at, func.length(a.data))
        .join(t.releases, t.releases.c.exam_id == a.exam_id)
        .where(t.releases.c.id == release_id)
        .order_by(a.id)
    )
    return [
        {
            "id": row[0],
            "format": row[1],
            "origin": row[2],
            "sha256": row[3],
            "stored_at": row[4],
            "size": row[5],
        }
        for row in rows
    ]


def attestation_data(connection: Connection, release_id: int, attestation_id: int) -> bytes:
    a = t.attestations.c
    data = connection.execute(
        select(a.data)
        .join(t.releases, t.releases.c.exam_id == a.exam_id)
        .where(and_(t.releases.c.id == release_id, a.id == attestation_id))
    ).scalar_one_or_none()
    if data is None:
        raise LookupError(f"no attestation {attestation_id} of release {release_id}")
    return bytes(data)
