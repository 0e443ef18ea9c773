"""The whole suite in the test process: five services and the gateway on loopback ports, on the
session's real PostgreSQL, NATS JetStream and Keycloak, every span collected in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import httpx
import uvicorn
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.ports import free_port
from devstack.postgres import PostgresCluster
from gateway.access_log import UVICORN_OPTIONS
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from intake.app import create_app as create_intake
from kamqor.runtime import ServiceApp
from notify.app import create_app as create_notify
from notify.channels import Channels
from plans.app import create_app as create_plans
from registry.app import create_app as create_registry
from shelter.app import create_app as create_shelter
from tests.support.services import running_service

SERVICES: dict[str, Callable[..., ServiceApp]] = {
    "intake": create_intake,
    "plans": create_plans,
    "registry": create_registry,
    "shelter": create_shelter,
    "notify": create_notify,
}


@dataclass
class Suite:
    base_url: str
    spans: InMemorySpanExporter
    apps: dict[str, ServiceApp]
    keycloak: KeycloakServer
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = self.keycloak.token(username)
        return self.tokens[username]

    def client(self, username: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=20)


def _provider(name: str, exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"kamqor-{name}"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@asynccontextmanager
async def running_suite(
    *,
    postgres: PostgresCluster,
    nats_server: NatsServer,
    keycloak: KeycloakServer,
    notify_channels: Channels | None = None,
) -> AsyncIterator[Suite]:
    """`notify_channels`: the agencies' delivery channels; without them every notice is a
    registered letter."""
    spans = InMemorySpanExporter()
    async with AsyncExitStack() as stack:
        apps: dict[str, ServiceApp] = {}
        for name, create in SERVICES.items():
            if name == "notify" and notify_channels is not None:
                create = partial(create_notify, channels=notify_channels)
            apps[name] = await stack.enter_async_context(
                running_service(
                    create,
                    name=name,
                    postgres=postgres,
                    nats_server=nats_server,
                    keycloak=keycloak,
                    tracer_provider=_provider(name, spans),
                )
            )
        port = free_port()
        settings = GatewaySettings(
            environment="test",
            nats_url=nats_server.url,
            nats_user=nats_server.credentials("gateway").user,
            nats_password=nats_server.credentials("gateway").password,
            keycloak_issuer=keycloak.issuer,
            listen_port=port,
            **{f"{name}_addr": f"127.0.0.1:{app.port}" for name, app in apps.items()},
        )
        gateway = create_gateway(settings, tracer_provider=_provider("gateway", spans))
        server = uvicorn.Server(
            uvicorn.Config(gateway, host="127.0.0.1", port=port, lifespan="on", **UVICORN_OPTIONS)
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        try:
            yield Suite(
                base_url=f"http://127.0.0.1:{port}", spans=spans, apps=apps, keycloak=keycloak
            )
        finally:
            server.should_exit = True
            await task
