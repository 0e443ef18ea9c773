"""The embedded default of `make run`: services on SQLite files still keep every promise of the
outbox and the inbox (SHL-3, NTF-7), against the real NATS and Keycloak."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import select

from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from notify.app import create_app as create_notify
from notify.models import Notice
from shelter.app import create_app as create_shelter
from tests.support.factories import admit_request
from tests.support.services import bearer, channel_to, running_service


async def test_shl3_notices_flow_between_services_on_sqlite_files(  # type: ignore[no-untyped-def]
    tmp_path: Path, postgres, nats_server, keycloak
) -> None:
    def sqlite(name: str) -> str:
        return f"sqlite+aiosqlite:///{tmp_path / name}.db"

    common = {"postgres": postgres, "nats_server": nats_server, "keycloak": keycloak}
    async with (
        running_service(
            create_shelter, name="shelter", database_url=sqlite("shelter"), **common
        ) as shelter,
        running_service(
            create_notify, name="notify", database_url=sqlite("notify"), **common
        ) as notify,
    ):
        async with channel_to(shelter) as channel:
            stub = shelter_pb2_grpc.ShelterServiceStub(channel)
            created = await stub.RegisterShelter(
                shelter_pb2.RegisterShelterRequest(
                    idempotency_key="k", name="Embedded", capacity=4
                ),
                metadata=bearer(keycloak.token("head.ast")),
            )
            request = admit_request(created.shelter.id)
            token = keycloak.token("shelter.ast")
            stay = (await stub.Admit(request, metadata=bearer(token))).stay
            assert (await stub.Admit(request, metadata=bearer(token))).stay.id == stay.id
        assert notify.wiring is not None
        for _ in range(100):
            async with notify.wiring.uow() as session:
                found = (
                    await session.exec(select(Notice).where(Notice.subject == f"stay/{stay.id}"))
                ).all()
            if len(found) == 2:
                break
            await asyncio.sleep(0.1)
        assert sorted(n.recipient_agency_type for n in found) == ["guardianship", "police"]
        assert (tmp_path / "shelter.db").exists() and (tmp_path / "notify.db").exists()
