"""Liveness always; readiness only with every service SERVING and the broker connected."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2

from tests.gateway.conftest import Gateway


class ConnectedBroker:
    is_connected = True


async def test_liveness_needs_nothing(gateway: Gateway) -> None:
    response = await gateway.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "alive"})


async def test_not_ready_names_what_is_down(gateway: Gateway) -> None:
    await gateway.services.health.set("", health_pb2.HealthCheckResponse.SERVING)
    response = await gateway.http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not-ready",
        "parts": {
            "intake": "unreachable",
            "plans": "unreachable",
            "registry": "unreachable",
            "shelter": "serving",
            "notify": "serving",
            "broker": "disconnected",
        },
    }


@pytest.fixture
def all_up(intake_up: Gateway) -> Gateway:
    """Every service answers from the fake server, and the broker is connected."""
    clients = intake_up.app.state.clients
    for name in ("plans", "registry"):
        clients._channels[name] = clients.channel("shelter")
    intake_up.app.state.broker = ConnectedBroker()
    return intake_up


async def test_ready_when_everything_serves(all_up: Gateway) -> None:
    await all_up.services.health.set("", health_pb2.HealthCheckResponse.SERVING)
    response = await all_up.http.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_every_service_counts_even_without_a_route(all_up: Gateway) -> None:
    await all_up.services.health.set("", health_pb2.HealthCheckResponse.SERVING)
    del all_up.app.state.clients._channels["registry"]
    response = await all_up.http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["parts"]["registry"] == "unreachable"


async def test_not_serving_is_not_ready(all_up: Gateway) -> None:
    await all_up.services.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    response = await all_up.http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["parts"]["shelter"] == "not-serving"
