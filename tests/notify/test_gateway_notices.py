"""Notices through the gateway on the real stack (SHL-3, NTF-7): the police of the territory
follow a notice's deliveries and download its registered PDF letter; the police of another
territory see nothing of it; the wrong agency cannot acknowledge it and nothing is written."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pypdf
import pytest

from kamqor.clock import utcnow
from kamqor.runtime import ServiceApp
from notify.channels import Channels
from tests.notify.harness import running_notify, serving_gateway
from tests.notify.test_delivery import ADULT, MINORS, SHELTER, admission, notices_of, publish

USERS = ("police.ast", "police.ala", "guardianship.ast", "head.ast", "analyst.ast")


@dataclass
class Stack:
    notify: ServiceApp
    base_url: str
    tokens: dict[str, str]
    nats_url: str

    def client(self, user: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.tokens[user]}"},
            timeout=20,
        )


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # No channel configured: each notice goes out as a registered letter (kz: in writing).
    channels = Channels(poll_seconds=None)
    async with (
        running_notify(postgres, nats_server, keycloak, channels=channels) as (notify, _stub),
        serving_gateway(nats_server, keycloak, notify_addr=f"127.0.0.1:{notify.port}") as base_url,
    ):
        yield Stack(
            notify=notify,
            base_url=base_url,
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,
        )


async def test_shl3_ntf7_deliveries_and_the_letter_through_the_gateway_scoped_by_territory(
    stack: Stack,
) -> None:
    admitted = admission()
    await publish(stack, admitted)  # type: ignore[arg-type]
    found = await notices_of(stack, admitted.stay_id)  # type: ignore[arg-type]
    police = found["police"]
    assert stack.notify.sweeper is not None
    await stack.notify.sweeper.sweep_once(utcnow())

    async with stack.client("police.ast") as client:
        listed = await client.get("/v1/notices", params={"subject": f"stay/{admitted.stay_id}"})
        assert listed.status_code == 200
        assert [n["id"] for n in listed.json()["items"]] == [police.id]
        notice = listed.json()["items"][0]
        assert notice["state"] == "pending" and notice["delivered_at"] is not None
        deliveries = await client.get(f"/v1/notices/{police.id}/deliveries")
        assert deliveries.status_code == 200
        (letter_delivery,) = deliveries.json()["items"]
        assert (letter_delivery["channel"], letter_delivery["state"]) == ("letter", "delivered")
        letter = await client.get(f"/v1/notices/{police.id}/letter")
        assert letter.status_code == 200
        assert letter.headers["content-type"] == "application/pdf"
        number = letter.headers["x-registration-number"]
        assert number == letter_delivery["receipt"] and number.startswith("KZ-AST-")
        assert ADULT not in letter.headers["content-disposition"]
        text = pypdf.PdfReader(io.BytesIO(letter.content)).pages[0].extract_text()
        assert number in text and ADULT in text and MINORS[1][0] in text and SHELTER[0] in text

    # Another territory's police: as if it did not exist; an analyst: not a reader at all.
    async with stack.client("police.ala") as client:
        for path in ("", "/deliveries", "/letter"):
            assert (await client.get(f"/v1/notices/{police.id}{path}")).status_code == 404, path
        assert (await client.post(f"/v1/notices/{police.id}/ack")).status_code == 404
    async with stack.client("analyst.ast") as client:
        assert (await client.get(f"/v1/notices/{police.id}/letter")).status_code == 403

    # The wrong agency cannot acknowledge; nothing is written. The right one can.
    async with stack.client("guardianship.ast") as client:
        assert (await client.post(f"/v1/notices/{police.id}/ack")).status_code == 404
    async with stack.client("police.ast") as client:
        still = (await client.get(f"/v1/notices/{police.id}")).json()
        assert still["state"] == "pending" and still["acknowledged_by_agency"] is None
        acked = await client.post(f"/v1/notices/{police.id}/ack")
        assert acked.status_code == 200
        assert acked.json()["state"] == "acknowledged"
        assert acked.json()["acknowledged_by_agency"] == "pol-ast-1"


async def test_ntf7_a_letter_not_registered_yet_is_a_clear_404(stack: Stack) -> None:
    admitted = admission()
    await publish(stack, admitted)  # type: ignore[arg-type]
    police = (await notices_of(stack, admitted.stay_id))["police"]  # type: ignore[arg-type]
    async with stack.client("police.ast") as client:
        refused = await client.get(f"/v1/notices/{police.id}/letter")
    assert refused.status_code == 404
    assert "not registered" in refused.json()["detail"]
