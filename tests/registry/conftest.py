"""The registry service each test module of this folder talks to over real gRPC: one instance per
module (its own database), on the session's PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kamqor.registry.v1 import registry_pb2_grpc
from kamqor.runtime import ServiceApp
from registry.app import create_app
from tests.support.services import channel_to, running_service


@pytest.fixture(scope="module")
async def registry_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_app, name="registry", postgres=postgres, nats_server=nats_server, keycloak=keycloak
    ) as app:
        yield app


@pytest.fixture(scope="module")
async def stub(registry_app: ServiceApp) -> AsyncIterator[registry_pb2_grpc.RegistryServiceStub]:
    async with channel_to(registry_app) as channel:
        yield registry_pb2_grpc.RegistryServiceStub(channel)
