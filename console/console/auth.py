"""Login with OpenID Connect (authorization code + PKCE S256) through the confidential
`kamqor-console` client, with Authlib's Starlette client; tokens stay in the server-side session.

`/login` sends the browser to Keycloak (in the user's language: `ui_locales`), `/auth/callback`
takes the code, verifies the access token with the kit's verifier (the same checks the gateway
makes) and replaces the session id; `signed_in` refreshes the token shortly before it expires;
`/logout` drops the session and ends the Keycloak session too (`id_token_hint`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Annotated, Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console import i18n
from console.api import Api
from console.sessions import Session, SessionStore, Tokens, current_session
from console.settings import ConsoleSettings
from kamqor.auth import AuthError, Principal, TokenVerifier

log = logging.getLogger(__name__)
router = APIRouter()


class LoginRequired(Exception):
    """No signed-in session (or it could not be refreshed): the page sends the user to log in."""


def register_client(settings: ConsoleSettings) -> StarletteOAuth2App:
    oauth = OAuth()
    client: StarletteOAuth2App = oauth.register(
        name="keycloak",
        client_id=settings.console_client_id,
        client_secret=settings.console_client_secret,
        server_metadata_url=settings.metadata_url,
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )
    return client


def safe_path(value: str | None) -> str:
    """A path of this console only (no scheme, no other host): never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _tokens(token: dict[str, Any], previous: Tokens | None = None) -> Tokens:
    expires_at = float(token.get("expires_at") or time.time() + float(token["expires_in"]))
    return Tokens(
        access_token=str(token["access_token"]),
        refresh_token=str(
            token.get("refresh_token") or (previous.refresh_token if previous else "")
        ),
        id_token=str(token.get("id_token") or (previous.id_token if previous else "")),
        expires_at=expires_at,
    )


def _oauth(request: Request) -> StarletteOAuth2App:
    client: StarletteOAuth2App = request.app.state.oauth
    return client


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


@router.get("/login", include_in_schema=False)
async def login(request: Request, next: str | None = None) -> Response:
    session = current_session(request)
    session.after_login = safe_path(next)
    language = i18n.pick_language(request, session.language, _settings(request).default_language)
    response: Response = await _oauth(request).authorize_redirect(
        request, _settings(request).url("/auth/callback"), ui_locales=language
    )
    return response


@router.get("/auth/callback", include_in_schema=False)
async def callback(request: Request) -> Response:
    session = current_session(request)
    try:
        token = await _oauth(request).authorize_access_token(request)
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(str(token["access_token"]))
    except (OAuthError, AuthError, KeyError) as exc:
        # The reason only: no token, code or user data in the log.
        log.warning("login failed: %s", type(exc).__name__)
        return RedirectResponse("/?login=failed", status_code=303)
    store: SessionStore = request.app.state.sessions
    store.rotate(session)
    session.oauth.clear()
    session.tokens = _tokens(token)
    session.principal = principal
    return RedirectResponse(session.after_login or "/", status_code=303)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    session = current_session(request)
    id_token = session.tokens.id_token if session.tokens else None
    store: SessionStore = request.app.state.sessions
    store.drop(session)
    if not id_token:
        return RedirectResponse("/", status_code=303)
    redirect: Response = await _oauth(request).logout_redirect(
        request,
        post_logout_redirect_uri=_settings(request).url("/"),
        id_token_hint=id_token,
    )
    redirect.status_code = 303
    return redirect


async def _refresh(request: Request, session: Session) -> None:
    assert session.tokens is not None
    try:
        token = await _oauth(request).fetch_access_token(
            grant_type="refresh_token", refresh_token=session.tokens.refresh_token
        )
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(str(token["access_token"]))
    except (OAuthError, AuthError, KeyError) as exc:
        log.info("token refresh failed: %s", type(exc).__name__)
        session.tokens = None
        session.principal = None
        raise LoginRequired() from None
    session.tokens = _tokens(token, session.tokens)
    session.principal = principal


@dataclass(frozen=True)
class User:
    """The signed-in user: who they are (from the verified token) and their API."""

    principal: Principal
    api: Api
    session: Session

    def can(self, *roles: str) -> bool:
        return self.principal.has_any(*roles)


async def signed_in(request: Request) -> User:
    session = current_session(request)
    if not session.signed_in or session.tokens is None or session.principal is None:
        raise LoginRequired()
    margin = _settings(request).refresh_margin_seconds
    if session.tokens.expires_at - time.time() < margin:
        async with session.refresh_lock:
            if session.tokens is None:
                raise LoginRequired()
            if session.tokens.expires_at - time.time() < margin:
                await _refresh(request, session)
    assert session.tokens is not None and session.principal is not None
    return User(
        principal=session.principal,
        api=Api(request.app.state.http, session.tokens.access_token),
        session=session,
    )


CurrentUser = Annotated[User, Depends(signed_in)]
