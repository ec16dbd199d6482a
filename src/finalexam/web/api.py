"""The REST API (JSON), the same answers as the ``portfolio`` commands."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from finalexam.errors import UsageError
from finalexam.store import WaiverInput
from finalexam.store import queries as q
from finalexam.web import actions
from finalexam.web.security import ADMIN, READ, require
from finalexam.web.state import ServerState

router = APIRouter(prefix="/api/v1")


def reader(request: Request) -> ServerState:
    require(request, READ)
    state: ServerState = request.app.state.server
    return state


def admin(request: Request) -> ServerState:
    require(request, ADMIN)
    state: ServerState = request.app.state.server
    return state


Read = Annotated[ServerState, Depends(reader)]
Admin = Annotated[ServerState, Depends(admin)]


def _found(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except LookupError as error:
        raise HTTPException(status_code=404, detail=str(error).strip("'\"")) from None
    except UsageError as error:
        raise HTTPException(status_code=400, detail=str(error)) from None


@router.get("/overview", summary="Counts of releases, verdicts and open exposures")
def overview(state: Read) -> dict[str, Any]:
    with state.store.reading() as connection:
        return q.overview(connection)


@router.get("/releases", summary="Releases with verdicts and open exposures by severity")
def releases(
    state: Read,
    product: str | None = None,
    status: Literal["passed", "failed", "incomplete"] | None = None,
) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.list_releases(connection, product, status)


@router.get("/releases/{release_id}", summary="One release")
def release(state: Read, release_id: int) -> dict[str, Any]:
    with state.store.reading() as connection:
        found: dict[str, Any] = _found(q.get_release, connection, release_id)
        return found


@router.get("/releases/{release_id}/report", summary="The stored JSON report of its exam")
def release_report(state: Read, release_id: int) -> dict[str, Any]:
    with state.store.reading() as connection:
        found: dict[str, Any] = _found(q.release_document, connection, release_id)
        return found


@router.get("/releases/{release_id}/exposures", summary="Its exposures (open; all with all=true)")
def release_exposures(state: Read, release_id: int, all: bool = False) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        _found(q.get_release, connection, release_id)
        return q.release_exposures(connection, release_id, all)


@router.get("/releases/{release_id}/history", summary="Its verdict history")
def release_history(state: Read, release_id: int) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        _found(q.get_release, connection, release_id)
        return q.release_history(connection, release_id)


@router.get("/releases/{release_id}/waivers", summary="Waivers that apply to it")
def release_waivers(state: Read, release_id: int) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        found: list[dict[str, Any]] = _found(q.list_waivers, connection, release_id)
        return found


@router.get("/releases/{release_id}/sbom", summary="Its SBOM (CycloneDX or SPDX)")
def release_sbom(
    state: Read,
    release_id: int,
    format: Literal["cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag"] = "cyclonedx-json",
) -> Response:
    from finalexam.report import REPORTERS
    from finalexam.report.base import RenderOptions

    with state.store.reading() as connection:
        report = _found(q.release_report, connection, release_id)
    media = (
        "application/xml"
        if format == "cyclonedx-xml"
        else ("text/plain" if format == "spdx-tag" else "application/json")
    )
    return Response(REPORTERS[format].render(report, RenderOptions()), media_type=media)


@router.get("/releases/{release_id}/attestations", summary="Attestations kept with its exam")
def release_attestations(state: Read, release_id: int) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        _found(q.get_release, connection, release_id)
        return q.release_attestations(connection, release_id)


@router.get(
    "/releases/{release_id}/attestations/{attestation_id}",
    summary="One attestation, as signed or received (JSON Lines)",
)
def release_attestation(state: Read, release_id: int, attestation_id: int) -> Response:
    with state.store.reading() as connection:
        data = _found(q.attestation_data, connection, release_id, attestation_id)
    return Response(
        data,
        media_type="application/jsonl",
        headers={
            "Content-Disposition": f'attachment; filename="release-{release_id}-'
            f'attestation-{attestation_id}.intoto.jsonl"'
        },
    )


@router.get("/advisories/{advisory}", summary="Releases exposed to an advisory (id or alias)")
def advisory(state: Read, advisory: str, all: bool = False) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        found: list[dict[str, Any]] = _found(q.exposed, connection, advisory, all)
        return found


@router.get("/where", summary="Releases containing a component (purl, any version or a range)")
def where(state: Read, purl: str, versions: str | None = None) -> list[dict[str, Any]]:
    query = _found(q.parse_component_query, purl, versions)
    with state.store.reading() as connection:
        return q.where(connection, query)


@router.get("/components", summary="Components whose name or purl contains q")
def components(
    state: Read, q_: Annotated[str, Query(alias="q", min_length=1)]
) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.search_components(connection, q_)


@router.get("/changes", summary="What a monitor run (the last by default) changed")
def changes(state: Read, run: int | None = None) -> dict[str, Any]:
    with state.store.reading() as connection:
        found: dict[str, Any] = _found(q.changes, connection, run)
        return found


@router.get("/runs", summary="Monitor runs, newest first")
def runs(state: Read, limit: int = 50) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.list_runs(connection, max(1, min(limit, 1000)))


@router.get("/trend", summary="Open exposures by severity after each run")
def trend(state: Read) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.trend(connection)


@router.get("/alerts", summary="The alert log, newest first, with deliveries")
def alerts(state: Read, limit: int = 200) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.list_alerts(connection, max(1, min(limit, 5000)))


@router.get("/vex", summary="A VEX document of what is and is not affected")
def vex(
    state: Read, format: Literal["openvex", "cyclonedx"] = "openvex", product: str | None = None
) -> dict[str, Any]:
    from finalexam.monitor.export import vex_document

    with state.store.reading() as connection:
        return vex_document(connection, format, product)


@router.get("/waivers", summary="Active portfolio waivers")
def waivers(state: Read) -> list[dict[str, Any]]:
    with state.store.reading() as connection:
        return q.list_waivers(connection)


class WaiverBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    release_id: int | None = None
    product: str | None = Field(default=None, max_length=512)
    rule_id: str | None = Field(default=None, max_length=256)
    purl: str | None = Field(default=None, max_length=2048)
    fingerprint: str | None = Field(default=None, max_length=32)
    path: str | None = Field(default=None, max_length=2048)
    expires: date | None = None
    approved_by: str | None = Field(default=None, max_length=256)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a reason")
        return value


@router.post("/waivers", status_code=201, summary="Add a waiver (admin); re-decides verdicts")
def add_waiver(state: Admin, body: WaiverBody) -> dict[str, Any]:
    waiver = WaiverInput(
        **(body.model_dump() | {"expires": body.expires.isoformat() if body.expires else None})
    )
    outcome = _found(actions.add_waiver, state, waiver)
    return {"id": outcome.waiver_id, "rechecked": outcome.rechecked, "message": outcome.message}


@router.delete("/waivers/{waiver_id}", summary="Remove a waiver (admin); re-decides verdicts")
def remove_waiver(state: Admin, waiver_id: int) -> dict[str, Any]:
    outcome = _found(actions.remove_waiver, state, waiver_id)
    return {"id": outcome.waiver_id, "rechecked": outcome.rechecked, "message": outcome.message}
