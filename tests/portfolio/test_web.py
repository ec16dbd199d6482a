"""The server on loopback: tokens and roles, CSRF, Host checks, and escaping of hostile text."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from finalexam.store import Store
from finalexam.web.app import create_app
from finalexam.web.security import Security
from portfolio_support import LOG4SHELL, RELEASE_POLICY, build_db, make_report, serve, shared_record

HOSTILE = 'x"><script>alert(1)</script><img src=x onerror=alert(2)>\u202egpj.exe'


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect()
        )

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        body = None
        headers = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, body, headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf(self) -> str:
        _, _, page = self.call("GET", "/login")
        found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page)
        assert found
        return found.group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(str(tmp_path / "p.sqlite3")) as opened:
        packages = [
            ("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1"),
            ("npm", HOSTILE, "1"),
        ]
        opened.add_exam(
            make_report(HOSTILE, "1.0", packages), HOSTILE, "1.0", "received", RELEASE_POLICY
        )
        yield opened


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return build_db(tmp_path / "osv.sqlite3", [shared_record("Maven", LOG4SHELL)])


def test_tokens_are_required_off_loopback_with_read_and_admin_roles(store: Store, db: Path) -> None:
    read, admin = store.add_token("dashboard", "read"), store.add_token("ops", "admin")
    with serve(create_app(store, Security(require_token=True), str(db))) as base:
        client = Client(base)
        assert client.call("GET", "/api/v1/releases")[0] == 401
        assert (
            client.call("GET", "/api/v1/releases", headers={"Authorization": "Bearer nope"})[0]
            == 401
        )
        status, _, body = client.call(
            "GET", "/api/v1/releases", headers={"Authorization": f"Bearer {read}"}
        )
        assert status == 200 and json.loads(body)[0]["product"] == HOSTILE
        waiver = {"release_id": 1, "rule_id": LOG4SHELL, "reason": "not reachable"}
        assert (
            client.call("POST", "/api/v1/waivers", waiver, {"Authorization": f"Bearer {read}"})[0]
            == 403
        )
        status, _, body = client.call(
            "POST", "/api/v1/waivers", waiver, {"Authorization": f"Bearer {admin}"}
        )
        assert status == 201 and json.loads(body)["rechecked"] is True
        # the dashboard: a login page, then a cookie; the token is never echoed back
        status, headers, _ = client.call("GET", "/")
        assert status == 303 and headers["location"].startswith("/login")
        csrf = client.csrf()
        assert client.call("POST", "/login", form={"token": "wrong", "csrf": csrf})[0] == 401
        status, headers, _ = client.call("POST", "/login", form={"token": read, "csrf": csrf})
        assert status == 303
        status, _, page = client.call("GET", "/")
        assert status == 200 and read not in page
        # a read-only visitor has no waiver form and cannot post one
        status, _, page = client.call("GET", "/releases/1")
        assert 'id="waive"' not in page
        form = {"csrf": client.csrf(), "rule_id": LOG4SHELL, "reason": "x"}
        assert client.call("POST", "/releases/1/waivers", form=form)[0] == 403


def test_forms_need_the_csrf_token_and_a_same_origin(store: Store, db: Path) -> None:
    with serve(create_app(store, Security(require_token=False), str(db))) as base:
        client = Client(base)
        form = {"rule_id": LOG4SHELL, "reason": "accepted", "scope": "release"}
        assert client.call("POST", "/releases/1/waivers", form=form)[0] == 403
        form["csrf"] = client.csrf()
        cross = {"Origin": "http://evil.example"}
        assert client.call("POST", "/releases/1/waivers", form=form, headers=cross)[0] == 403
        status, headers, _ = client.call("POST", "/releases/1/waivers", form=form)
        assert status == 303 and "waiver%201%20added" in headers["location"]
        # an API write without a bearer token needs the CSRF header too
        assert client.call("DELETE", "/api/v1/waivers/1")[0] == 403
        status, _, body = client.call(
            "DELETE", "/api/v1/waivers/1", headers={"X-CSRF-Token": client.csrf()}
        )
        assert status == 200, body


def test_loopback_refuses_other_host_names(store: Store) -> None:
    hosts = frozenset({"127.0.0.1:1"})
    with serve(create_app(store, Security(require_token=False, allowed_hosts=hosts))) as base:
        status, _, _ = Client(base).call("GET", "/api/v1/releases")
        assert status == 421  # the test server's real port is not in the allowed list


def test_every_page_escapes_hostile_text(store: Store, db: Path) -> None:
    from finalexam.monitor.recheck import run_monitor
    from finalexam.vuln.store import VulnDatabase

    with VulnDatabase(db) as database:
        from datetime import date

        run_monitor(store, database, date(2026, 1, 1))
    quoted = urllib.parse.quote(HOSTILE, safe="")
    pages = [
        "/",
        "/releases/1",
        f"/advisories/{LOG4SHELL}",
        "/alerts",
        f"/components?q={quoted}",
        "/components?q=evil",
        f"/advisories/{quoted}",
    ]
    with serve(create_app(store, Security(require_token=False), str(db))) as base:
        client = Client(base)
        for path in pages:
            status, headers, page = client.call("GET", path)
            assert status in (200, 404), path
            assert "<script>" not in page and "<img src=x" not in page, path
            assert "\u202e" not in page, path
            assert "default-src 'none'" in headers["content-security-policy"]
        _, _, page = client.call("GET", "/releases/1")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "\\u202e" in page


def test_openapi_is_served_and_lists_the_api(store: Store) -> None:
    with serve(create_app(store, Security(require_token=False))) as base:
        status, _, body = Client(base).call("GET", "/api/openapi.json")
        paths = json.loads(body)["paths"]
        assert status == 200
        for path in (
            "/api/v1/releases",
            "/api/v1/where",
            "/api/v1/advisories/{advisory}",
            "/api/v1/changes",
            "/api/v1/vex",
            "/api/v1/waivers",
            "/api/v1/alerts",
        ):
            assert path in paths
        assert Client(base).call("GET", "/docs")[0] == 404  # no CDN-backed docs page
