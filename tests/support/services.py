"""Start services in the test process against the session's real PostgreSQL, NATS and Keycloak.

Each service runs its real gRPC server on a loopback port, migrates its own fresh database and
talks to the real broker, so a use case is exercised exactly as in production, wire included.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import grpc
from opentelemetry.sdk.trace import TracerProvider

from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.postgres import PostgresCluster
from kamqor.runtime import ServiceApp
from kamqor.settings import ServiceSettings

StubT = TypeVar("StubT")


def service_settings(
    name: str,
    *,
    database_url: str,
    nats_server: NatsServer,
    keycloak: KeycloakServer,
    **overrides: Any,
) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": name,
        "environment": "test",
        "grpc_listen": "127.0.0.1:0",
        "database_url": database_url,
        "nats_url": nats_server.url,
        # Each service connects as its own NATS user, with only its own subjects.
        "nats_user": nats_server.credentials(name).user,
        "nats_password": nats_server.credentials(name).password,
        "keycloak_issuer": keycloak.issuer,
        "relay_poll_seconds": 0.2,
        "sweep_interval_seconds": 3600.0,
    }
    values.update(overrides)
    return ServiceSettings(**values)


def fresh_database(postgres: PostgresCluster, name: str) -> str:
    db = f"{name}_{uuid.uuid4().hex[:10]}"
    postgres.create_database(db)
    return postgres.url(db)


@asynccontextmanager
async def running_service(
    create_app: Callable[..., ServiceApp],
    *,
    name: str,
    postgres: PostgresCluster,
    nats_server: NatsServer,
    keycloak: KeycloakServer,
    database_url: str | None = None,
    tracer_provider: TracerProvider | None = None,
    wait_ready: bool = True,
    **overrides: Any,
) -> AsyncIterator[ServiceApp]:
    """A started service on a fresh database (or `database_url`); stopped on exit.

    `wait_ready=False` when the broker is down on purpose: the service then takes calls but
    stays NOT_SERVING until the broker is back.
    """
    settings = service_settings(
        name,
        database_url=database_url or fresh_database(postgres, name),
        nats_server=nats_server,
        keycloak=keycloak,
        **overrides,
    )
    app = create_app(settings, tracer_provider=tracer_provider)
    await app.migrate()  # the `migrate` step, as `python -m <service> migrate` runs it
    await app.start()
    if wait_ready:
        await asyncio.wait_for(app.ready.wait(), timeout=30)
    try:
        yield app
    finally:
        await app.stop(grace=0.5)


@asynccontextmanager
async def channel_to(app: ServiceApp) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield channel


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
