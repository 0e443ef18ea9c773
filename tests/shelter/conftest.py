"""The shelter service each test module of this folder talks to over real gRPC: one instance per
module (its own database), on the session's PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kamqor.runtime import ServiceApp
from kamqor.shelter.v1 import shelter_pb2_grpc
from shelter.app import create_app
from tests.support.services import channel_to, running_service


@pytest.fixture(scope="module")
async def shelter_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_app, name="shelter", postgres=postgres, nats_server=nats_server, keycloak=keycloak
    ) as app:
        yield app


@pytest.fixture(scope="module")
async def stub(shelter_app: ServiceApp) -> AsyncIterator[shelter_pb2_grpc.ShelterServiceStub]:
    async with channel_to(shelter_app) as channel:
        yield shelter_pb2_grpc.ShelterServiceStub(channel)
