"""Notices delivered for real (SHL-3, NTF-1, NTF-7): an admission event published to the real
NATS stream becomes the police and guardianship notices with what they must act on; the notify
sweeper delivers them on the configured channels (a signed webhook to a loopback receiver that
checks the signature, SMTP to a real aiosmtpd server, a registered PDF letter); delivery meets
the center's obligation, acknowledgement is tracked apart with its own reminder, and an
unacknowledged notice escalates to the center head before its due time. Through notify's real
gRPC on real PostgreSQL, NATS and Keycloak."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.message import EmailMessage

import grpc
import nats
import pypdf
import pytest
from sqlmodel import col, select

from kamqor import audit
from kamqor.clock import utcnow
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc
from kamqor.obligations import Obligation
from kamqor.outbox import envelope
from kamqor.protoconv import ts
from kamqor.runtime import ServiceApp
from notify import rules
from notify.channels import Channels
from notify.models import Delivery, Notice, Reminder
from tests.notify.harness import running_notify
from tests.support.recipients import Mailbox, Receiver, mail_server, receiving
from tests.support.services import bearer

SECRET = "test-webhook-secret-0123456789"
USERS = (
    "police.ast",
    "police.ala",
    "guardianship.ast",
    "head.ast",
    "caseworker.ast",
    "shelter.ast",
)
# Kazakh and Russian names: the letter must print every one of these letters.
ADULT = "Әсем Нұрғалиқызы Жүсіпова"
MINORS = (("Ұлан Қайратұлы Өмірбек", "2015-04-09"), ("Һадия Ғалымқызы", "2019-11-30"))
SHELTER = ("Кризисный центр «Шаңырақ»", "Астана, ул. Сәкен Сейфуллин, 12")
SPECIALIST = ("Светлана Ивановна Ким", "+7 701 000 00 00")


# --- the recipients' side: a webhook receiver and an SMTP server on loopback -----------------


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(secret=SECRET)
    with receiving(state) as url:
        yield state, url


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    with mail_server(mailbox) as port:
        yield mailbox, port


# --- notify, configured with those channels ---------------------------------------------------


@dataclass
class Stack:
    notify: ServiceApp
    stub: notify_pb2_grpc.NotifyServiceAsyncStub
    tokens: dict[str, str]
    nats_url: str
    receiver: Receiver
    mailbox: Mailbox


@pytest.fixture(scope="module")
async def stack(postgres, nats_server, keycloak, receiver, smtp) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    state, url = receiver
    mailbox, port = smtp
    channels = Channels.model_validate(
        {
            "smtp": {"host": "127.0.0.1", "port": port, "sender": "notices@fc-ast-1.kz"},
            # The test drives deliveries with its own clock (`sweep_once(now)`).
            "poll_seconds": None,
            "agencies": {
                "kz-ast/police": [
                    {"kind": "webhook", "url": url, "secret": SECRET},
                    {"kind": "email", "to": "duty@pol-ast-1.kz"},
                ],
                "*/guardianship": [{"kind": "email", "to": "office@grd.kz"}],
                "kz-ala/police": [{"kind": "webhook", "url": url, "secret": SECRET}],
            },
        }
    )
    async with (
        running_notify(postgres, nats_server, keycloak, channels=channels) as (notify, stub),
    ):
        yield Stack(
            notify=notify,
            stub=stub,
            tokens={u: keycloak.token(u) for u in USERS},
            nats_url=nats_server.admin_url,
            receiver=state,
            mailbox=mailbox,
        )


def admission(territory: str = "kz-ast", *, facts: bool = True) -> StayAdmitted:
    msg = StayAdmitted(
        stay_id=str(uuid.uuid4()),
        shelter_id="sh-ast-1",
        center_id="fc-ast-1" if territory == "kz-ast" else "fc-ala-1",
        territory=territory,
        admitted_at=ts(utcnow()),
        minors=len(MINORS),
    )
    if facts:
        msg.adult_full_name = ADULT
        msg.adult_birth_date = "1990-01-15"
        for name, born in MINORS:
            msg.minor_children.add(full_name=name, birth_date=born)
        msg.shelter_name, msg.shelter_address = SHELTER
        msg.specialist_name, msg.specialist_contact = SPECIALIST
    return msg


async def publish(stack: Stack, admitted: StayAdmitted, event_id: str | None = None) -> str:
    """Publish as the shelter's relay does; a repeat with the same event id is a redelivery."""
    env = envelope(
        source="kamqor.shelter",
        entity=f"stay/{admitted.stay_id}",
        payload=admitted,
        event_id=event_id,
    )
    nc = await nats.connect(stack.nats_url)
    try:
        await nc.jetstream().publish(
            "kamqor.shelter.stay.admitted",
            env.SerializeToString(),
            headers={"Nats-Msg-Id": uuid.uuid4().hex},
        )
    finally:
        await nc.close()
    return env.id


async def notices_of(stack: Stack, stay_id: str, count: int = 2) -> dict[str, Notice]:
    assert stack.notify.wiring is not None
    for _ in range(200):
        async with stack.notify.wiring.uow() as session:
            rows = (
                await session.exec(select(Notice).where(Notice.subject == f"stay/{stay_id}"))
            ).all()
        if len(rows) >= count:
            return {n.recipient_agency_type: n for n in rows}
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} notices expected, {len(rows)} found")


async def deliveries(stack: Stack, notice_id: str, user: str) -> dict[str, pb.Delivery]:
    reply = await stack.stub.ListDeliveries(
        pb.ListDeliveriesRequest(notice_id=notice_id), metadata=bearer(stack.tokens[user])
    )
    return {d.channel: d for d in reply.deliveries}


async def reminders_of(stack: Stack, user: str, notice_id: str) -> list[pb.Reminder]:
    reply = await stack.stub.ListReminders(
        pb.ListRemindersRequest(page_size=200), metadata=bearer(stack.tokens[user])
    )
    return [r for r in reply.reminders if r.subject == f"notice/{notice_id}"]


# --- the tests --------------------------------------------------------------------------------


async def test_shl3_ntf1_the_notice_carries_what_police_must_act_on_and_nothing_more(
    stack: Stack,
) -> None:
    admitted = admission()
    await publish(stack, admitted)
    found = await notices_of(stack, admitted.stay_id)
    assert set(found) == {"police", "guardianship"}
    police = found["police"]
    assert police.rule == "SHL-3"
    assert police.due_at == admitted.admitted_at.ToDatetime(tzinfo=UTC) + timedelta(hours=24)
    reply = await stack.stub.GetNotice(
        pb.GetNoticeRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ast"])
    )
    text = reply.notice.text
    for fact in (ADULT, *(n for m in MINORS for n in m), *SHELTER, *SPECIALIST):
        assert fact in text, fact
    assert police.content is not None
    assert set(police.content) == {
        "stay_id",
        "admitted_at",
        "adult",
        "minors",
        "shelter",
        "specialist",
    }
    # Every read of it is audited, naming the reader.
    assert stack.notify.wiring is not None
    async with stack.notify.wiring.uow() as session:
        reads = (
            await session.exec(
                select(audit.AuditRecord).where(audit.touching(f"notice/{police.id}"))
            )
        ).all()
    assert any(r.action == "read" and r.agency == "pol-ast-1" for r in reads)
    # The police of another territory never see it.
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await stack.stub.GetNotice(
            pb.GetNoticeRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ala"])
        )
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND


async def test_ntf1_an_older_admission_event_without_the_facts_still_gives_a_clear_notice(
    stack: Stack,
) -> None:
    admitted = admission(facts=False)
    await publish(stack, admitted)
    police = (await notices_of(stack, admitted.stay_id))["police"]
    assert rules.NOT_GIVEN in police.text and "2 minor child(ren)" in police.text


async def test_shl3_ntf7_delivered_by_webhook_email_and_letter_meets_the_obligation(
    stack: Stack,
) -> None:
    admitted = admission()
    event_id = await publish(stack, admitted)
    found = await notices_of(stack, admitted.stay_id)
    police, guardianship = found["police"], found["guardianship"]
    now = utcnow()
    stack.receiver.now = now
    assert stack.notify.sweeper is not None
    await stack.notify.sweeper.sweep_once(now)

    # Webhook: signed, verified by the receiver, carrying the notice's content.
    got = [b for b in stack.receiver.verified if b["notice_id"] == police.id]
    assert len(got) == 1 and got[0]["content"]["adult"]["full_name"] == ADULT
    # Email: accepted by the SMTP server, to the agency's mailbox, with the facts.
    mails = [m for m in stack.mailbox.messages if police.id.encode() in m[2]]
    assert [m[1] for m in mails] == [["duty@pol-ast-1.kz"]]
    body = email.message_from_bytes(mails[0][2], policy=email.policy.default)
    assert isinstance(body, EmailMessage)
    assert ADULT in body.get_content() and SHELTER[1] in body.get_content()
    assert police.id in str(body["Subject"]) and ADULT not in str(body["Subject"])
    # Letter: registered with a number, Kazakh and Russian letters rendered.
    channels = await deliveries(stack, police.id, "police.ast")
    assert set(channels) == {"webhook", "email", "letter"}
    assert {d.state for d in channels.values()} == {pb.DELIVERY_STATE_DELIVERED}
    assert channels["webhook"].receipt == "HTTP 200"
    assert channels["email"].receipt.startswith("SMTP 250")
    letter = await stack.stub.GetLetter(
        pb.GetLetterRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ast"])
    )
    assert letter.registration_number.startswith("KZ-AST-2026-")
    assert channels["letter"].receipt == letter.registration_number
    printed = pypdf.PdfReader(io.BytesIO(letter.pdf)).pages[0].extract_text()
    for fact in (ADULT, MINORS[0][0], MINORS[1][0], SHELTER[1], SPECIALIST[0]):
        assert fact in printed, fact
    for letter_ in "әңғүұқөһ":
        assert letter_ in printed.lower(), letter_

    # The obligation is met at delivery, on time; the notice waits for acknowledgement.
    async with stack.notify.wiring.uow() as session:  # type: ignore[union-attr]
        obligations = (
            await session.exec(
                select(Obligation).where(
                    col(Obligation.subject).in_(
                        [f"notice/{police.id}", f"notice/{guardianship.id}"]
                    )
                )
            )
        ).all()
    assert {(o.state, o.on_time, o.met_at) for o in obligations} == {("met", True, now)}
    notice = (
        await stack.stub.GetNotice(
            pb.GetNoticeRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ast"])
        )
    ).notice
    assert notice.state == pb.NOTICE_STATE_PENDING  # acknowledgement is apart (NTF-7)
    assert notice.delivered_at.ToDatetime(tzinfo=UTC) == now

    # A redelivered admission event and another sweep change nothing: no notice, no send twice.
    await publish(stack, admitted, event_id=event_id)
    await asyncio.sleep(1.0)
    assert set(await notices_of(stack, admitted.stay_id)) == {"police", "guardianship"}
    assert len(await notices_of(stack, admitted.stay_id)) == 2
    await stack.notify.sweeper.sweep_once(now + timedelta(minutes=5))
    assert len([b for b in stack.receiver.verified if b["notice_id"] == police.id]) == 1
    assert len([m for m in stack.mailbox.messages if police.id.encode() in m[2]]) == 1


async def test_ntf7_a_failing_webhook_is_retried_with_backoff_until_its_receipt(
    stack: Stack,
) -> None:
    admitted = admission("kz-ala")
    await publish(stack, admitted)
    police = (await notices_of(stack, admitted.stay_id))["police"]
    assert stack.notify.wiring is not None and stack.notify.sweeper is not None
    async with stack.notify.wiring.uow() as session:
        (hook,) = (
            await session.exec(
                select(Delivery).where(
                    Delivery.notice_id == police.id, Delivery.channel == "webhook"
                )
            )
        ).all()
    start = utcnow()
    stack.receiver.now = start
    stack.receiver.fail_next = 2
    await stack.notify.sweeper.sweep_once(start)  # 503
    await stack.notify.sweeper.sweep_once(start + timedelta(seconds=29))  # not due yet
    await stack.notify.sweeper.sweep_once(start + timedelta(seconds=30))  # 503 again
    await stack.notify.sweeper.sweep_once(start + timedelta(seconds=89))  # not due yet
    await stack.notify.sweeper.sweep_once(start + timedelta(seconds=90))  # 200
    async with stack.notify.wiring.uow() as session:
        hook = await session.get(Delivery, hook.id)  # type: ignore[assignment]
    assert hook is not None
    assert (hook.state, hook.attempts, hook.receipt) == ("delivered", 3, "HTTP 200")
    reply = await stack.stub.ListDeliveries(
        pb.ListDeliveriesRequest(notice_id=police.id), metadata=bearer(stack.tokens["police.ala"])
    )
    (listed,) = [d for d in reply.deliveries if d.channel == "webhook"]
    assert [(a.ok, a.detail) for a in listed.history] == [
        (False, "HTTP 503"),
        (False, "HTTP 503"),
        (True, "HTTP 200"),
    ]
    assert [a.at.ToDatetime(tzinfo=UTC) - start for a in listed.history] == [
        timedelta(0),
        timedelta(seconds=30),
        timedelta(seconds=90),
    ]


async def test_ntf7_acknowledgement_is_separate_with_its_own_reminder_and_escalation_before_due(
    stack: Stack,
) -> None:
    admitted = admission()
    await publish(stack, admitted)
    found = await notices_of(stack, admitted.stay_id)
    police, guardianship = found["police"], found["guardianship"]
    assert stack.notify.sweeper is not None and stack.notify.wiring is not None
    delivered = utcnow()
    stack.receiver.now = delivered
    await stack.notify.sweeper.sweep_once(delivered)

    # Police acknowledges; guardianship may not acknowledge the police's notice: nothing written.
    with pytest.raises(grpc.aio.AioRpcError) as wrong:
        await stack.stub.AcknowledgeNotice(
            pb.AcknowledgeNoticeRequest(notice_id=police.id),
            metadata=bearer(stack.tokens["guardianship.ast"]),
        )
    assert wrong.value.code() == grpc.StatusCode.NOT_FOUND
    async with stack.notify.wiring.uow() as session:
        untouched = await session.get(Notice, police.id)
    assert untouched is not None and untouched.state == "pending"
    assert untouched.acknowledged_by_agency == ""
    acked = await stack.stub.AcknowledgeNotice(
        pb.AcknowledgeNoticeRequest(notice_id=police.id),
        metadata=bearer(stack.tokens["police.ast"]),
    )
    assert acked.notice.state == pb.NOTICE_STATE_ACKNOWLEDGED

    # Guardianship does not acknowledge: the center is reminded 4 h after delivery (profile) ...
    remind_at = delivered + timedelta(hours=4)
    await stack.notify.sweeper.sweep_once(remind_at - timedelta(seconds=1))
    assert await reminders_of(stack, "caseworker.ast", guardianship.id) == []
    await stack.notify.sweeper.sweep_once(remind_at)
    (reminder,) = await reminders_of(stack, "caseworker.ast", guardianship.id)
    assert (reminder.kind, reminder.rule, reminder.recipient_agency) == (
        pb.REMINDER_KIND_REMINDER,
        "NTF-7",
        "fc-ast-1",
    )
    assert ADULT not in reminder.text

    # ... and it escalates to the center head 6 h before it is due (profile), not after.
    escalate_at = guardianship.due_at - timedelta(hours=6)
    await stack.notify.sweeper.sweep_once(escalate_at - timedelta(seconds=1))
    assert [
        r
        for r in await reminders_of(stack, "head.ast", guardianship.id)
        if r.kind == pb.REMINDER_KIND_ESCALATION
    ] == []
    await stack.notify.sweeper.sweep_once(escalate_at)
    escalations = [
        r
        for r in await reminders_of(stack, "head.ast", guardianship.id)
        if r.kind == pb.REMINDER_KIND_ESCALATION
    ]
    assert len(escalations) == 1
    assert escalations[0].recipient_role == "center-head"
    assert escalations[0].due_at.ToDatetime(tzinfo=UTC) == guardianship.due_at
    assert "not acknowledged" in escalations[0].text
    # The acknowledged police notice does not escalate; a second sweep adds nothing.
    await stack.notify.sweeper.sweep_once(escalate_at + timedelta(minutes=1))
    assert [r.kind for r in await reminders_of(stack, "head.ast", police.id)] == []
    async with stack.notify.wiring.uow() as session:
        rows = (
            await session.exec(
                select(Reminder).where(Reminder.subject == f"notice/{guardianship.id}")
            )
        ).all()
    assert sorted(r.stage for r in rows) == ["before-due", "unacknowledged"]
