"""The portfolio as documents: each release's SBOM, and a VEX of what is and is not affected.

VEX statements cover every advisory ever matched in the portfolio and every current release
that contains the package it names: ``affected`` while the exposure is open (a waiver is
said in the action statement: accepting a risk is not being unaffected), ``not_affected``
(the vulnerable code is not present) when the release's version is outside the advisory's
ranges or the advisory was withdrawn.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packageurl import PackageURL
from sqlalchemy import Connection, select

from finalexam.report import REPORTERS
from finalexam.report.base import RenderOptions, write_atomically
from finalexam.store import schema as t
from finalexam.store.queries import list_releases, release_report
from finalexam.store.records import utc_now
from finalexam.version import __version__
from finalexam.vuln.purl import purl_ref
from finalexam.vuln.versions import normalize_name

_SUFFIX = {
    "cyclonedx-json": ".cdx.json",
    "cyclonedx-xml": ".cdx.xml",
    "spdx-json": ".spdx.json",
    "spdx-tag": ".spdx",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
_CDX_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "info": "info",
}


def safe_name(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "_"


def export_sboms(
    connection: Connection, directory: Path, fmt: str, product: str | None = None
) -> list[Path]:
    reporter = REPORTERS[fmt]
    written = []
    for item in list_releases(connection, product):
        report = release_report(connection, item["id"])
        name = f"{safe_name(item['product'])}-{safe_name(item['version'])}{_SUFFIX[fmt]}"
        path = directory / name
        write_atomically(str(path), reporter.render(report, RenderOptions()))
        written.append(path)
    return written


def release_purl(release: Mapping[str, Any]) -> str:
    purl = PackageURL(type="generic", name=release["product"], version=release["version"])
    return purl.to_string()


def _statements(connection: Connection, product: str | None) -> list[dict[str, Any]]:
    """One entry per (advisory, release, package): state and why."""
    releases = {r["id"]: r for r in list_releases(connection, product)}
    c, r = t.components.c, t.releases.c
    rows = connection.execute(select(t.exposures)).all()
    advisories: dict[str, dict[str, Any]] = {}
    open_keys: dict[tuple[str, int, str], Any] = {}
    packages: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in rows:
        entry = advisories.setdefault(
            row.advisory, {"aliases": set(), "severity": row.severity, "title": row.title}
        )
        entry["aliases"].update(i for i in row.ids.split() if i != row.advisory)
        packages[row.advisory].add(_lookup(row.component, row.ecosystem, row.component_name))
        if row.state == "open" and row.release_id in releases:
            open_keys[(row.advisory, row.release_id, row.component)] = row
    out = []
    for advisory, names in sorted(packages.items()):
        for ecosystem, name in sorted(names):
            present = connection.execute(
                select(r.id, c.name, c.version, c.purl, c.ecosystem)
                .join(t.releases, t.releases.c.exam_id == c.exam_id)
                .where(c.lookup_ecosystem == ecosystem, c.lookup_name == name)
            ).all()
            for release_id, cname, cversion, cpurl, ceco in present:
                if release_id not in releases:
                    continue
                component = cpurl or f"{ceco}/{cname}@{cversion or ''}"
                hit = open_keys.get((advisory, release_id, component))
                out.append(
                    {
                        "advisory": advisory,
                        "aliases": sorted(advisories[advisory]["aliases"]),
                        "severity": advisories[advisory]["severity"],
                        "title": advisories[advisory]["title"],
                        "release": releases[release_id],
                        "component": component,
                        "package": cname,
                        "version": cversion,
                        "ecosystem": ecosystem,
                        "affected": hit is not None,
                        "waived": bool(hit.waived) if hit else False,
                        "fixed": json.loads(hit.fixed) if hit is not None else [],
                    }
                )
    return out


def _lookup(component: str, ecosystem: str, name: str) -> tuple[str, str]:
    """What the store's components are indexed by, for an exposure's package."""
    ref = purl_ref(component) if component.startswith("pkg:") else None
    if ref is not None:
        return ref.ecosystem, ref.name
    return ecosystem, normalize_name(ecosystem, name)


def _document_id(statements: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(
        json.dumps(statements, sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    return digest


def openvex(statements: list[dict[str, Any]]) -> dict[str, Any]:
    out = []
    for item in statements:
        statement: dict[str, Any] = {
            "vulnerability": {
                "name": item["advisory"],
                **({"aliases": item["aliases"]} if item["aliases"] else {}),
            },
            "products": [
                {
                    "@id": release_purl(item["release"]),
                    "subcomponents": [{"@id": item["component"]}],
                }
            ],
        }
        if item["affected"]:
            statement["status"] = "affected"
            fix = (
                f"update {item['package']} to {', '.join(item['fixed'])}"
                if item["fixed"]
                else (f"no fixed version of {item['package']} is known: remove or replace it")
            )
            statement["action_statement"] = (
                f"risk accepted by a waiver; {fix}" if item["waived"] else fix
            )
        else:
            statement["status"] = "not_affected"
            statement["justification"] = "vulnerable_code_not_present"
            statement["impact_statement"] = (
                f"{item['package']} {item['version'] or ''} is outside the affected versions"
            ).replace("  ", " ")
        out.append(statement)
    digest = _document_id(statements)
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": f"https://openvex.dev/docs/finalexam/{digest[:32]}",
        "author": "finalexam portfolio",
        "role": "Document Creator",
        "timestamp": utc_now()[:19] + "Z",
        "version": 1,
        "tooling": f"finalexam {__version__}",
        "statements": out,
    }


def cyclonedx_vex(statements: list[dict[str, Any]]) -> dict[str, Any]:
    components: dict[int, dict[str, Any]] = {}
    refs: dict[tuple[int, str], str] = {}
    for item in statements:
        release = item["release"]
        owner = components.setdefault(
            release["id"],
            {
                "type": "application",
                "bom-ref": f"release-{release['id']}",
                "name": release["product"],
                "version": release["version"],
                "purl": release_purl(release),
                "components": [],
            },
        )
        key = (release["id"], item["component"])
        if key not in refs:
            refs[key] = f"release-{release['id']}-component-{len(owner['components'])}"
            child: dict[str, Any] = {
                "type": "library",
                "bom-ref": refs[key],
                "name": item["package"],
            }
            if item["version"]:
                child["version"] = item["version"]
            if item["component"].startswith("pkg:"):
                child["purl"] = item["component"]
            owner["components"].append(child)
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in statements:
        state = "exploitable" if item["affected"] else "not_affected"
        grouped[(item["advisory"], state)].append(item)
    vulnerabilities = []
    for (advisory, state), items in sorted(grouped.items()):
        first = items[0]
        analysis: dict[str, Any] = {"state": state}
        if state == "not_affected":
            analysis["justification"] = "code_not_present"
            analysis["detail"] = "the component's version is outside the affected versions"
        else:
            analysis["response"] = ["update"] if any(i["fixed"] for i in items) else ["can_not_fix"]
            if any(i["waived"] for i in items):
                analysis["detail"] = "accepted by a waiver in some releases"
        entry: dict[str, Any] = {
            "bom-ref": f"{advisory}-{state}",
            "id": advisory,
            "source": {"name": "OSV", "url": f"https://osv.dev/vulnerability/{advisory}"},
            "ratings": [
                {"severity": _CDX_SEVERITY.get(first["severity"], "unknown"), "method": "other"}
            ],
            "description": first["title"],
            "analysis": analysis,
            "affects": [{"ref": refs[(i["release"]["id"], i["component"])]} for i in items],
        }
        if first["aliases"]:
            entry["references"] = [
                {
                    "id": alias,
                    "source": {"name": "OSV", "url": f"https://osv.dev/vulnerability/{alias}"},
                }
                for alias in first["aliases"]
            ]
        vulnerabilities.append(entry)
    digest = _document_id(statements)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.UUID(digest[:32])}",
        "version": 1,
        "metadata": {
            "timestamp": utc_now()[:19] + "Z",
            "tools": {
                "components": [{"type": "application", "name": "finalexam", "version": __version__}]
            },
        },
        "components": [components[k] for k in sorted(components)],
        "vulnerabilities": vulnerabilities,
    }


def vex_document(connection: Connection, fmt: str, product: str | None = None) -> dict[str, Any]:
    statements = _statements(connection, product)
    return openvex(statements) if fmt == "openvex" else cyclonedx_vex(statements)
