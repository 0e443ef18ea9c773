"""The chain from the commission to the registry office (REG-4, REG-6, NTF-6): sending is the
secretary's recorded act, announced for notify; the office's inbox shows what waits for it with
its clocks. Over real gRPC with the demo realm's Irkutsk users, on a real PostgreSQL, NATS and
Keycloak."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import grpc
import pytest
from sqlmodel import select

from kamqor.clock import clock_at
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.registry_pb2 import DecisionSent
from kamqor.outbox import OutboxEvent
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.runtime import ServiceApp
from tests.registry.factories import registration_request, review_request
from tests.registry.test_reviews import Users, irkutsk, registered
from tests.registry.test_service import details
from tests.support.clock import IRKUTSK


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


async def inbox(stub: Any, md: Users, **kw: Any) -> dict[str, pb.Decision]:
    """Every decision in the Irkutsk registry office's inbox, page by page."""
    found: dict[str, pb.Decision] = {}
    token = ""
    while True:
        page = await stub.ListOfficeInbox(
            pb.ListOfficeInboxRequest(page_size=kw.get("page_size", 0), page_token=token),
            metadata=md("registry.irk"),
        )
        found.update({d.id: d for d in page.decisions})
        token = page.next_page_token
        if not token:
            return found


async def sent_events(app: ServiceApp, decision_id: str) -> list[DecisionSent]:
    """The DecisionSent events staged in the outbox for the decision (notify's NTF-6 input)."""
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        rows = (
            await session.exec(
                select(OutboxEvent).where(OutboxEvent.subject == "kamqor.registry.decision.sent")
            )
        ).all()
    out = []
    for row in rows:
        env = Envelope.FromString(row.body)
        if env.subject == f"decision/{decision_id}":
            event = DecisionSent()
            assert env.data.Unpack(event)
            out.append(event)
    return out


async def test_reg4_ntf6_sending_is_the_secretarys_act_and_the_office_sees_it(  # type: ignore[no-untyped-def]
    stub, md, registry_app
) -> None:
    day = date(2026, 10, 5)
    with clock_at(irkutsk(day)):
        recorded = await stub.RecordRegistrationDecision(
            registration_request(decided_on=day.isoformat(), review_on="2027-03-01"),
            metadata=md("commission.irk"),
        )
        decision_id = recorded.decision.id
        assert decision_id not in await inbox(stub, md)  # not sent yet
    # Sent two working days later, by the commission's secretary.
    with clock_at(irkutsk(date(2026, 10, 7), 15)):
        sent = (
            await stub.SendDecision(
                pb.SendDecisionRequest(decision_id=decision_id), metadata=md("commission.irk")
            )
        ).decision
        assert sent.state == pb.DECISION_STATE_SENT
        assert sent.sent_by and sent.sent_at.ToDatetime(IRKUTSK).date() == date(2026, 10, 7)
        send = {o.rule: o for o in sent.obligations}["REG-4/send"]
        assert (send.state, send.on_time) == ("met", True)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.SendDecision(
                pb.SendDecisionRequest(decision_id=decision_id), metadata=md("commission.irk")
            )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err.value)[0] == "decision-sent"
        waiting = await inbox(stub, md, page_size=1)
        assert waiting[decision_id].state == pb.DECISION_STATE_SENT
        assert waiting[decision_id].family_id == recorded.family.id
    (event,) = await sent_events(registry_app, decision_id)
    assert (event.kind, event.on_time, event.enter_rule) == ("registration", True, "REG-4/enter")
    assert event.territory == "ru-irk" and event.family_id == recorded.family.id

    # The office receives it the next day: its own 3 working days run from then.
    with clock_at(irkutsk(date(2026, 10, 8))):
        await stub.ReceiveDecision(
            pb.ReceiveDecisionRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        item = (await inbox(stub, md))[decision_id]
        assert item.state == pb.DECISION_STATE_RECEIVED
        enter = {o.rule: o for o in item.obligations}["REG-4/enter"]
        assert enter.state == "open"
        assert enter.due_at.ToDatetime(IRKUTSK) == datetime.combine(
            date(2026, 10, 13), time.max, tzinfo=IRKUTSK
        )
        await stub.EnterFamily(
            pb.EnterFamilyRequest(decision_id=decision_id), metadata=md("registry.irk")
        )
        assert decision_id not in await inbox(stub, md)


async def test_reg6_a_deregistration_sent_late_says_so(stub, md, registry_app) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 4, 6), date(2026, 10, 1))
    decided = date(2026, 9, 14)
    with clock_at(irkutsk(decided)):
        reply = await stub.RecordReview(
            review_request(
                found.id,
                decided_on=decided.isoformat(),
                outcome=pb.REVIEW_OUTCOME_DEREGISTER,
                next_review_on="",
            ),
            metadata=md("commission.irk"),
        )
    decision_id = reply.decision.id
    # Seven working days end on Wednesday 23 September; sent on Thursday 24.
    with clock_at(irkutsk(date(2026, 9, 24))):
        sent = await stub.SendDecision(
            pb.SendDecisionRequest(decision_id=decision_id), metadata=md("commission.irk")
        )
    send = {o.rule: o for o in sent.decision.obligations}["REG-6/send"]
    assert (send.state, send.on_time) == ("met", False)
    (event,) = await sent_events(registry_app, decision_id)
    assert (event.kind, event.on_time, event.enter_rule) == ("deregistration", False, "REG-6/enter")


async def test_reg4_only_decisions_that_go_to_the_office_are_sent(stub, md) -> None:  # type: ignore[no-untyped-def]
    found = await registered(stub, md, date(2026, 3, 2), date(2026, 8, 31))
    with clock_at(irkutsk(date(2026, 8, 3))):
        kept = await stub.RecordReview(
            review_request(found.id, decided_on="2026-08-03", next_review_on="2026-12-01"),
            metadata=md("commission.irk"),
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.SendDecision(
                pb.SendDecisionRequest(decision_id=kept.decision.id),
                metadata=md("commission.irk"),
            )
    assert details(err.value)[0] == "decision-kind"
    # An entered registration was received long ago: nothing left to send.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendDecision(
            pb.SendDecisionRequest(decision_id=found.decisions[0].id),
            metadata=md("commission.irk"),
        )
    assert details(err.value)[0] == "decision-sent"


async def test_reg9_the_inbox_is_the_registry_offices_only(stub, md) -> None:  # type: ignore[no-untyped-def]
    for user in ("caseworker.irk", "education.irk", "commission.irk"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListOfficeInbox(pb.ListOfficeInboxRequest(), metadata=md(user))
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED, user
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListOfficeInbox(
            pb.ListOfficeInboxRequest(page_token="not-a-token"), metadata=md("registry.irk")
        )
    assert details(err.value)[1] == ["page_token"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendDecision(
            pb.SendDecisionRequest(decision_id="0190c6a0-0000-7000-8000-000000000000"),
            metadata=md("registry.irk"),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
