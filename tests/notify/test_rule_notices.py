"""The notices the rules require besides the admission's (NTF-2 … NTF-6): each triggering event,
published to its producer's real NATS stream, becomes one notice with its rule ID, the recipient
agency of the event's territory, its due time from the profile's term and what the recipient must
act on, and nothing twice however often the event is delivered. Read back through notify's real
gRPC as the recipient, on real PostgreSQL, NATS and Keycloak.

Due times are computed by hand from the event's instant (the suite's clock is pinned): a term in
working days ends at the end of its last working day, local time; one in minutes runs elapsed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import grpc
import nats
import pytest
from google.protobuf.message import Message
from sqlmodel import col, select

from kamqor.events.v1.intake_pb2 import AppealRedirected, AppealRegistered
from kamqor.events.v1.plans_pb2 import MeasureSent, PlanClosed
from kamqor.events.v1.registry_pb2 import DecisionSent
from kamqor.inbox import ProcessedEvent
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.outbox import envelope
from kamqor.protoconv import ts
from kamqor.runtime import ServiceApp
from notify.channels import Channels
from notify.models import Notice
from tests.notify.harness import running_notify
from tests.support.services import bearer

USERS = ("guardianship.irk", "police.irk", "education.ast", "police.ast", "registry.irk")
# An ordinary working week: Tuesday 17 November 2026 (no holiday near it in KZ or RU).
TUESDAY_AST = datetime.fromisoformat("2026-11-17T10:00:00+05:00")
TUESDAY_IRK = datetime.fromisoformat("2026-11-17T09:30:00+08:00")
FRIDAY_AST = datetime.fromisoformat("2026-11-20T16:00:00+05:00")


@dataclass
class Stack:
    notify: ServiceApp
    stub: notify_pb2_grpc.NotifyServiceAsyncStub
    tokens: dict[str, str]
    nats_url: str


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    # The test drives no deliveries: the notices themselves are what is checked here.
    channels = Channels.model_validate({"poll_seconds": None})
    async with (
        running_notify(
            postgres,
            nats_server,
            keycloak,
            channels=channels,
            streams=("intake", "plans", "registry"),
        ) as (notify, stub),
    ):
        yield Stack(
            notify=notify,
            stub=stub,
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,
        )


async def publish(
    stack: Stack, producer: str, subject: str, payload: Message, entity: str, event_id: str = ""
) -> str:
    """Publish as the producer's relay does; the same event id again is a redelivery."""
    env = envelope(
        source=f"kamqor.{producer}", entity=entity, payload=payload, event_id=event_id or None
    )
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(
            subject, env.SerializeToString(), headers={"Nats-Msg-Id": uuid.uuid4().hex}
        )
    finally:
        await nc.close()
    return env.id


async def processed(stack: Stack, durable: str, event_id: str) -> None:
    """Wait until notify's consumer recorded the event (handled, whatever it created)."""
    assert stack.notify.wiring is not None
    for _ in range(300):
        async with stack.notify.wiring.uow() as session:
            row = await session.get(ProcessedEvent, (durable, event_id))
        if row is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{durable} did not process {event_id}")


async def notices_about(stack: Stack, subject: str) -> list[Notice]:
    assert stack.notify.wiring is not None
    async with stack.notify.wiring.uow() as session:
        return list(
            (await session.exec(select(Notice).where(col(Notice.subject) == subject))).all()
        )


async def once_redelivered(
    stack: Stack,
    *,
    producer: str,
    subject: str,
    payload: Message,
    entity: str,
    durable: str,
    about: str,
) -> list[Notice]:
    """Publish the event, then the same event (same id) twice more; the notices about `about`."""
    event_id = await publish(stack, producer, subject, payload, entity)
    await processed(stack, durable, event_id)
    for _ in range(2):
        await publish(stack, producer, subject, payload, entity, event_id=event_id)
    # A later event of the same consumer is processed after the redeliveries (one durable,
    # in order): once it is, the redeliveries were seen and skipped.
    marker = type(payload)()
    marker.CopyFrom(payload)
    marker_id = await publish(stack, producer, subject, marker, entity)
    await processed(stack, durable, marker_id)
    found = [n for n in await notices_about(stack, about) if n.source_event_id == event_id]
    return found


async def as_recipient(stack: Stack, user: str, notice_id: str) -> pb.Notice:
    reply = await stack.stub.GetNotice(
        pb.GetNoticeRequest(notice_id=notice_id), metadata=bearer(stack.tokens[user])
    )
    return reply.notice


# --- NTF-2: a violation of a child's rights → guardianship, immediately --------------------------


async def test_ntf2_threat_to_a_child_notifies_guardianship_within_the_profiles_minutes(
    stack: Stack,
) -> None:
    appeal_id = str(uuid.uuid4())
    registered = AppealRegistered(
        appeal_id=appeal_id,
        journal_number="IRK-2026-000417",
        center_id="fc-irk-1",
        territory="ru-irk",
        registered_at=ts(TUESDAY_IRK),
        threat_to_life=True,
        minors=2,
    )
    found = await once_redelivered(
        stack,
        producer="intake",
        subject="kamqor.intake.appeal.registered",
        payload=registered,
        entity=f"appeal/{appeal_id}",
        durable="notify-appeal-registered",
        about=f"appeal/{appeal_id}",
    )
    assert len(found) == 1
    notice = found[0]
    assert notice.rule == "NTF-2"
    assert notice.recipient_agency_type == "guardianship"
    assert notice.territory == "ru-irk"
    assert notice.sender_agency == "fc-irk-1"
    # ru-irk: NTF-2 "immediately" is 60 minutes, elapsed.
    assert notice.due_at == datetime.fromisoformat("2026-11-17T10:30:00+08:00")
    seen = await as_recipient(stack, "guardianship.irk", notice.id)
    assert seen.rule == "NTF-2"
    assert "IRK-2026-000417" in seen.text and "2 minor(s)" in seen.text
    # Need to know: another agency of the territory does not see it.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await as_recipient(stack, "police.irk", notice.id)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_ntf2_no_notice_without_a_threat_to_minors_or_without_the_profiles_term(
    stack: Stack,
) -> None:
    calm = AppealRegistered(
        appeal_id=str(uuid.uuid4()),
        journal_number="IRK-2026-000418",
        center_id="fc-irk-1",
        territory="ru-irk",
        registered_at=ts(TUESDAY_IRK),
        threat_to_life=False,
        minors=2,
    )
    # kz has no NTF-2 term (DOMAIN.md terms index: ru-irk only).
    elsewhere = AppealRegistered(
        appeal_id=str(uuid.uuid4()),
        journal_number="AST-2026-000419",
        center_id="fc-ast-1",
        territory="kz-ast",
        registered_at=ts(TUESDAY_AST),
        threat_to_life=True,
        minors=1,
    )
    for appeal in (calm, elsewhere):
        event_id = await publish(
            stack,
            "intake",
            "kamqor.intake.appeal.registered",
            appeal,
            f"appeal/{appeal.appeal_id}",
        )
        await processed(stack, "notify-appeal-registered", event_id)
        assert await notices_about(stack, f"appeal/{appeal.appeal_id}") == []


# --- NTF-3: a plan's measure → its agency, which designates a responsible person (PLN-6) --------


async def test_ntf3_measure_sent_notifies_its_agency_due_by_pln6(stack: Stack) -> None:
    measure_id = str(uuid.uuid4())
    sent = MeasureSent(
        measure_id=measure_id,
        plan_id="plan-ast-77",
        territory="kz-ast",
        agency_id="edu-ast-1",
        agency_type="education",
        kind="education",
        deadline="2026-12-15",
        sent_at=ts(TUESDAY_AST),
    )
    found = await once_redelivered(
        stack,
        producer="plans",
        subject="kamqor.plans.measure.sent",
        payload=sent,
        entity=f"measure/{measure_id}",
        durable="notify-measure-sent",
        about=f"measure/{measure_id}",
    )
    assert len(found) == 1
    notice = found[0]
    assert notice.rule == "NTF-3"
    assert notice.recipient_agency_type == "education"
    assert notice.territory == "kz-ast"
    # The territory's center coordinates the plan (the event names none).
    assert notice.sender_agency == "fc-ast-1"
    # PLN-6, 2 working days from Tuesday the 17th: Wednesday 18, Thursday 19, end of day.
    assert notice.due_at == datetime.fromisoformat("2026-11-19T23:59:59.999999+05:00")
    assert notice.content == {
        "measure_id": measure_id,
        "plan_id": "plan-ast-77",
        "agency_id": "edu-ast-1",
        "kind": "education",
        "deadline": "2026-12-15",
        "sent_at": "2026-11-17T05:00:00+00:00",
    }
    seen = await as_recipient(stack, "education.ast", notice.id)
    assert "2026-12-15" in seen.text and "PLN-6" in seen.text


# --- NTF-4: a closure decision → the family, in writing (PLN-11) --------------------------------


async def test_ntf4_a_closure_becomes_one_letter_to_the_family(stack: Stack) -> None:
    """The closure decision goes to the family in writing (PLN-11), once however often the
    event is delivered. No regulation sets its term: product practice gives it 3 working days,
    from Tuesday 17 November 2026 to the end of Friday the 20th in Astana."""
    plan_id = str(uuid.uuid4())
    closed = PlanClosed(
        plan_id=plan_id,
        family_id="fam-ast-5",
        center_id="fc-ast-1",
        territory="kz-ast",
        reason="result_achieved",
        closed_at=ts(TUESDAY_AST),
    )
    found = await once_redelivered(
        stack,
        producer="plans",
        subject="kamqor.plans.plan.closed",
        payload=closed,
        entity=f"plan/{plan_id}",
        durable="notify-plan-closed",
        about=f"plan/{plan_id}",
    )
    [notice] = found
    assert (notice.rule, notice.recipient_agency_type, notice.sender_agency) == (
        "NTF-4",
        "family",
        "fc-ast-1",
    )
    assert notice.due_at == datetime.fromisoformat("2026-11-20T23:59:59.999999+05:00")
    assert "result_achieved" in notice.text and plan_id in notice.text


# --- NTF-5: a redirection → the competent organisation (INT-3) or identification (INT-7) -------


async def test_ntf5_redirection_notifies_the_competent_organisation_by_the_next_working_day(
    stack: Stack,
) -> None:
    appeal_id = str(uuid.uuid4())
    redirected = AppealRedirected(
        appeal_id=appeal_id,
        journal_number="AST-2026-000420",
        center_id="fc-ast-1",
        territory="kz-ast",
        organisation="police",
        rule="INT-3/redirect",
        redirected_at=ts(FRIDAY_AST),
        triage_action_id=str(uuid.uuid4()),
    )
    found = await once_redelivered(
        stack,
        producer="intake",
        subject="kamqor.intake.appeal.redirected",
        payload=redirected,
        entity=f"appeal/{appeal_id}",
        durable="notify-appeal-redirected",
        about=f"appeal/{appeal_id}",
    )
    assert len(found) == 1
    notice = found[0]
    assert notice.rule == "NTF-5"
    assert notice.recipient_agency_type == "police"
    assert notice.sender_agency == "fc-ast-1"
    # INT-3/redirect, 1 working day from Friday the 20th: Monday 23 November, end of day.
    assert notice.due_at == datetime.fromisoformat("2026-11-23T23:59:59.999999+05:00")
    seen = await as_recipient(stack, "police.ast", notice.id)
    assert "AST-2026-000420" in seen.text and "INT-3/redirect" in seen.text


async def test_ntf5_domestic_violence_identification_is_due_in_two_working_days(
    stack: Stack,
) -> None:
    appeal_id = str(uuid.uuid4())
    redirected = AppealRedirected(
        appeal_id=appeal_id,
        journal_number="AST-2026-000421",
        center_id="fc-ast-1",
        territory="kz-ast",
        organisation="Crisis centre «Zhan»",
        rule="INT-7",
        redirected_at=ts(TUESDAY_AST),
    )
    event_id = await publish(
        stack,
        "intake",
        "kamqor.intake.appeal.redirected",
        redirected,
        f"appeal/{appeal_id}",
    )
    await processed(stack, "notify-appeal-redirected", event_id)
    (notice,) = await notices_about(stack, f"appeal/{appeal_id}")
    assert notice.rule == "NTF-5"
    # INT-7: an organisation of special social services.
    assert notice.recipient_agency_type == "social_protection"
    # 2 working days from Tuesday the 17th: Thursday 19 November, end of day.
    assert notice.due_at == datetime.fromisoformat("2026-11-19T23:59:59.999999+05:00")
    assert notice.content is not None
    assert notice.content["organisation"] == "Crisis centre «Zhan»"


# --- NTF-6: a registry decision → the registry office of the territory --------------------------


async def test_ntf6_decision_sent_notifies_the_registry_office_due_by_its_entry_term(
    stack: Stack,
) -> None:
    decision_id = str(uuid.uuid4())
    sent_at = datetime.fromisoformat("2026-11-17T12:00:00+08:00")
    sent = DecisionSent(
        decision_id=decision_id,
        family_id="fam-irk-9",
        territory="ru-irk",
        kind="registration",
        commission_id="com-irk-1",
        sent_at=ts(sent_at),
        on_time=True,
        enter_rule="REG-4/enter",
    )
    found = await once_redelivered(
        stack,
        producer="registry",
        subject="kamqor.registry.decision.sent",
        payload=sent,
        entity=f"decision/{decision_id}",
        durable="notify-decision-sent",
        about=f"decision/{decision_id}",
    )
    assert len(found) == 1
    notice = found[0]
    assert notice.rule == "NTF-6"
    assert notice.recipient_agency_type == "registry_office"
    assert notice.territory == "ru-irk"
    assert notice.sender_agency == "com-irk-1"
    # REG-4/enter, 3 working days from Tuesday the 17th: Friday 20 November, end of day.
    assert notice.due_at == datetime.fromisoformat("2026-11-20T23:59:59.999999+08:00")
    seen = await as_recipient(stack, "registry.irk", notice.id)
    assert seen.rule == "NTF-6"
    assert decision_id in seen.text and "REG-4/enter" in seen.text
