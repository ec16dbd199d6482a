"""Who may do what, and the protections every response carries.

- Bound to a loopback address, the server trusts local users (admin) unless tokens are
  required; bound anywhere else, every request needs a token (``Authorization: Bearer``
  for the API, or a token entered once on the login page for the dashboard).
- Tokens are read-only or admin; only their SHA-256 is stored.
- Forms carry a CSRF token tied to a random session cookie (HMAC with a per-process key);
  an unsafe request without a bearer token needs it, and a cross-origin ``Origin`` is
  refused. Cookies are HttpOnly and SameSite=Strict.
- On loopback, the Host header must name the loopback address (no DNS rebinding).
- A strict Content-Security-Policy: no inline script, nothing from another origin.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request

SESSION_COOKIE = "fx_session"
TOKEN_COOKIE = "fx_token"
READ, ADMIN = "read", "admin"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Security:
    require_token: bool
    allowed_hosts: frozenset[str] = frozenset()  # empty: any Host header
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def csrf_token(self, session: str) -> str:
        return hmac.new(self.key, session.encode("utf-8"), hashlib.sha256).hexdigest()

    def check_csrf(self, session: str | None, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def origin_ok(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by a browser, or a same-origin request of an old one
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def role_of(request: Request) -> str | None:
    """The caller's role, resolved by the middleware."""
    role: Any = getattr(request.state, "role", None)
    return str(role) if role else None


def require(request: Request, needed: str) -> None:
    role = role_of(request)
    if role is None:
        raise HTTPException(status_code=401, detail="a token is required")
    if needed == ADMIN and role != ADMIN:
        raise HTTPException(status_code=403, detail="an admin token is required")
