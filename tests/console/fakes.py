"""The console without Keycloak or the gateway: a signed-in session put straight into the store
and a fake `/v1` API (httpx MockTransport), for fast tests of pages, CSRF and headers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI

from console.app import create_app
from console.sessions import COOKIE_NAME, Session, SessionStore, Tokens
from console.settings import ConsoleSettings
from kamqor.auth import Principal, TokenVerifier

Handler = Callable[[httpx.Request], httpx.Response]


def principal(
    username: str,
    *roles: str,
    agency: str = "fc-ast-1",
    agency_type: str = "family_center",
    territory: str = "kz-ast",
) -> Principal:
    return Principal(
        subject=f"sub-{username}",
        username=username,
        roles=frozenset(roles),
        agency=agency,
        agency_type=agency_type,
        territory=territory,
        client_id="kamqor-console",
        token="access",
    )


def console_app(handler: Handler) -> FastAPI:
    settings = ConsoleSettings(
        environment="test",
        keycloak_issuer="http://127.0.0.1:1/realms/kamqor",
        console_public_url="http://console.test",
    )
    verifier = TokenVerifier(
        issuer=settings.keycloak_issuer, audience="kamqor-gateway", jwks_url="http://127.0.0.1:1/"
    )
    app = create_app(settings, verifier=verifier)
    app.state.http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), base_url="http://gateway.test"
    )
    return app


def sign_in(app: FastAPI, who: Principal, *, language: str | None = None) -> Session:
    store: SessionStore = app.state.sessions
    session = store.create()
    session.principal = who
    session.language = language
    session.tokens = Tokens(
        access_token="access", refresh_token="refresh", id_token="id", expires_at=time.time() + 900
    )
    return session


def client(app: FastAPI, session: Session | None = None) -> httpx.AsyncClient:
    cookies = {COOKIE_NAME: session.id} if session else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test", cookies=cookies
    )


def answer(body: Any, status: int = 200) -> httpx.Response:
    media = "application/problem+json" if status >= 400 else "application/json"
    return httpx.Response(status, content=json.dumps(body), headers={"content-type": media})
