"""Signed receipts from the recipient agencies' systems (NTF-7), through the real gateway's
public `POST /v1/notices/receipts` to notify's real gRPC, on real PostgreSQL, NATS and Keycloak.

The signature is the authentication: no bearer token is taken or needed. A call without the
signature headers, with a bad signature, a stale timestamp or only a bearer token is a 401; a
receipt for another agency's notice a 404, a receipt id reused for another notice a 409; in
each case nothing is written. A good receipt acknowledges the notice once; its replay changes
nothing. The suite's clock is pinned: the signatures' timestamps are read from it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from sqlmodel import col, func, select

from kamqor.clock import utcnow
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.runtime import ServiceApp
from notify import rules, signing
from notify.channels import Channels
from notify.models import Notice, Receipt
from tests.notify.harness import running_notify, serving_gateway
from tests.notify.test_delivery import admission, notices_of, publish
from tests.support.services import bearer

POLICE_SECRET = "police-receipts-secret-0123456789"
GUARDIANSHIP_SECRET = "guardianship-receipts-secret-0123"
POLICE = "kz-ast/police"
GUARDIANSHIP = "kz-ast/guardianship"
USERS = ("police.ast", "guardianship.ast")
RECEIPTS = "/v1/notices/receipts"


@dataclass
class Stack:
    notify: ServiceApp
    stub: notify_pb2_grpc.NotifyServiceAsyncStub
    base_url: str
    tokens: dict[str, str]
    nats_url: str


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # Nothing is sent here (no delivery worker): the receipts are what is checked.
    channels = Channels.model_validate(
        {
            "poll_seconds": None,
            "agencies": {
                POLICE: [
                    {"kind": "webhook", "url": "http://127.0.0.1:9/p", "secret": POLICE_SECRET}
                ],
                GUARDIANSHIP: [
                    {
                        "kind": "webhook",
                        "url": "http://127.0.0.1:9/g",
                        "secret": GUARDIANSHIP_SECRET,
                    }
                ],
            },
        }
    )
    async with (
        running_notify(postgres, nats_server, keycloak, channels=channels) as (notify, stub),
        serving_gateway(nats_server, keycloak, notify_addr=f"127.0.0.1:{notify.port}") as url,
    ):
        yield Stack(
            notify=notify,
            stub=stub,
            base_url=url,
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,
        )


async def admitted_notices(stack: Stack) -> dict[str, Notice]:
    """A fresh admission's notices, by recipient agency type (police, guardianship)."""
    admitted = admission()
    await publish(stack, admitted)  # type: ignore[arg-type]
    return await notices_of(stack, admitted.stay_id)  # type: ignore[arg-type]


def body_of(notice_id: str, receipt_id: str | None = None) -> bytes:
    return json.dumps(
        {"receipt_id": receipt_id or str(uuid.uuid4()), "notice_id": notice_id}
    ).encode()


def signed(
    body: bytes, *, sender: str = POLICE, secret: str = POLICE_SECRET, late: int = 0
) -> dict[str, str]:
    """The headers of a receipt signed `late` seconds ago."""
    at = int(utcnow().timestamp()) - late
    return {
        "Content-Type": "application/json",
        signing.SENDER_HEADER: sender,
        signing.TIMESTAMP_HEADER: str(at),
        signing.SIGNATURE_HEADER: signing.sign(secret, at, body),
    }


async def post(stack: Stack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=20) as http:
        return await http.post(RECEIPTS, content=body, headers=headers)


async def written(stack: Stack, notice_id: str) -> tuple[str, int]:
    """The notice's state and how many receipts it has."""
    assert stack.notify.wiring is not None
    async with stack.notify.wiring.uow() as session:
        notice = await session.get(Notice, notice_id)
        count = await session.scalar(
            select(func.count()).select_from(Receipt).where(col(Receipt.notice_id) == notice_id)
        )
    assert notice is not None
    return notice.state, int(count or 0)


def _refusals(stack: Stack, body: bytes) -> dict[str, dict[str, str]]:
    good = signed(body)
    tampered = {**good, signing.SIGNATURE_HEADER: signing.sign(POLICE_SECRET, 1, body)}
    return {
        "no headers": {"Content-Type": "application/json"},
        "a bearer token only": {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {stack.tokens['police.ast']}",
        },
        "no signature": {k: v for k, v in good.items() if k != signing.SIGNATURE_HEADER},
        "another secret": signed(body, secret=GUARDIANSHIP_SECRET),
        "a signature over another timestamp": tampered,
        "a signature over another body": signed(body + b" "),
        "stale": signed(body, late=signing.TOLERANCE_SECONDS + 5),
        "from the future": signed(body, late=-(signing.TOLERANCE_SECONDS + 5)),
        "an unknown sender": signed(body, sender="kz-ast/unknown"),
        "a catch-all sender not configured": signed(body, sender="*/police"),
    }


async def test_ntf7_an_unsigned_or_badly_signed_receipt_is_401_and_nothing_is_written(
    stack: Stack,
) -> None:
    notices = await admitted_notices(stack)
    police = notices["police"]
    body = body_of(police.id)
    for case, headers in _refusals(stack, body).items():
        response = await post(stack, body, headers)
        assert response.status_code == 401, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        assert response.json()["type"].endswith("/unauthenticated"), case
        assert response.headers["www-authenticate"].startswith("KamqorSignature"), case
        assert POLICE_SECRET not in response.text
    assert await written(stack, police.id) == (rules.NoticeState.PENDING, 0)


async def test_ntf7_the_service_itself_refuses_a_receipt_without_a_signature(
    stack: Stack,
) -> None:
    """Straight over gRPC, past the gateway: a bearer token does not stand in for it."""
    police = (await admitted_notices(stack))["police"]
    for request in (
        pb.RecordReceiptRequest(body=body_of(police.id)),
        pb.RecordReceiptRequest(
            sender=POLICE, timestamp=str(int(utcnow().timestamp())), body=body_of(police.id)
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stack.stub.RecordReceipt(request, metadata=bearer(stack.tokens["police.ast"]))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await written(stack, police.id) == (rules.NoticeState.PENDING, 0)


async def test_ntf7_a_receipt_for_another_agencys_notice_is_refused_and_nothing_written(
    stack: Stack,
) -> None:
    notices = await admitted_notices(stack)
    guardianship = notices["guardianship"]
    # The police's system, correctly signed, about the guardianship's notice; and about none.
    for notice_id in (guardianship.id, str(uuid.uuid4())):
        body = body_of(notice_id)
        response = await post(stack, body, signed(body))
        assert response.status_code == 404, response.text
        assert "addressed to this sender" in response.json()["detail"]
    assert await written(stack, guardianship.id) == (rules.NoticeState.PENDING, 0)


async def test_ntf7_a_signed_receipt_acknowledges_the_notice_once(stack: Stack) -> None:
    notices = await admitted_notices(stack)
    police, guardianship = notices["police"], notices["guardianship"]
    receipt_id = str(uuid.uuid4())
    body = body_of(police.id, receipt_id)
    first = await post(stack, body, signed(body))
    assert first.status_code == 200, first.text
    recorded: dict[str, Any] = first.json()
    assert recorded["receipt_id"] == receipt_id
    assert recorded["notice_id"] == police.id
    assert recorded["first"] is True
    assert await written(stack, police.id) == (rules.NoticeState.ACKNOWLEDGED, 1)
    # The police of the territory read it as acknowledged by their system.
    seen = await stack.stub.GetNotice(
        pb.GetNoticeRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ast"])
    )
    assert seen.notice.state == pb.NOTICE_STATE_ACKNOWLEDGED
    assert seen.notice.acknowledged_by_agency == POLICE

    # The same receipt again, re-signed (a retry) or as it was (a replay within the window).
    for headers in (signed(body), first.request.headers):
        again = await post(stack, body, dict(headers))
        assert again.status_code == 200, again.text
        assert again.json() == {**recorded, "first": False}
    assert await written(stack, police.id) == (rules.NoticeState.ACKNOWLEDGED, 1)

    # Its id for another notice, by the system that notice is addressed to: a conflict.
    reused = body_of(guardianship.id, receipt_id)
    response = await post(
        stack, reused, signed(reused, sender=GUARDIANSHIP, secret=GUARDIANSHIP_SECRET)
    )
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/receipt-id-reused")
    assert await written(stack, guardianship.id) == (rules.NoticeState.PENDING, 0)


async def test_ntf7_a_signed_receipt_with_a_bad_body_names_the_field(stack: Stack) -> None:
    police = (await admitted_notices(stack))["police"]
    cases: list[tuple[dict[str, str], str]] = [
        ({"receipt_id": str(uuid.uuid4())}, "notice_id"),
        ({"receipt_id": "r-1", "notice_id": police.id}, "receipt_id"),
        ({"receipt_id": str(uuid.uuid4()), "notice_id": police.id, "note": "x"}, "note"),
    ]
    for payload, field in cases:
        body = json.dumps(payload).encode()
        response = await post(stack, body, signed(body))
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await written(stack, police.id) == (rules.NoticeState.PENDING, 0)
