"""The gateway in front of one fake service (the other four unreachable), for route tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import httpx
from fastapi import FastAPI
from grpc_health.v1 import health, health_pb2_grpc

from gateway.app import create_app
from gateway.settings import SERVICES, GatewaySettings
from kamqor.auth import Principal
from tests.gateway.conftest import CLOSED_PORT
from tests.gateway.doubles import FakeVerifier, Recorder


class Api:
    def __init__(self, app: FastAPI, http: httpx.AsyncClient, recorder: Recorder) -> None:
        self.app = app
        self.http = http
        self.recorder = recorder

    def only_call(self) -> tuple[str, Any, dict[str, str]]:
        [call] = self.recorder.calls
        return call


@asynccontextmanager
async def gateway_before(
    service: str,
    add_fake: Callable[[grpc.aio.Server, Recorder], None],
    principals: dict[str, Principal],
) -> AsyncIterator[Api]:
    """Serve `service` with the fake `add_fake` registers, and the gateway in front of it."""
    recorder = Recorder()
    server = grpc.aio.server()
    add_fake(server, recorder)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    values: dict[str, Any] = {f"{name}_addr": CLOSED_PORT for name in SERVICES}
    values[f"{service}_addr"] = f"127.0.0.1:{port}"
    values.update(nats_url=f"nats://{CLOSED_PORT}", call_timeout_seconds=5)
    settings = GatewaySettings.model_validate(values)
    app = create_app(settings, verifier=FakeVerifier(principals))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
                yield Api(app, http, recorder)
    finally:
        await server.stop(0)
