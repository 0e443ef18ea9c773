"""Liveness and readiness.

`/healthz` answers 200 while the process runs. `/readyz` answers 200 only when every one of the
five services (`settings.SERVICES`, whether or not a route calls it) reports SERVING on the
standard gRPC health check and the broker is connected; otherwise 503, naming each part and its
state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from gateway.grpc_clients import Clients
from gateway.settings import SERVICES
from kamqor.broker import Broker

router = APIRouter(tags=["health"])

PartState = TypeAliasType(
    "PartState", Literal["serving", "not-serving", "unreachable", "connected", "disconnected"]
)


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


ReadyState = TypeAliasType("ReadyState", Literal["ready", "not-ready"])


class Readiness(BaseModel):
    status: ReadyState
    parts: dict[str, PartState] = Field(
        examples=[{"intake": "serving", "shelter": "unreachable", "broker": "connected"}]
    )


async def service_state(channel: grpc.aio.Channel, wait_seconds: float) -> PartState:
    """The answer of one service's overall health check (service name "")."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=wait_seconds)
    except grpc.aio.AioRpcError:
        return "unreachable"
    serving = reply.status == health_pb2.HealthCheckResponse.SERVING
    return "serving" if serving else "not-serving"


async def _state_of(clients: Clients, name: str, wait_seconds: float) -> PartState:
    if name not in clients.names:  # no channel opened to it: it cannot answer
        return "unreachable"
    return await service_state(clients.channel(name), wait_seconds)


async def readiness(
    clients: Clients, broker: Broker, wait_seconds: float, services: Sequence[str] = SERVICES
) -> Readiness:
    """Every one of `services` and the broker; a service without a channel is unreachable."""
    states = await asyncio.gather(*(_state_of(clients, n, wait_seconds) for n in services))
    parts: dict[str, PartState] = dict(zip(services, states, strict=True))
    parts["broker"] = "connected" if broker.is_connected else "disconnected"
    ready = all(s in ("serving", "connected") for s in parts.values())
    return Readiness(status="ready" if ready else "not-ready", parts=parts)


@router.get("/healthz", operation_id="getLiveness", summary="Liveness: the process runs")
async def healthz() -> Liveness:
    return Liveness()


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness: every service SERVING and the broker connected",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Some part is not ready"}},
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    report = await readiness(state.clients, state.broker, state.settings.health_timeout_seconds)
    return JSONResponse(report.model_dump(), status_code=200 if report.status == "ready" else 503)
