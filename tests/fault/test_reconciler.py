"""The database is the record, not the broker (SHL-3): a write the broker acknowledged and then
lost is made good by the shelter's reconciler, whichever way it went missing. Real PostgreSQL,
NATS and Keycloak; the loss is a message deleted from its stream, as a server that acknowledged
it before syncing would have lost it."""

from __future__ import annotations

import asyncio

import nats
import pytest
from sqlmodel import select

from devstack.nats import NatsServer
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.outbox import OutboxEvent
from kamqor.runtime import ServiceApp
from notify.app import create_app as create_notify
from shelter.app import create_app as create_shelter
from shelter.reconciler import ADMITTED, AdmissionNoticeCheck
from tests.fault.test_notices_survive import (
    admit,
    databases,
    notices_for,
    service,
    tokens,
    unsent,
    wait_notices,
)

__all__ = ["databases", "tokens"]  # module fixtures shared with test_notices_survive

CONFIRMED = "kamqor.notify.admission_notices.created"


@pytest.fixture(autouse=True)
def prompt_reconciler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAMQOR_NOTICE_CONFIRM_AFTER_SECONDS", "1")
    monkeypatch.setenv("KAMQOR_NOTICE_INTERVAL_SECONDS", "0.2")


async def lose_last(nats_server: NatsServer, stream: str, subject: str) -> None:
    """The broker forgets the last message it acknowledged on `subject`."""
    nc = await nats.connect(nats_server.admin_url)
    try:
        js = nc.jetstream()
        last = await js.get_last_msg(stream, subject)
        assert last.seq is not None
        await js.delete_msg(stream, last.seq)
    finally:
        await nc.close()


async def admission_event(app: ServiceApp, stay_id: str) -> str:
    """The id of the stay's admission event (the original row, not a re-sent copy)."""
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        rows = await session.exec(
            select(OutboxEvent.id, OutboxEvent.body).where(OutboxEvent.subject == ADMITTED)
        )
        for event_id, body in rows.all():
            env = Envelope()
            env.ParseFromString(body)
            payload = StayAdmitted()
            env.data.Unpack(payload)
            if payload.stay_id == stay_id and event_id == env.id:
                return event_id
    raise AssertionError("no admission event")


async def confirmation(app: ServiceApp, event_id: str) -> AdmissionNoticeCheck | None:
    for _ in range(150):
        assert app.wiring is not None
        async with app.wiring.uow() as session:
            check = await session.get(AdmissionNoticeCheck, event_id)
        if check is not None and check.confirmed_at is not None:
            return check
        await asyncio.sleep(0.1)
    return check


async def wait_sent(app: ServiceApp) -> None:
    for _ in range(100):
        if await unsent(app) == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox did not drain")


async def test_shl3_an_admission_the_broker_lost_is_sent_again(  # type: ignore[no-untyped-def]
    databases, postgres, nats_server, keycloak, tokens
) -> None:
    async with service(
        create_shelter, "shelter", databases, postgres, nats_server, keycloak
    ) as shelter:
        stay_id = await admit(shelter, tokens)
        event_id = await admission_event(shelter, stay_id)
        await wait_sent(shelter)  # JetStream acknowledged it ...
        await lose_last(nats_server, "SHELTER", ADMITTED)  # ... and lost it
        async with service(
            create_notify, "notify", databases, postgres, nats_server, keycloak
        ) as notify:
            found = await wait_notices(notify, stay_id)
            assert sorted(n.recipient_agency_type for n in found) == ["guardianship", "police"]
            check = await confirmation(shelter, event_id)
            assert check is not None and check.confirmed_at is not None
            assert check.resends >= 1 and check.notices == 2
            # Confirmed: no more copies, and the copies created nothing twice.
            resends = check.resends
            await asyncio.sleep(1.5)
            again = await confirmation(shelter, event_id)
            assert again is not None and again.resends == resends
            assert len(await notices_for(notify, stay_id)) == 2
            assert all(n.source_event_id == event_id for n in found)


async def test_shl3_a_lost_confirmation_is_asked_for_again(  # type: ignore[no-untyped-def]
    databases, postgres, nats_server, keycloak, tokens
) -> None:
    async with service(
        create_shelter, "shelter", databases, postgres, nats_server, keycloak
    ) as shelter:
        stay_id = await admit(shelter, tokens)
        event_id = await admission_event(shelter, stay_id)
        await wait_sent(shelter)
    # The shelter is down while notify creates the notices and confirms; the broker then loses
    # the confirmation.
    async with service(create_notify, "notify", databases, postgres, nats_server, keycloak) as nt:
        assert len(await wait_notices(nt, stay_id)) == 2
        await wait_sent(nt)
        await lose_last(nats_server, "NOTIFY", CONFIRMED)
        async with service(
            create_shelter, "shelter", databases, postgres, nats_server, keycloak
        ) as shelter:
            check = await confirmation(shelter, event_id)
            assert check is not None and check.confirmed_at is not None
            assert check.resends >= 1 and check.notices == 2
        assert len(await notices_for(nt, stay_id)) == 2
