"""The ASGI application: API under ``/api/v1``, dashboard pages at the root.

OpenAPI is served at ``/api/openapi.json`` (no interactive docs page: those load scripts
from a CDN).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from finalexam.store import Store
from finalexam.version import __version__
from finalexam.web.security import (
    ADMIN,
    CSP,
    SAFE_METHODS,
    SESSION_COOKIE,
    TOKEN_COOKIE,
    Security,
    bearer,
    origin_ok,
)
from finalexam.web.state import ServerState


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(
    store: Store,
    security: Security,
    db: str | None = None,
    today: Callable[[], date] | None = None,
) -> FastAPI:
    from finalexam.config import Config
    from finalexam.policy import reference_date

    app = FastAPI(
        title="finalexam portfolio",
        version=__version__,
        description="Releases, exposures, verdicts, waivers and alerts of the portfolio.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = ServerState(store, security, db, today or (lambda: reference_date(Config())))

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        host = request.headers.get("host", "")
        if security.allowed_hosts and host not in security.allowed_hosts:
            return PlainTextResponse("unknown host", status_code=421)
        token = bearer(request)
        role: str | None = None
        if token is not None:
            role = store.token_role(token)
            if role is None:
                return JSONResponse({"detail": "unknown token"}, status_code=401)
        else:
            cookie = request.cookies.get(TOKEN_COOKIE)
            role = store.token_role(cookie) if cookie else None
            if role is None and not security.require_token:
                role = ADMIN
        request.state.role = role
        session = request.cookies.get(SESSION_COOKIE)
        fresh = None
        if not session:
            session = fresh = secrets.token_urlsafe(24)
        request.state.session = session
        request.state.csrf = security.csrf_token(session)
        if request.method not in SAFE_METHODS and token is None:
            if not origin_ok(request):
                return PlainTextResponse("cross-origin request refused", status_code=403)
            # Forms check their ``csrf`` field in the route (which reads the body); the API
            # takes the token in a header.
            if _is_api(request):
                sent = request.headers.get("x-csrf-token")
                if not security.check_csrf(request.cookies.get(SESSION_COOKIE), sent):
                    return JSONResponse({"detail": "CSRF token missing or wrong"}, 403)
        response = await call_next(request)
        if fresh:
            response.set_cookie(
                SESSION_COOKIE,
                fresh,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # no-referrer makes Origin "null"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cache-Control"] = "no-store"
        return response

    from finalexam.web.api import router as api_router
    from finalexam.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount(
        "/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static"
    )
    return app
