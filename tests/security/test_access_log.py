"""The gateway's access log names the route template, status and timing, never the raw path
(record ids) or the query string (personal data: a purpose, a search term) (issue 10, REG-9).

The gateway is served by uvicorn exactly as `python -m gateway` serves it (`UVICORN_OPTIONS`),
so uvicorn's own access log, which logs raw paths with their query strings, would show here too.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from devstack.ports import free_port
from gateway.access_log import UVICORN_OPTIONS
from gateway.app import create_app
from gateway.settings import SERVICES, GatewaySettings
from tests.gateway.conftest import CLOSED_PORT, PRINCIPALS, bearer
from tests.gateway.doubles import FakeVerifier


@pytest.fixture
async def served() -> AsyncIterator[str]:
    """The gateway with every service down (the answers are 503s; only the log matters)."""
    settings = GatewaySettings(
        nats_url=f"nats://{CLOSED_PORT}",
        call_timeout_seconds=2,
        **{f"{name}_addr": CLOSED_PORT for name in SERVICES},
    )
    app = create_app(settings, verifier=FakeVerifier(PRINCIPALS))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", **UVICORN_OPTIONS)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_access_log_has_templates_status_and_timing_only(
    served: str, caplog: pytest.LogCaptureFixture
) -> None:
    stay_id = str(uuid.uuid4())
    canary = "Canary" + secrets.token_hex(6)
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(base_url=served, headers=bearer("head")) as http:
        answers = [
            await http.get(f"/v1/stays/{stay_id}", params={"name": canary}),
            await http.get("/v1/notices", params={"subject": f"stay/{stay_id}", "q": canary}),
            await http.get(f"/v1/{canary}/{stay_id}"),  # no route: a 404
        ]
    assert [a.status_code for a in answers][2] == 404
    # The test's own client logs the URLs it calls; the gateway must not.
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("http"))
    assert canary not in text and stay_id not in text, text
    access = [r.getMessage() for r in caplog.records if r.name == "gateway.access"]
    assert len(access) == 3, access
    method, route, status, timing = access[0].split(" ")
    assert (method, route, status) == ("GET", "/v1/stays/{stay_id}", str(answers[0].status_code))
    assert timing.endswith("ms") and float(timing.removesuffix("ms")) >= 0
    assert access[1].startswith("GET /v1/notices ")
    assert access[2].startswith("GET - 404 ")
    assert not [r for r in caplog.records if r.name.startswith("uvicorn.access")]
