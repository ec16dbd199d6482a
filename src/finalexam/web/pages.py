"""The dashboard: server-rendered pages; every value passes through ``visible`` and escaping."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from finalexam.errors import UsageError
from finalexam.monitor.text import visible
from finalexam.store import WaiverInput
from finalexam.store import queries as q
from finalexam.version import __version__
from finalexam.web import actions
from finalexam.web.chart import trend_svg
from finalexam.web.security import ADMIN, READ, TOKEN_COOKIE, role_of
from finalexam.web.state import ServerState

router = APIRouter()


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``: untrusted text shows its control characters as code points."""
    if isinstance(value, Markup) or value is None:
        return "" if value is None else value
    return visible(value)


environment = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    finalize=_finalize,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["q"] = lambda value: quote(str(value), safe="")


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    role = role_of(request)
    html = environment.get_template(template).render(
        csrf=request.state.csrf,
        role=role,
        admin=role == ADMIN,
        version=__version__,
        severities=q.SEVERITIES,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def _reader(request: Request) -> Response | None:
    """A login page (or 401) for a visitor without a role."""
    if role_of(request) is None:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return None


SHOWN_RELEASES = 300
_STATUS_ORDER = {"failed": 0, "incomplete": 1, "passed": 2}


def _relevance(item: dict[str, Any]) -> tuple[Any, ...]:
    counts = item["exposures"]
    return (
        _STATUS_ORDER.get(item["status"], 3),
        *(-counts[s] for s in q.SEVERITIES),
        item["product"],
        item["version"],
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def overview(request: Request, product: str = "", status: str = "") -> Response:
    if (redirect := _reader(request)) is not None:
        return redirect
    with _state(request).store.reading() as connection:
        summary = q.overview(connection)
        releases = q.list_releases(connection, product or None, status or None)
        points = q.trend(connection)
        last = q.changes(connection)
    releases.sort(key=_relevance)  # what needs attention first; a big portfolio is cut
    return _page(
        request,
        "overview.html",
        summary=summary,
        releases=releases[:SHOWN_RELEASES],
        hidden=max(0, len(releases) - SHOWN_RELEASES),
        product=product,
        status_filter=status,
        chart=trend_svg(points, q.SEVERITIES),
        changes=last,
    )


@router.get("/releases/{release_id}", response_class=HTMLResponse, include_in_schema=False)
def release(request: Request, release_id: int, message: str | None = None) -> Response:
    if (redirect := _reader(request)) is not None:
        return redirect
    with _state(request).store.reading() as connection:
        try:
            item = q.get_release(connection, release_id)
        except LookupError:
            raise HTTPException(status_code=404, detail="no such release") from None
        document = q.release_document(connection, release_id)
        exposures = q.release_exposures(connection, release_id, include_closed=True)
        history = q.release_history(connection, release_id)
        waivers = q.list_waivers(connection, release_id)
        attestations = q.release_attestations(connection, release_id)
    return _page(
        request,
        "release.html",
        release=item,
        report=document,
        exposures=exposures,
        history=history,
        waivers=waivers,
        attestations=attestations,
        message=message,
        today=date.today().isoformat(),
    )


@router.post("/releases/{release_id}/waivers", include_in_schema=False)
def add_waiver(
    request: Request,
    release_id: int,
    csrf: str = Form(""),
    rule_id: str = Form(""),
    purl: str = Form(""),
    reason: str = Form(""),
    expires: str = Form(""),
    scope: str = Form("release"),
    approved_by: str = Form(""),
) -> Response:
    _check_form(request, csrf, ADMIN)
    state = _state(request)
    with state.store.reading() as connection:
        try:
            item = q.get_release(connection, release_id)
        except LookupError:
            raise HTTPException(status_code=404, detail="no such release") from None
    try:
        if expires:
            date.fromisoformat(expires)
        outcome = actions.add_waiver(
            state,
            WaiverInput(
                reason=reason,
                release_id=release_id if scope == "release" else None,
                product=item["product"] if scope == "product" else None,
                rule_id=rule_id.strip() or None,
                purl=purl.strip() or None,
                expires=expires or None,
                approved_by=approved_by.strip() or None,
            ),
        )
        message = f"waiver {outcome.waiver_id} added; {outcome.message}"
    except (UsageError, ValueError) as error:
        message = f"waiver not added: {error}"
    return RedirectResponse(f"/releases/{release_id}?message={quote(message)}", status_code=303)


@router.post("/waivers/{waiver_id}/remove", include_in_schema=False)
def remove_waiver(
    request: Request, waiver_id: int, csrf: str = Form(""), back: int = Form(0)
) -> Response:
    _check_form(request, csrf, ADMIN)
    try:
        outcome = actions.remove_waiver(_state(request), waiver_id)
        message = f"waiver {waiver_id} removed; {outcome.message}"
    except UsageError as error:
        message = str(error)
    target = f"/releases/{back}" if back else "/"
    return RedirectResponse(f"{target}?message={quote(message)}", status_code=303)


def _check_form(request: Request, csrf: str, needed: str) -> None:
    security = _state(request).security
    if not security.check_csrf(request.cookies.get("fx_session"), csrf):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong: reload the page")
    role = role_of(request)
    if role is None or (needed == ADMIN and role != ADMIN):
        raise HTTPException(status_code=403, detail="an admin token is required")


@router.get("/advisories/{advisory}", response_class=HTMLResponse, include_in_schema=False)
def advisory(request: Request, advisory: str) -> Response:
    if (redirect := _reader(request)) is not None:
        return redirect
    with _state(request).store.reading() as connection:
        try:
            items = q.exposed(connection, advisory, include_closed=True)
        except UsageError:
            raise HTTPException(status_code=404, detail="no such advisory") from None
    return _page(request, "advisory.html", advisory=advisory, exposures=items)


@router.get("/components", response_class=HTMLResponse, include_in_schema=False)
def components(request: Request, q_: str = "", versions: str = "") -> Response:
    if (redirect := _reader(request)) is not None:
        return redirect
    text = request.query_params.get("q", q_).strip()
    results: list[dict[str, Any]] = []
    located: list[dict[str, Any]] = []
    error = None
    with _state(request).store.reading() as connection:
        if text.startswith("pkg:"):
            try:
                located = q.where(connection, q.parse_component_query(text, versions or None))
            except UsageError as problem:
                error = str(problem)
        elif text:
            results = q.search_components(connection, text)
    return _page(
        request,
        "components.html",
        query=text,
        versions=versions,
        results=results,
        located=located,
        error=error,
    )


@router.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
def alerts(request: Request) -> Response:
    if (redirect := _reader(request)) is not None:
        return redirect
    with _state(request).store.reading() as connection:
        items = q.list_alerts(connection)
        runs = q.list_runs(connection)
    return _page(request, "alerts.html", alerts=items, runs=runs)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return _page(request, "login.html", next=_local(next), error=None)


@router.post("/login", include_in_schema=False)
def login(
    request: Request, token: str = Form(""), csrf: str = Form(""), next: str = Form("/")
) -> Response:
    state = _state(request)
    if not state.security.check_csrf(request.cookies.get("fx_session"), csrf):
        raise HTTPException(status_code=403, detail="CSRF token missing or wrong: reload the page")
    if state.store.token_role(token.strip()) is None:
        return _page(request, "login.html", status=401, next=_local(next), error="unknown token")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf: str = Form("")) -> Response:
    _check_form(request, csrf, READ)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    return response


def _local(target: str) -> str:
    """Only paths of this site (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
