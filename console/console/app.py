"""Wiring of the console: settings, sessions, OIDC client, gateway client, templates, catalogs,
static files and the screens. Nothing happens at import time: `create_app(settings)`."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from functools import cache
from zoneinfo import ZoneInfo

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import assets, auth, i18n, pages
from console.api import ApiError
from console.csrf import CsrfError, check_csrf
from console.security import SecurityHeadersMiddleware
from console.session_store import PostgresSessionStore
from console.sessions import SessionMiddleware, Sessions, SessionStore, maybe_session
from console.settings import ConsoleSettings
from console.templating import environment, render
from kamqor.auth import TokenVerifier
from kamqor.db import make_engine
from kamqor.errors import Invalid
from kamqor.profiles import get_profile
from kamqor.territories import territory

log = logging.getLogger(__name__)


@cache
def territory_zone(code: str) -> ZoneInfo | None:
    try:
        return get_profile(territory(code).profile).zone
    except (Invalid, KeyError):
        return None


async def bind_language(request: Request) -> None:
    """Every request renders in its user's language and territory's time zone."""
    session = maybe_session(request)
    settings: ConsoleSettings = request.app.state.settings
    chosen = session.language if session else None
    language = i18n.pick_language(request, chosen, settings.default_language)
    principal = session.principal if session else None
    zone = territory_zone(principal.territory) if principal else None
    i18n.set_request_language(language, zone)


def create_app(settings: ConsoleSettings, *, verifier: TokenVerifier | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.gateway_url, timeout=settings.gateway_timeout_seconds
        ) as http:
            app.state.http = http
            try:
                yield
            finally:
                if engine is not None:
                    await engine.dispose()
        log.info("console stopped")

    app = FastAPI(
        title="Kamqor console",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(bind_language), Depends(check_csrf)],
    )
    idle_seconds = settings.session_idle_minutes * 60
    engine = make_engine(settings.database_url) if settings.database_url else None
    store: Sessions = (
        PostgresSessionStore(engine, idle_seconds=idle_seconds)
        if engine is not None
        else SessionStore(idle_seconds=idle_seconds)
    )
    app.state.settings = settings
    app.state.sessions = store
    app.state.oauth = auth.register_client(settings)
    app.state.verifier = verifier or TokenVerifier(
        issuer=settings.keycloak_issuer,
        audience=settings.keycloak_audience,
        jwks_url=settings.jwks_url,
    )
    app.state.templates = environment()
    i18n.load_catalogs()

    # Outermost first: headers on every answer, then the session for everything inside.
    app.add_middleware(SessionMiddleware, store=store, secure=settings.cookie_secure)
    app.add_middleware(SecurityHeadersMiddleware, keycloak_origin=settings.keycloak_origin)

    @app.exception_handler(auth.LoginRequired)
    async def _to_login(request: Request, exc: Exception) -> Response:
        target = f"/login?next={request.url.path}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 401:
            # The gateway refused the token (revoked, expired early): log in again.
            session = maybe_session(request)
            if session is not None:
                session.tokens = None
                session.principal = None
            return await _to_login(request, exc)
        status = exc.status if exc.status in (403, 404, 503) else 502
        reason = {403: "not-found", 404: "not-found", 503: "service-unavailable"}.get(
            exc.status, "error"
        )
        return render(request, "error.html", {"reason": reason}, status_code=status)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", {"reason": "csrf"}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        reason = "not-found" if status == 404 else "error"
        return render(request, "error.html", {"reason": reason}, status_code=status)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.include_router(auth.router)
    app.mount("/static", assets.static_app(settings.node_modules), name="static")
    for router in pages.ROUTERS:
        app.include_router(router)
    return app
