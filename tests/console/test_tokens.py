"""Tokens stay on the server and are refreshed shortly before they expire; a refresh that fails
sends the person to log in again (an HTMX request is told so with `HX-Redirect`)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from authlib.integrations.base_client import OAuthError

from kamqor.auth import AuthError, Principal, TokenVerifier
from tests.console.fakes import answer, client, console_app, principal, sign_in


class FakeKeycloak:
    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.refreshed_with: list[str] = []

    async def fetch_access_token(self, **params: Any) -> dict[str, Any]:
        assert params["grant_type"] == "refresh_token"
        self.refreshed_with.append(params["refresh_token"])
        if self.fail:
            raise OAuthError(error="invalid_grant")
        return {"access_token": "fresh", "refresh_token": "refresh-2", "expires_in": 300}


class Verifier(TokenVerifier):
    def __init__(self, who: Principal) -> None:
        super().__init__(issuer="http://kc.invalid/realms/kamqor", audience="kamqor-gateway")
        self.who = who

    async def verify(self, token: str) -> Principal:
        if token != "fresh":
            raise AuthError("bad signature")
        return self.who


async def test_a_token_about_to_expire_is_refreshed_before_the_call() -> None:
    seen: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return answer({"items": [], "next_page_token": None})

    who = principal("police.ast", "agency-coordinator", agency_type="police")
    app = console_app(gateway)
    keycloak = FakeKeycloak()
    app.state.oauth = keycloak
    app.state.verifier = Verifier(who)
    session = sign_in(app, who)
    assert session.tokens is not None
    session.tokens.expires_at = time.time() + 5  # inside the refresh margin
    async with client(app, session) as http:
        page = await http.get("/notices")
    assert page.status_code == 200
    assert keycloak.refreshed_with == ["refresh"]
    assert set(seen) == {"Bearer fresh"}
    assert session.tokens.refresh_token == "refresh-2"
    assert session.tokens.id_token == "id"  # kept when the refresh answer has none


async def test_a_failed_refresh_sends_the_person_to_log_in() -> None:
    app = console_app(lambda request: answer({"items": []}))
    app.state.oauth = FakeKeycloak(fail=True)
    session = sign_in(app, principal("police.ast", "agency-coordinator"))
    assert session.tokens is not None
    session.tokens.expires_at = time.time() - 1
    async with client(app, session) as http:
        page = await http.get("/notices", follow_redirects=False)
        fragment = await http.get("/notices", headers={"HX-Request": "true"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/notices"
    assert fragment.headers["HX-Redirect"] == "/login?next=/notices"
    assert not session.signed_in


async def test_pages_need_a_login() -> None:
    app = console_app(lambda request: answer({"items": []}))
    async with client(app) as http:
        page = await http.get("/shelter", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/shelter"
