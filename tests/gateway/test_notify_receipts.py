"""The gateway's side of the signed receipts route (NTF-7): the one `/v1` route without a bearer
token. It refuses a call without the signature headers itself (401, with its own challenge,
before the body is looked at and before any service is called), documents no security scheme
and no role, and forwards the raw body, exactly as signed, to notify (which verifies it:
`tests/notify/test_receipts.py` on the real stack)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.gateway.conftest import Gateway, bearer

ROUTE = "/v1/notices/receipts"
BODY = {"receipt_id": str(uuid.uuid4()), "notice_id": str(uuid.uuid4())}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("police"),
        {"X-Kamqor-Sender": "kz-ast/police", "X-Kamqor-Timestamp": "1700000000"},
        {"X-Kamqor-Sender": "kz-ast/police", "X-Kamqor-Signature": "sha256=00"},
        {"X-Kamqor-Timestamp": "1700000000", "X-Kamqor-Signature": "sha256=00"},
    ],
    ids=["none", "bearer-only", "no-signature", "no-timestamp", "no-sender"],
)
async def test_a_receipt_without_its_signature_is_401_before_any_call(
    gateway: Gateway, headers: dict[str, str]
) -> None:
    response = await gateway.http.post(ROUTE, json=BODY, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/unauthenticated")
    assert response.headers["www-authenticate"].startswith("KamqorSignature")
    assert gateway.services.recorder.calls == []


async def test_401_comes_before_validation(gateway: Gateway) -> None:
    response = await gateway.http.post(ROUTE, json={"junk": True})
    assert response.status_code == 401


def test_the_route_documents_its_signature_and_no_bearer_scheme() -> None:
    operation: dict[str, Any] = create_app(GatewaySettings()).openapi()["paths"][ROUTE]["post"]
    assert operation["security"] == []
    assert "x-required-roles" not in operation
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"X-Kamqor-Sender", "X-Kamqor-Timestamp", "X-Kamqor-Signature"}
    assert {"401", "404", "409", "422"} <= set(operation["responses"])
