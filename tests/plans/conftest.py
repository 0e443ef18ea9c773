"""What the plans test modules share: the service on the session's real PostgreSQL, NATS and
Keycloak, once per module, and the tokens of the module's `USERS`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kamqor.runtime import ServiceApp
from plans.app import create_app
from tests.support.services import running_service


@pytest.fixture(scope="module")
async def plans_app(postgres, nats_server, keycloak) -> AsyncIterator[ServiceApp]:  # type: ignore[no-untyped-def]
    async with running_service(
        create_app, name="plans", postgres=postgres, nats_server=nats_server, keycloak=keycloak
    ) as app:
        yield app


@pytest.fixture(scope="module")
def tokens(request: pytest.FixtureRequest, keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An access token per username in the test module's `USERS`."""
    return {u: keycloak.token(u) for u in request.module.USERS}
