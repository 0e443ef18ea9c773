"""What notify's tests run: the notify service with the channels a test configures, on the
session's real PostgreSQL, NATS and Keycloak, and the real gateway served on loopback in this
process in front of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import nats
import uvicorn

from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.ports import free_port
from devstack.postgres import PostgresCluster
from gateway.access_log import UVICORN_OPTIONS
from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.runtime import ServiceApp
from kamqor.streams import ensure_stream
from notify.app import create_app
from notify.channels import Channels
from tests.support.services import channel_to, running_service


@asynccontextmanager
async def running_notify(
    postgres: PostgresCluster,
    nats_server: NatsServer,
    keycloak: KeycloakServer,
    *,
    channels: Channels,
    streams: tuple[str, ...] = ("shelter",),
) -> AsyncIterator[tuple[ServiceApp, notify_pb2_grpc.NotifyServiceAsyncStub]]:
    """Notify with `channels`, and a gRPC stub to it. The `streams` of the producers whose
    events the test publishes itself are declared first, as those producers declare them."""
    nc = await nats.connect(nats_server.admin_url)
    try:
        for producer in streams:
            await ensure_stream(nc.jetstream(), producer, replicas=1)
    finally:
        await nc.close()
    async with (
        running_service(
            partial(create_app, channels=channels),
            name="notify",
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
        ) as notify,
        channel_to(notify) as channel,
    ):
        yield notify, notify_pb2_grpc.NotifyServiceStub(channel)


@asynccontextmanager
async def serving_gateway(
    nats_server: NatsServer, keycloak: KeycloakServer, **addrs: str
) -> AsyncIterator[str]:
    """The gateway's base URL; `addrs` are its service addresses (`notify_addr=...`)."""
    port = free_port()
    settings = GatewaySettings(
        environment="test",
        nats_url=nats_server.url,
        nats_user=nats_server.credentials("gateway").user,
        nats_password=nats_server.credentials("gateway").password,
        keycloak_issuer=keycloak.issuer,
        listen_port=port,
        **addrs,  # type: ignore[arg-type]
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_gateway(settings), host="127.0.0.1", port=port, lifespan="on", **UVICORN_OPTIONS
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
