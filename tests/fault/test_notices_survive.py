"""A notice the law requires is never lost and never doubled (SHL-3, NTF-7), whatever dies:
the broker, the producing service or the consuming service. Real PostgreSQL, NATS, Keycloak."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlmodel import col, func, select

from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.outbox import OutboxEvent
from kamqor.runtime import ServiceApp
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from notify.app import create_app as create_notify
from notify.models import Notice
from shelter.app import create_app as create_shelter
from tests.support.factories import admit_request
from tests.support.services import bearer, channel_to, fresh_database, running_service


@pytest.fixture(scope="module")
def databases(postgres) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: fresh_database(postgres, name) for name in ("shelter", "notify")}


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {u: keycloak.token(u) for u in ("head.ast", "shelter.ast", "police.ast")}


def service(create, name, databases, postgres, nats_server, keycloak):  # type: ignore[no-untyped-def]
    return running_service(
        create,
        name=name,
        postgres=postgres,
        nats_server=nats_server,
        keycloak=keycloak,
        database_url=databases[name],
        wait_ready=nats_server.running,
    )


async def admit(app: ServiceApp, tokens: dict[str, str]) -> str:
    async with channel_to(app) as channel:
        stub = shelter_pb2_grpc.ShelterServiceStub(channel)
        shelter = await stub.RegisterShelter(
            shelter_pb2.RegisterShelterRequest(
                idempotency_key=uuid.uuid4().hex, name=uuid.uuid4().hex[:8], capacity=5
            ),
            metadata=bearer(tokens["head.ast"]),
        )
        stay = await stub.Admit(
            admit_request(shelter.shelter.id), metadata=bearer(tokens["shelter.ast"])
        )
    return stay.stay.id


async def notices_for(app: ServiceApp, stay_id: str) -> list[Notice]:
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        rows = await session.exec(select(Notice).where(Notice.subject == f"stay/{stay_id}"))
        return list(rows.all())


async def wait_notices(app: ServiceApp, stay_id: str, count: int = 2) -> list[Notice]:
    for _ in range(150):
        found = await notices_for(app, stay_id)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    return await notices_for(app, stay_id)


async def unsent(app: ServiceApp) -> int:
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        query = (
            select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.sent_at).is_(None))
        )
        return int((await session.exec(query)).one())


async def test_ntf7_notice_survives_a_broker_crash(  # type: ignore[no-untyped-def]
    databases, postgres, nats_server, keycloak, tokens
) -> None:
    async with (
        service(create_shelter, "shelter", databases, postgres, nats_server, keycloak) as shelter,
        service(create_notify, "notify", databases, postgres, nats_server, keycloak) as notify,
    ):
        nats_server.kill()
        try:
            stay_id = await admit(shelter, tokens)  # the admission commits with the broker down
            await asyncio.sleep(1.0)
            assert await unsent(shelter) >= 1
            assert await notices_for(notify, stay_id) == []
        finally:
            nats_server.start()
        found = await wait_notices(notify, stay_id)
        assert sorted(n.recipient_agency_type for n in found) == ["guardianship", "police"]
        assert await unsent(shelter) == 0


async def test_ntf7_notice_survives_producer_and_broker_dying_together(  # type: ignore[no-untyped-def]
    databases, postgres, nats_server, keycloak, tokens
) -> None:
    async with service(
        create_notify, "notify", databases, postgres, nats_server, keycloak
    ) as notify:
        nats_server.kill()
        try:
            async with service(
                create_shelter, "shelter", databases, postgres, nats_server, keycloak
            ) as shelter:
                stay_id = await admit(shelter, tokens)
            # the shelter process is gone with its event still in the outbox
        finally:
            nats_server.start()
        async with service(create_shelter, "shelter", databases, postgres, nats_server, keycloak):
            found = await wait_notices(notify, stay_id)
    assert len(found) == 2


async def test_ntf7_notices_wait_for_a_stopped_consumer_and_come_once(  # type: ignore[no-untyped-def]
    databases, postgres, nats_server, keycloak, tokens
) -> None:
    async with service(
        create_shelter, "shelter", databases, postgres, nats_server, keycloak
    ) as shelter:
        stay_id = await admit(shelter, tokens)  # notify is not running: the durable consumer waits
        await asyncio.sleep(0.5)
        assert await unsent(shelter) == 0
        async with service(
            create_notify, "notify", databases, postgres, nats_server, keycloak
        ) as notify:
            found = await wait_notices(notify, stay_id)
            assert len(found) == 2

            # Redeliver the very same event under a new broker message id: the broker cannot
            # dedupe it, the consumer's inbox must (same event id, same transaction).
            assert shelter.wiring is not None
            js = shelter.wiring.broker.js
            last = await js.get_last_msg("SHELTER", "kamqor.shelter.stay.admitted")
            await js.publish(last.subject, last.data, headers={"Nats-Msg-Id": uuid.uuid4().hex})
            await asyncio.sleep(1.5)
            assert len(await notices_for(notify, stay_id)) == 2

            async with channel_to(notify) as channel:
                listed = await notify_pb2_grpc.NotifyServiceStub(channel).ListNotices(
                    notify_pb2.ListNoticesRequest(), metadata=bearer(tokens["police.ast"])
                )
            assert [n.subject for n in listed.notices].count(f"stay/{stay_id}") == 1
