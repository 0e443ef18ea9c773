"""The console's browser-facing defences: CSRF on every POST, a strict CSP and the other headers,
the session cookie's flags, the session id replaced at login, no open redirect."""

from __future__ import annotations

import re

import httpx

from console.auth import safe_path
from console.sessions import COOKIE_NAME, SessionStore
from tests.console.fakes import answer, client, console_app, principal, sign_in


def no_gateway(request: httpx.Request) -> httpx.Response:
    return answer({"items": []})


async def test_every_page_carries_a_strict_csp_and_the_other_headers() -> None:
    app = console_app(no_gateway)
    async with client(app) as http:
        page = await http.get("/")
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    # No inline script or style in the markup the CSP would have to allow.
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", page.text)
    assert "<style" not in page.text and " style=" not in page.text


async def test_session_cookie_is_httponly_secure_lax_and_holds_only_an_id() -> None:
    app = console_app(no_gateway)
    async with client(app) as http:
        page = await http.get("/")
    cookie = page.headers["set-cookie"]
    name, _, rest = cookie.partition("=")
    value = rest.split(";")[0]
    assert name == COOKIE_NAME
    flags = {f.strip().lower() for f in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert len(value) >= 40 and "." not in value  # a random id, not a signed payload


async def test_post_without_the_csrf_token_is_refused() -> None:
    app = console_app(no_gateway)
    session = sign_in(app, principal("police.ast", "agency-coordinator", agency_type="police"))
    async with client(app, session) as http:
        missing = await http.post("/notices/x/ack", data={})
        wrong = await http.post("/notices/x/ack", data={"csrf_token": "forged"})
        wrong_header = await http.post("/language", headers={"X-CSRF-Token": "forged"})
        language = await http.post(
            "/language", data={"csrf_token": session.csrf_token, "language": "kk", "next": "/"}
        )
    assert missing.status_code == wrong.status_code == wrong_header.status_code == 403
    assert language.status_code == 303
    assert session.language == "kk"


async def test_htmx_requests_send_the_token_in_a_header() -> None:
    app = console_app(no_gateway)
    session = sign_in(app, principal("head.ast", "center-head"))
    async with client(app, session) as http:
        page = await http.get("/notices")
        switched = await http.post(
            "/language",
            headers={"X-CSRF-Token": session.csrf_token},
            data={"language": "en", "next": "/notices"},
        )
    assert f'"X-CSRF-Token": "{session.csrf_token}"' in page.text  # <body hx-headers>
    assert switched.status_code == 303


def test_login_replaces_the_session_id_and_the_csrf_token() -> None:
    store = SessionStore(idle_seconds=60)
    session = store.create()
    old_id, old_csrf = session.id, session.csrf_token
    store.rotate(session)
    assert session.id != old_id and session.csrf_token != old_csrf
    assert store.get(old_id) is None and store.get(session.id) is session


def test_idle_sessions_expire() -> None:
    store = SessionStore(idle_seconds=0)
    session = store.create()
    assert store.get(session.id) is None


async def test_logout_drops_the_session_and_the_cookie() -> None:
    app = console_app(no_gateway)
    session = sign_in(app, principal("head.ast", "center-head"))
    session.tokens = None  # no id token: no Keycloak round trip needed
    async with client(app, session) as http:
        out = await http.post("/logout", data={"csrf_token": session.csrf_token})
    assert out.status_code == 303
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert app.state.sessions.get(session.id) is None


def test_after_login_goes_only_to_a_console_path() -> None:
    assert safe_path("/shelter") == "/shelter"
    for hostile in ("https://evil.example/", "//evil.example/", "/\\evil.example", "", None):
        assert safe_path(hostile) == "/"
