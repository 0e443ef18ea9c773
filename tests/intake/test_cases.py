"""Cases through a real gRPC channel on a real PostgreSQL, NATS and Keycloak: an appeal opens a
case of its family (`CaseOpened` through the outbox) or joins the one open; a closed case is
not joined again."""

from __future__ import annotations

import random

import grpc
import pytest
from sqlmodel import select

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.intake_pb2 import CaseOpened
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.outbox import OutboxEvent
from tests.intake.test_families import fresh_iin, mother, register, unique_birth
from tests.shelter.test_service import details
from tests.support.services import bearer

RNG = random.Random()


@pytest.fixture(scope="module")
def tokens(keycloak) -> dict[str, str]:  # type: ignore[no-untyped-def]
    users = ("hotline.ast", "intake.ast", "intake.ala", "caseworker.ast", "head.ast")
    return {u: keycloak.token(u) for u in users}


async def case_opened_events(intake_app) -> dict[str, CaseOpened]:  # type: ignore[no-untyped-def]
    async with intake_app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(OutboxEvent.event_type == CaseOpened.DESCRIPTOR.full_name)
            )
        ).all()
    out: dict[str, CaseOpened] = {}
    for row in rows:
        event = CaseOpened()
        assert Envelope.FromString(row.body).data.Unpack(event)
        out[event.case_id] = event
    return out


async def test_an_appeal_opens_a_case_the_next_joins_and_a_closed_one_is_not_joined(  # type: ignore[no-untyped-def]
    stub, tokens, intake_app
) -> None:
    born = unique_birth(RNG)
    iin = fresh_iin(RNG, born)
    first = await register(stub, tokens["intake.ast"], [mother("Жумабаева Гульнар", born, iin=iin)])
    assert first.case_id and first.opened_case
    opened = (await case_opened_events(intake_app))[first.case_id]
    assert (opened.family_id, opened.appeal_id) == (first.family_id, first.id)
    assert (opened.center_id, opened.territory) == ("fc-ast-1", "kz-ast")

    second = await register(
        stub, tokens["hotline.ast"], [mother("Zhumabaeva Gulnar", born, iin=iin)]
    )
    assert (second.case_id, second.opened_case) == (first.case_id, False)
    case = (
        await stub.GetCase(
            pb.GetCaseRequest(case_id=first.case_id), metadata=bearer(tokens["caseworker.ast"])
        )
    ).case
    assert case.state == pb.CASE_STATE_OPEN and case.family_id == first.family_id
    assert set(case.appeal_ids) == {first.id, second.id}
    events = await case_opened_events(intake_app)
    assert [e.case_id for e in events.values() if e.family_id == first.family_id] == [case.id]

    closed = (
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=case.id, reason="Support no longer needed"),
            metadata=bearer(tokens["caseworker.ast"]),
        )
    ).case
    assert closed.state == pb.CASE_STATE_CLOSED and closed.HasField("closed_at")
    assert closed.close_reason == "Support no longer needed"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=case.id, reason="again"),
            metadata=bearer(tokens["head.ast"]),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(err.value)[0] == "case-closed"

    third = await register(stub, tokens["intake.ast"], [mother("Жумабаева Гульнар", born, iin=iin)])
    assert third.family_id == first.family_id
    assert third.opened_case and third.case_id != first.case_id


async def test_a_case_is_read_in_its_territory_and_closed_by_case_workers_and_heads(  # type: ignore[no-untyped-def]
    stub, tokens
) -> None:
    appeal = await register(
        stub, tokens["intake.ast"], [mother("Оспанова Алия", unique_birth(RNG))]
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetCase(
            pb.GetCaseRequest(case_id=appeal.case_id), metadata=bearer(tokens["intake.ala"])
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    for user, code in (
        ("intake.ast", grpc.StatusCode.PERMISSION_DENIED),
        ("hotline.ast", grpc.StatusCode.PERMISSION_DENIED),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CloseCase(
                pb.CloseCaseRequest(case_id=appeal.case_id, reason="no"),
                metadata=bearer(tokens[user]),
            )
        assert err.value.code() == code
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CloseCase(
            pb.CloseCaseRequest(case_id=appeal.case_id, reason="  "),
            metadata=bearer(tokens["head.ast"]),
        )
    assert details(err.value) == ("invalid", ["reason"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetCase(
            pb.GetCaseRequest(case_id="not-an-id"), metadata=bearer(tokens["intake.ast"])
        )
    assert details(err.value) == ("invalid", ["case_id"])
    got = await stub.GetAppeal(
        pb.GetAppealRequest(appeal_id=appeal.id), metadata=bearer(tokens["intake.ast"])
    )
    assert got.appeal.case_id == appeal.case_id and got.appeal.opened_case
