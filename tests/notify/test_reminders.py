"""Reminders and escalations of obligations (NTF-7, MON-3), through real intake and notify
services on real PostgreSQL, NATS and Keycloak, with the INT-3 primary-assessment term of an
appeal driven by the intake sweeper's clock; and the reminder rules as plain functions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import nats
import pytest
from sqlmodel import col, select

from intake.app import create_app as create_intake
from kamqor.auth import Principal
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.inbox import ProcessedEvent
from kamqor.intake.v1 import intake_pb2_grpc
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.obligations import Obligation
from kamqor.outbox import OutboxEvent, envelope
from kamqor.runtime import ServiceApp
from notify import rules
from notify.app import create_app as create_notify
from notify.models import Reminder
from tests.support.factories import appeal_request
from tests.support.services import bearer, channel_to, running_service

USERS = ("hotline.ast", "caseworker.ast", "head.ast", "caseworker.ala", "head.ala", "police.ast")


@dataclass
class Stack:
    intake: ServiceApp
    notify: ServiceApp
    intake_stub: intake_pb2_grpc.IntakeServiceStub
    notify_stub: notify_pb2_grpc.NotifyServiceStub
    tokens: dict[str, str]
    nats_url: str


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    parts = {"postgres": postgres, "nats_server": nats_server, "keycloak": keycloak}
    async with (
        running_service(create_intake, name="intake", **parts) as intake,
        running_service(create_notify, name="notify", **parts) as notify,
        channel_to(intake) as intake_channel,
        channel_to(notify) as notify_channel,
    ):
        yield Stack(
            intake=intake,
            notify=notify,
            intake_stub=intake_pb2_grpc.IntakeServiceStub(intake_channel),
            notify_stub=notify_pb2_grpc.NotifyServiceStub(notify_channel),
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,  # the test publishes as a tool
        )


async def reminders(stack: Stack, user: str, subject: str) -> list[pb.Reminder]:
    reply = await stack.notify_stub.ListReminders(
        pb.ListRemindersRequest(page_size=200), metadata=bearer(stack.tokens[user])
    )
    return [r for r in reply.reminders if r.subject == subject]


async def wait_for(stack: Stack, user: str, subject: str, count: int) -> list[pb.Reminder]:
    for _ in range(150):
        found = await reminders(stack, user, subject)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.1)
    return await reminders(stack, user, subject)


async def stored_reminders(stack: Stack, obligation_id: str) -> list[Reminder]:
    assert stack.notify.wiring is not None
    async with stack.notify.wiring.uow() as session:
        query = select(Reminder).where(Reminder.obligation_id == obligation_id)
        return list((await session.exec(query)).all())


async def test_ntf7_int3_approaching_reminds_the_center_then_overdue_escalates(
    stack: Stack,
) -> None:
    """INT-3 primary assessment: approaching → reminder to the center (its staff); overdue →
    escalation to the center head; the other territory sees neither (REG-9)."""
    reply = await stack.intake_stub.RegisterAppeal(
        appeal_request(threat_to_life=False, domestic_violence=False),
        metadata=bearer(stack.tokens["hotline.ast"]),
    )
    appeal = reply.appeal
    subject = f"appeal/{appeal.id}"
    assert stack.intake.wiring is not None
    async with stack.intake.wiring.uow() as session:
        (term,) = (
            await session.exec(select(Obligation).where(Obligation.subject == subject))
        ).all()
    assert term.rule == "INT-3/primary" and term.responsible_agency == "fc-ast-1"

    # Nothing before the approaching time.
    assert (
        await stack.intake.sweeper.sweep_once(now=term.approaching_at - timedelta(seconds=1)) == 0
    )
    assert await stack.intake.sweeper.sweep_once(now=term.approaching_at) == 1
    (reminder,) = await wait_for(stack, "caseworker.ast", subject, 1)
    assert reminder.kind == pb.REMINDER_KIND_REMINDER
    assert (reminder.rule, reminder.obligation_id, reminder.producer) == (
        "INT-3/primary",
        term.id,
        "intake",
    )
    assert (reminder.recipient_agency, reminder.recipient_role) == ("fc-ast-1", "agency")
    assert reminder.due_at.ToDatetime(tzinfo=UTC) == term.due_at
    assert "INT-3/primary" in reminder.text and "Aigerim" not in reminder.text
    # The head of the center sees the center's reminders too; no escalation yet.
    assert [r.kind for r in await reminders(stack, "head.ast", subject)] == [
        pb.REMINDER_KIND_REMINDER
    ]

    assert await stack.intake.sweeper.sweep_once(now=term.due_at) == 1
    head_sees = await wait_for(stack, "head.ast", subject, 2)
    escalation = next(r for r in head_sees if r.kind == pb.REMINDER_KIND_ESCALATION)
    assert (escalation.recipient_agency, escalation.recipient_role) == ("fc-ast-1", "center-head")
    assert escalation.obligation_id == term.id
    kinds = await stack.notify_stub.ListReminders(
        pb.ListRemindersRequest(kind=pb.REMINDER_KIND_ESCALATION),
        metadata=bearer(stack.tokens["head.ast"]),
    )
    assert subject in {r.subject for r in kinds.reminders}
    assert {r.kind for r in kinds.reminders} == {pb.REMINDER_KIND_ESCALATION}
    # Case workers get reminders, escalations go to the head only.
    assert [r.kind for r in await reminders(stack, "caseworker.ast", subject)] == [
        pb.REMINDER_KIND_REMINDER
    ]
    # Another territory and another agency see nothing of it.
    for user in ("caseworker.ala", "head.ala", "police.ast"):
        assert await reminders(stack, user, subject) == [], user

    # A redelivered event, and a new event for the same obligation and stage, add nothing.
    async with stack.intake.wiring.uow() as session:
        outbox_rows = (
            await session.exec(
                select(OutboxEvent).where(col(OutboxEvent.subject).like("%.obligation.%"))
            )
        ).all()
    approaching = next(
        r for r in outbox_rows if r.subject == "kamqor.intake.obligation.approaching"
    )
    due = ObligationDue()
    assert Envelope.FromString(approaching.body).data.Unpack(due)
    again = envelope(source="kamqor.intake", entity=f"obligation/{term.id}", payload=due)
    nc = await nats.connect(stack.nats_url)
    try:
        js = nc.jetstream()
        for body in (approaching.body, again.SerializeToString()):
            await js.publish(approaching.subject, body, headers={"Nats-Msg-Id": uuid.uuid4().hex})
    finally:
        await nc.close()
    assert stack.notify.wiring is not None
    for _ in range(150):  # the consumer handles them in order: the second one last
        async with stack.notify.wiring.uow() as session:
            done = await session.get(ProcessedEvent, ("notify-intake-obligations", again.id))
        if done is not None:
            break
        await asyncio.sleep(0.1)
    assert done is not None, "the repeated event was not consumed"
    stored = await stored_reminders(stack, term.id)
    assert sorted(r.stage for r in stored) == ["approaching", "overdue"]
    assert len(await reminders(stack, "head.ast", subject)) == 2


async def test_ntf7_reminders_need_a_reader_role(stack: Stack, keycloak) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.notify_stub.ListReminders(
            pb.ListRemindersRequest(), metadata=bearer(keycloak.token("analyst.ast"))
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


# --- the rules as plain functions ------------------------------------------------------------

DUE_AT = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)


def person(*roles: str, agency: str = "fc-ast-1", territory: str = "kz-ast") -> Principal:
    return Principal(
        subject=f"user-{agency}",
        username="u",
        roles=frozenset(roles),
        agency=agency,
        agency_type="family_center" if agency.startswith("fc-") else "education",
        territory=territory,
        client_id="kamqor-console",
        token="t",
    )


def draft(stage: str, agency: str = "edu-ast-1") -> rules.ReminderDraft:
    return rules.reminder_for(
        stage=stage,
        rule="PLN-6",
        subject="measure/m1",
        responsible_agency=agency,
        territory_center="fc-ast-1",
        due_at=DUE_AT,
        zone=ZoneInfo("Asia/Almaty"),
    )


def test_ntf7_approaching_reminds_the_responsible_agency() -> None:
    reminder = draft("approaching")
    assert (reminder.kind, reminder.recipient_agency, reminder.recipient_role) == (
        rules.ReminderKind.REMINDER,
        "edu-ast-1",
        rules.AGENCY_AUDIENCE,
    )
    assert "2026-03-05 18:00" in reminder.text  # the due time in the territory's zone


def test_ntf7_overdue_escalates_to_the_head_of_the_territorys_center() -> None:
    escalation = draft("overdue")
    assert (escalation.kind, escalation.recipient_agency, escalation.recipient_role) == (
        rules.ReminderKind.ESCALATION,
        "fc-ast-1",
        rules.HEAD_AUDIENCE,
    )


def test_ntf7_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError):
        draft("met")


@pytest.mark.parametrize(
    ("who", "role", "agency", "responsible_person", "sees"),
    [
        (person("agency-coordinator", agency="edu-ast-1"), "agency", "edu-ast-1", "", True),
        (person("agency-assignee", agency="edu-ast-1"), "agency", "edu-ast-1", "", True),
        (person("agency-coordinator", agency="hlt-ast-1"), "agency", "edu-ast-1", "", False),
        (person("agency-coordinator", agency="edu-ast-1"), "center-head", "edu-ast-1", "", False),
        (person("center-head"), "center-head", "fc-ast-1", "", True),
        (person("case-worker"), "center-head", "fc-ast-1", "", False),
        (person("center-head", territory="kz-ala"), "center-head", "fc-ast-1", "", False),
        (person("shelter-operator"), "agency", "fc-ast-1", "user-fc-ast-1", True),
        (person("shelter-operator"), "agency", "fc-ast-1", "someone-else", False),
        (person("analyst"), "agency", "fc-ast-1", "", False),
    ],
)
def test_reg9_who_is_reminded(
    who: Principal, role: str, agency: str, responsible_person: str, sees: bool
) -> None:
    assert (
        rules.reminded(
            who,
            territory="kz-ast",
            recipient_agency=agency,
            recipient_role=role,
            responsible_person=responsible_person,
        )
        is sees
    )
