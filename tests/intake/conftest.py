"""The intake service each test module of this folder talks to over real gRPC: one instance per
module (its own database), on the session's PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from intake.app import create_app
from kamqor.intake.v1 import intake_pb2_grpc
from kamqor.runtime import ServiceApp
from tests.support.services import channel_to, running_service


@pytest.fixture(scope="module")
async def intake_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_app, name="intake", postgres=postgres, nats_server=nats_server, keycloak=keycloak
    ) as app:
        yield app


@pytest.fixture(scope="module")
async def stub(intake_app: ServiceApp) -> AsyncIterator[intake_pb2_grpc.IntakeServiceStub]:
    async with channel_to(intake_app) as channel:
        yield intake_pb2_grpc.IntakeServiceStub(channel)
