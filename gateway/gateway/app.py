"""Wiring of the gateway: settings, verifier, channels, broker, routes, telemetry.

Nothing happens at import time: `create_app` builds an app, its lifespan opens one gRPC channel
to each of the five services (channels connect lazily) and connects to NATS in the background,
so the gateway starts, and `/readyz` says what is missing, while a part is still down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.trace import TracerProvider

from gateway import health, openapi, problems
from gateway.access_log import AccessLogMiddleware
from gateway.bodies import BodyLimitMiddleware
from gateway.grpc_clients import Clients
from gateway.routes import ROUTERS
from gateway.settings import SERVICES, GatewaySettings
from kamqor.auth import TokenVerifier
from kamqor.broker import Broker

log = logging.getLogger(__name__)

DESCRIPTION = """\
REST API of Kamqor, the case-management platform of family support centers.

Every `/v1` route needs a Keycloak access token (`Authorization: Bearer ...`) and one of the
roles listed on the route. Errors are RFC 9457 problem details (`application/problem+json`)
whose `type` is stable per error; invalid input lists each field in `errors`.

Request bodies are `application/json` in UTF-8 (415 otherwise) of at most 1 MiB (1048576
bytes; 413 otherwise, decided from `Content-Length` before the body is read, or as a chunked
body arrives). A name given twice in one JSON object is a 422 naming it. Text fields refuse
control characters (Unicode Cc; free-text fields such as a summary or a reason keep line
breaks and tabs) and lone surrogates; birth dates are neither in the future nor more than 120
years back. A create route with an `Idempotency-Key` returns the first result for a retry with
the same body, answers 422 `idempotency-key-reused` for the same key with another body, and
409 `idempotency-key-in-flight` while the first request is still being processed.

A date is a `YYYY-MM-DD` string and nothing else (not a number, not a date-time). A page token
is opaque: pass `next_page_token` back unchanged as `page_token`; anything else is a 422 naming
it. A method a path does not take is a 405 whose `Allow` lists the ones it does.
"""


def _lifespan(
    settings: GatewaySettings, tracer_provider: TracerProvider | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clients = Clients.open(
            {name: settings.addr(name) for name in SERVICES},
            timeout=settings.call_timeout_seconds,
            tracer_provider=tracer_provider,
        )
        broker = Broker(
            settings.nats_url, name="kamqor-gateway", **settings.broker_options("gateway")
        )
        broker.start()
        app.state.clients = clients
        app.state.broker = broker
        try:
            yield
        finally:
            await broker.close()
            await clients.close()
            log.info("gateway stopped")

    return lifespan


def create_app(
    settings: GatewaySettings,
    *,
    verifier: TokenVerifier | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The gateway app; `tracer_provider=None` uses OpenTelemetry's global provider."""
    app = FastAPI(
        title="Kamqor API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan(settings, tracer_provider),
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.verifier = verifier or TokenVerifier(
        issuer=settings.keycloak_issuer,
        audience=settings.keycloak_audience,
        jwks_url=settings.jwks_url,
        allowed_clients=settings.allowed_clients,
    )
    # Inside the catch-all, so its own 413 is never mistaken for a fault.
    app.add_middleware(BodyLimitMiddleware)
    problems.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "traceparent"],
            expose_headers=["Location"],
        )
    # Outermost: one line per request with the route template, status and timing (REG-9).
    app.add_middleware(AccessLogMiddleware)
    app.include_router(health.router)
    for router in ROUTERS.values():
        app.include_router(router)
    openapi.install(app, ROUTERS.values())
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider, excluded_urls="/healthz,/readyz"
    )
    return app
