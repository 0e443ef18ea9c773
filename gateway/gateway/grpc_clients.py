"""One gRPC channel per service, opened at start-up, and the options of every call.

Each call carries the caller's bearer token (`authorization` metadata; the service verifies it
again) and a deadline. The OpenTelemetry client interceptor adds `traceparent`, so one trace
spans the gateway and the services.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Annotated, TypedDict

import grpc
from fastapi import Depends, Request
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.trace import TracerProvider

from kamqor.auth import Principal
from kamqor.grpcserver import MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES

log = logging.getLogger(__name__)

_CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_permit_without_calls", 0),
    # Spread calls over every address the name resolves to (a headless Service in Kubernetes);
    # the services cap connection age, so new replicas are picked up too.
    ("grpc.lb_policy_name", "round_robin"),
    # The services' own limits (kit `grpcserver`): a request as large as an accepted HTTP body.
    ("grpc.max_send_message_length", MAX_REQUEST_BYTES),
    ("grpc.max_receive_message_length", MAX_RESPONSE_BYTES),
)


class CallOptions(TypedDict):
    metadata: tuple[tuple[str, str], ...]
    timeout: float


class Clients:
    """The open channels by service name (`intake`, `shelter`, ...)."""

    def __init__(self, channels: Mapping[str, grpc.aio.Channel], *, timeout: float) -> None:
        self._channels = dict(channels)
        self.timeout = timeout

    @classmethod
    def open(
        cls,
        addrs: Mapping[str, str],
        *,
        timeout: float,
        tracer_provider: TracerProvider | None = None,
    ) -> Clients:
        """Channels connect lazily: the gateway starts even when a service is down."""
        channels: dict[str, grpc.aio.Channel] = {}
        for name, addr in addrs.items():
            tracing = aio_client_interceptors(tracer_provider=tracer_provider)  # type: ignore[no-untyped-call]
            channels[name] = grpc.aio.insecure_channel(
                addr, options=_CHANNEL_OPTIONS, interceptors=tracing
            )
        log.info("gRPC channels: %s", ", ".join(f"{n}={a}" for n, a in addrs.items()))
        return cls(channels, timeout=timeout)

    @property
    def names(self) -> Sequence[str]:
        return tuple(self._channels)

    def channel(self, name: str) -> grpc.aio.Channel:
        return self._channels[name]

    def options(self, principal: Principal) -> CallOptions:
        """Keyword arguments for a stub call made on behalf of `principal`."""
        return CallOptions(
            metadata=(("authorization", f"Bearer {principal.token}"),),
            timeout=self.timeout,
        )

    async def close(self, grace: float = 2.0) -> None:
        await asyncio.gather(*(c.close(grace) for c in self._channels.values()))


async def clients_of(request: Request) -> Clients:
    """`async def`: FastAPI runs a plain `def` dependency in its thread pool, a round trip
    through a worker thread per request for an attribute lookup."""
    clients: Clients = request.app.state.clients
    return clients


GrpcClients = Annotated[Clients, Depends(clients_of)]
