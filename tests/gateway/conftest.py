"""A gateway app on an in-process transport, wired to fake services on a free local port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
from fastapi import FastAPI
from grpc_health.v1 import health, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kamqor.intake.v1 import intake_pb2_grpc
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2_grpc
from tests.gateway.doubles import (
    FakeIntake,
    FakeNotify,
    FakeShelter,
    FakeVerifier,
    Recorder,
    principal,
)

PRINCIPALS = {
    "shelter-op": principal("shelter-operator", token="shelter-op"),
    "hotline": principal("hotline-operator", token="hotline"),
    "head": principal("center-head", token="head"),
    "police": principal("agency-coordinator", token="police"),
    "analyst": principal("analyst", token="analyst"),
}
CLOSED_PORT = "127.0.0.1:1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class FakeServices:
    addr: str
    recorder: Recorder
    health: health.aio.HealthServicer


@dataclass
class Gateway:
    app: FastAPI
    http: httpx.AsyncClient
    services: FakeServices
    spans: InMemorySpanExporter


@pytest.fixture
async def fake_services() -> AsyncIterator[FakeServices]:
    recorder = Recorder()
    health_servicer = health.aio.HealthServicer()
    server = grpc.aio.server()
    shelter_pb2_grpc.add_ShelterServiceServicer_to_server(FakeShelter(recorder), server)
    notify_pb2_grpc.add_NotifyServiceServicer_to_server(FakeNotify(recorder), server)
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(FakeIntake(recorder), server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield FakeServices(f"127.0.0.1:{port}", recorder, health_servicer)
    await server.stop(0)


@pytest.fixture
async def gateway(fake_services: FakeServices) -> AsyncIterator[Gateway]:
    """Shelter and notify answer from the fakes; intake, plans and registry are down (see
    `intake_up`; plans and registry routes have fakes of their own in their tests); no NATS."""
    settings = GatewaySettings(
        intake_addr=CLOSED_PORT,
        plans_addr=CLOSED_PORT,
        registry_addr=CLOSED_PORT,
        shelter_addr=fake_services.addr,
        notify_addr=fake_services.addr,
        nats_url=f"nats://{CLOSED_PORT}",
        call_timeout_seconds=5,
    )
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(settings, verifier=FakeVerifier(PRINCIPALS), tracer_provider=provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield Gateway(app, http, fake_services, spans)


@pytest.fixture
def intake_up(gateway: Gateway) -> Gateway:
    """The same gateway with intake answering from the fake server too."""
    clients = gateway.app.state.clients
    clients._channels["intake"] = clients.channel("shelter")
    return gateway
