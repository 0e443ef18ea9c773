"""Only Kamqor's own clients of the realm get in (issue 10, "Tokens from any client").

A client added to the realm later (an integration someone set up, a test client left behind)
gets no gateway audience and no Kamqor claims by default; and even if an administrator gives it
Kamqor's scope, its tokens are refused by the gateway (401) and by every service
(UNAUTHENTICATED), because its client id (`azp`) is not in `KAMQOR_ALLOWED_CLIENTS`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import jwt
import pytest

from devstack.tokens import password_token
from kamqor.auth import KAMQOR_CLIENTS
from kamqor.intake.v1 import intake_pb2, intake_pb2_grpc
from tests.e2e.harness import Suite
from tests.security.conftest import realm_admin

pytestmark = pytest.mark.e2e

AUDIENCE = "kamqor-gateway"
USER = "caseworker.ast"


@pytest.fixture
def foreign_client(suite: Suite) -> Iterator[str]:
    """A new client created through the admin API with the realm's defaults; it only turns on
    direct grants so the test can get a token for a demo user."""
    admin = realm_admin(suite.keycloak)
    client_id = f"foreign-{uuid.uuid4().hex[:8]}"
    internal = admin.create_client(
        {"clientId": client_id, "publicClient": True, "directAccessGrantsEnabled": True}
    )
    try:
        yield client_id
    finally:
        admin.delete_client(internal)


def _claims(token: str) -> dict[str, object]:
    claims: dict[str, object] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def _answers(suite: Suite, token: str) -> tuple[int, grpc.StatusCode]:
    """The gateway's status for `GET /v1/appeals` and intake's code for `ListAppeals`."""
    headers = {"Authorization": f"Bearer {token}"}
    async with suite.client() as http:
        status = (await http.get("/v1/appeals", headers=headers)).status_code
    async with grpc.aio.insecure_channel(f"127.0.0.1:{suite.apps['intake'].port}") as channel:
        try:
            await intake_pb2_grpc.IntakeServiceStub(channel).ListAppeals(
                intake_pb2.ListAppealsRequest(), metadata=(("authorization", f"Bearer {token}"),)
            )
            code = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as exc:
            code = exc.code()
    return status, code


async def test_kamqor_clients_get_in(suite: Suite) -> None:
    """The control: the same user through Kamqor's own (development) client."""
    assert await _answers(suite, suite.token(USER)) == (200, grpc.StatusCode.OK)


async def test_a_new_client_with_default_settings_is_refused(
    suite: Suite, foreign_client: str
) -> None:
    assert foreign_client not in KAMQOR_CLIENTS
    token = password_token(suite.keycloak.base_url, USER, client_id=foreign_client)
    claims = _claims(token)
    audience = claims.get("aud") or []
    assert AUDIENCE not in (audience if isinstance(audience, list) else [audience])
    assert "territory" not in claims, "Kamqor's claims are not a realm default"
    assert await _answers(suite, token) == (401, grpc.StatusCode.UNAUTHENTICATED)


async def test_a_new_client_given_kamqor_scope_is_still_refused(
    suite: Suite, foreign_client: str
) -> None:
    """The audience and the claims are right; the authorized party is not one of Kamqor's."""
    admin = realm_admin(suite.keycloak)
    internal = admin.get_client_id(foreign_client)
    assert internal is not None
    [scope] = [s for s in admin.get_client_scopes() if s["name"] == "kamqor-claims"]
    admin.add_client_default_client_scope(internal, scope["id"], {})
    token = password_token(suite.keycloak.base_url, USER, client_id=foreign_client)
    claims = _claims(token)
    audience = claims.get("aud") or []
    assert AUDIENCE in (audience if isinstance(audience, list) else [audience])
    assert (claims["territory"], claims["azp"]) == ("kz-ast", foreign_client)
    assert await _answers(suite, token) == (401, grpc.StatusCode.UNAUTHENTICATED)
