"""Notify use cases: create the notices the law requires, show them to their recipients, record
acknowledgements (SHL-3, NTF-1, NTF-7); turn every service's approaching and overdue obligations
into reminders and escalations (NTF-7, MON-3). Never commits: the caller's unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlmodel
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, db, obligations, outbox, paging
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.events.v1.intake_pb2 import AppealRedirected, AppealRegistered
from kamqor.events.v1.notify_pb2 import (
    AdmissionNoticesCreated,
    NoticeAcknowledged,
    NoticeCreated,
    NoticeDelivered,
)
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.events.v1.plans_pb2 import MeasureSent, PlanApproved, PlanClosed
from kamqor.events.v1.registry_pb2 import DecisionSent
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import dt, ts
from kamqor.territories import territory as territory_of
from notify import letters, models, rules
from notify.channels import ChannelConfig, Channels, target_of
from notify.models import Delivery, DeliveryAttempt, Letter, Notice, Reminder

SOURCE = "kamqor.notify"
READERS = (*rules.RECIPIENT_ROLES, *rules.SENDER_ROLES, *rules.SHELTER_ROLES)
MAX_SUBJECTS = 200


def _facts(admitted: StayAdmitted) -> rules.AdmissionFacts:
    """The need-to-know fields shelter sends (absent on older events: left empty)."""
    adult = (
        rules.Person(full_name=admitted.adult_full_name, birth_date=admitted.adult_birth_date)
        if admitted.adult_full_name
        else None
    )
    return rules.AdmissionFacts(
        adult=adult,
        minors=tuple(
            rules.Person(full_name=m.full_name, birth_date=m.birth_date)
            for m in admitted.minor_children
        ),
        shelter_name=admitted.shelter_name,
        shelter_address=admitted.shelter_address,
        specialist_name=admitted.specialist_name,
        specialist_contact=admitted.specialist_contact,
    )


async def create_admission_notices(
    session: AsyncSession,
    *,
    event_id: str,
    admitted: StayAdmitted,
    channels: Channels | None = None,
) -> list[Notice]:
    """A shelter admission with minors → written notices to the recipients the profile names
    (police and guardianship), due by the profile's notice term (SHL-3: 24 hours), each with
    its deliveries on the recipient's channels (SHL-3, NTF-1). The center's obligation is met
    when a notice is delivered; acknowledgement is tracked apart (NTF-7)."""
    admitted_at = dt(admitted.admitted_at)
    profile = get_profile(territory_of(admitted.territory).profile)
    shelter = profile.current.data.shelter
    # What the shelter read from the profile at admission wins; an older event without it
    # takes the profile as it is now.
    recipients = (
        tuple(admitted.notice_recipients) or tuple(shelter.notify) or rules.ADMISSION_RECIPIENTS
    )
    rule = admitted.notice_rule or shelter.minors_notice_term or rules.ADMISSION_RULE
    in_writing = admitted.notice_in_writing or shelter.notice_in_writing
    drafts = rules.admission_notices(
        stay_id=admitted.stay_id,
        center_id=admitted.center_id,
        admitted_at=admitted_at,
        minors=admitted.minors,
        zone=profile.zone,
        facts=_facts(admitted),
        recipients=recipients,
    )
    created: list[Notice] = []
    for draft in drafts:
        notice = _stage_notice(
            session,
            rule=rule,
            draft=draft,
            territory=admitted.territory,
            sender_agency=admitted.center_id,
            subject=f"stay/{admitted.stay_id}",
            arose_at=admitted_at,
            event_id=event_id,
            channels=(channels or Channels()).for_recipient(
                territory=admitted.territory,
                agency_type=draft.recipient_agency_type,
                in_writing=in_writing,
            ),
        )
        created.append(notice)
    # In the same transaction as the notices: the shelter re-sends the admission until this
    # confirmation arrives (the database is the record, not the broker).
    _stage_admission_confirmation(
        session, event_id=event_id, stay_id=admitted.stay_id, notices=len(created)
    )
    return created


async def confirm_admission_notices(
    session: AsyncSession, *, event_id: str, admitted: StayAdmitted
) -> None:
    """An admission delivered again after it was handled (the shelter re-sent it): its notices
    exist, so confirm once more, in case the first confirmation is what the broker lost."""
    count = await session.scalar(
        sqlmodel.select(sqlmodel.func.count())
        .select_from(Notice)
        .where(col(Notice.source_event_id) == event_id)
    )
    _stage_admission_confirmation(
        session, event_id=event_id, stay_id=admitted.stay_id, notices=int(count or 0)
    )


def _stage_admission_confirmation(
    session: AsyncSession, *, event_id: str, stay_id: str, notices: int
) -> None:
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.notify.admission_notices.created",
        entity=f"stay/{stay_id}",
        payload=AdmissionNoticesCreated(
            admission_event_id=event_id, stay_id=stay_id, notices=notices
        ),
    )


def _stage_notice(
    session: AsyncSession,
    *,
    rule: str,
    draft: rules.NoticeDraft,
    territory: str,
    sender_agency: str,
    subject: str,
    arose_at: datetime,
    event_id: str,
    channels: Sequence[ChannelConfig],
    term: str = "",
    due_at: datetime | None = None,
) -> Notice:
    """One notice with its obligation (due time from the profile's `term`, the rule itself by
    default), its deliveries and its `NoticeCreated` event, all staged in the caller's
    transaction. With `due_at` (a notice the law gives no term, PLN-4 copies) no obligation is
    opened: the notice still has its due time and escalates by it (NTF-7)."""
    notice_id = new_id()
    now = utcnow()
    if due_at is None:
        due_at = obligations.open_obligation(
            session,
            rule=term or rule,
            subject=f"notice/{notice_id}",
            territory=territory,
            arose_at=arose_at,
            responsible_agency=sender_agency,
        ).due_at
    lead = get_profile(territory_of(territory).profile).current.data.notices.escalate_before
    notice = Notice(
        id=notice_id,
        rule=rule,
        recipient_agency_type=draft.recipient_agency_type,
        recipient_agency=draft.recipient_agency,
        territory=territory,
        sender_agency=sender_agency,
        subject=subject,
        text=draft.text,
        content=draft.content,
        created_at=now,
        due_at=due_at,
        escalate_at=rules.escalate_at(created_at=now, due_at=due_at, lead=lead),
        source_event_id=event_id,
    )
    db.stage(session, notice)  # Core inserts at the end of the event's (or batch's) unit
    for channel in channels:
        db.stage(
            session,
            Delivery(
                id=new_id(),
                notice_id=notice_id,
                channel=channel.kind,
                target=target_of(channel),
                next_attempt_at=now,
                created_at=now,
            ),
        )
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.notify.notice.created",
        entity=f"notice/{notice_id}",
        payload=NoticeCreated(
            notice_id=notice_id,
            rule=notice.rule,
            recipient_agency_type=notice.recipient_agency_type,
            territory=notice.territory,
            due_at=ts(notice.due_at),
            recipient_agency=notice.recipient_agency,
        ),
    )
    return notice


async def create_rule_notice(
    session: AsyncSession,
    *,
    event_id: str,
    territory: str,
    notice: rules.RuleNotice | None,
    channels: Channels | None = None,
    due_at: datetime | None = None,
) -> Notice | None:
    """The notice a rule requires (NTF-2 … NTF-6), due by the term the territory's profile sets
    for it; none when the event calls for none or the profile has no such term. With `due_at`
    (a notice the law gives no term) it is due then, with no obligation. The caller's inbox
    records the event id, so a redelivered event creates nothing twice."""
    if notice is None:
        return None
    if due_at is None and not get_profile(territory_of(territory).profile).has_rule(notice.term):
        return None
    return _stage_notice(
        session,
        rule=notice.rule,
        term=notice.term,
        due_at=due_at,
        draft=notice.draft,
        territory=territory,
        sender_agency=notice.sender_agency,
        subject=notice.subject,
        arose_at=notice.arose_at,
        event_id=event_id,
        channels=(channels or Channels()).for_recipient(
            territory=territory,
            agency_type=notice.draft.recipient_agency_type,
            agency=notice.draft.recipient_agency,
            in_writing=notice.in_writing,
        ),
    )


def _zone(territory: str) -> ZoneInfo:
    return get_profile(territory_of(territory).profile).zone


async def create_violation_notice(
    session: AsyncSession, *, event_id: str, registered: AppealRegistered, channels: Channels
) -> Notice | None:
    """NTF-2: an appeal on a threat to a child's life or health → guardianship, immediately."""
    notice = rules.violation_notice(
        appeal_id=registered.appeal_id,
        journal_number=registered.journal_number,
        center_id=registered.center_id,
        registered_at=dt(registered.registered_at),
        threat_to_life=registered.threat_to_life,
        minors=registered.minors,
        zone=_zone(registered.territory),
    )
    return await create_rule_notice(
        session,
        event_id=event_id,
        territory=registered.territory,
        notice=notice,
        channels=channels,
    )


async def create_measure_notice(
    session: AsyncSession, *, event_id: str, sent: MeasureSent, channels: Channels
) -> Notice | None:
    """NTF-3: a measure sent to its agency (PLN-5) → the agency, due by its PLN-6 term."""
    notice = rules.measure_notice(
        measure_id=sent.measure_id,
        plan_id=sent.plan_id,
        agency_id=sent.agency_id,
        agency_type=sent.agency_type,
        kind=sent.kind,
        deadline=sent.deadline,
        sent_at=dt(sent.sent_at),
        # The event names no center: the territory's center coordinates the plans (PLN-5).
        center_id=territory_of(sent.territory).center,
        zone=_zone(sent.territory),
    )
    return await create_rule_notice(
        session, event_id=event_id, territory=sent.territory, notice=notice, channels=channels
    )


async def create_plan_copies(
    session: AsyncSession, *, event_id: str, approved: PlanApproved, channels: Channels
) -> list[Notice]:
    """PLN-4: a copy of the approved plan to each responsible organisation, by id, on that
    organisation's channels, and one to the family in writing when the event names it; once per
    event (the inbox records it, and the notices' unique key holds one per event and recipient)."""
    approved_at = dt(approved.approved_at)
    profile = get_profile(territory_of(approved.territory).profile)
    copies = rules.plan_copy_notices(
        plan_id=approved.plan_id,
        center_id=approved.center_id,
        situation=approved.situation,
        approved_at=approved_at,
        term_ends_at=dt(approved.term_ends_at) if approved.HasField("term_ends_at") else None,
        measures=approved.measures,
        agency_ids=list(approved.agency_ids),
        zone=profile.zone,
        family_id=approved.family_id,
    )
    legal = profile.has_rule(rules.COPY_TERM)
    practice = (
        None
        if legal
        else profile.at(approved_at)
        .deadline(rules.COPY_RULE, "working_days", rules.COPY_PRACTICE_WORKING_DAYS, approved_at)
        .due_at
    )
    created = [
        await create_rule_notice(
            session,
            event_id=event_id,
            territory=approved.territory,
            notice=copy,
            channels=channels,
            due_at=practice,
        )
        for copy in copies
    ]
    return [n for n in created if n is not None]


async def create_closure_notice(
    session: AsyncSession, *, event_id: str, closed: PlanClosed, channels: Channels
) -> Notice | None:
    """NTF-4: a closure decision → the family, in writing (PLN-11)."""
    notice = rules.closure_notice(
        plan_id=closed.plan_id,
        family_id=closed.family_id,
        center_id=closed.center_id,
        reason=closed.reason,
        closed_at=dt(closed.closed_at),
        zone=_zone(closed.territory),
    )
    closed_at = dt(closed.closed_at)
    # PLN-11 names no term: product practice gives the letter a few working days, so it has a
    # due time and escalates (NTF-7), with no legal obligation.
    practice = (
        get_profile(territory_of(closed.territory).profile)
        .at(closed_at)
        .deadline(
            rules.CLOSURE_TERM, "working_days", rules.CLOSURE_PRACTICE_WORKING_DAYS, closed_at
        )
        .due_at
    )
    return await create_rule_notice(
        session,
        event_id=event_id,
        territory=closed.territory,
        notice=notice,
        channels=channels,
        due_at=practice,
    )


async def create_redirection_notice(
    session: AsyncSession, *, event_id: str, redirected: AppealRedirected, channels: Channels
) -> Notice | None:
    """NTF-5: a redirection → the competent organisation (INT-3) or identification (INT-7)."""
    notice = rules.redirection_notice(
        appeal_id=redirected.appeal_id,
        journal_number=redirected.journal_number,
        center_id=redirected.center_id,
        organisation=redirected.organisation,
        term=redirected.rule,
        redirected_at=dt(redirected.redirected_at),
        zone=_zone(redirected.territory),
    )
    return await create_rule_notice(
        session,
        event_id=event_id,
        territory=redirected.territory,
        notice=notice,
        channels=channels,
    )


async def create_decision_notice(
    session: AsyncSession, *, event_id: str, sent: DecisionSent, channels: Channels
) -> Notice | None:
    """NTF-6: a registry decision sent by the commission → the registry office of its
    territory, due by the office's term to enter it (REG-4/enter, REG-6/enter)."""
    notice = rules.decision_notice(
        decision_id=sent.decision_id,
        family_id=sent.family_id,
        kind=sent.kind,
        commission_id=sent.commission_id,
        enter_rule=sent.enter_rule,
        sent_at=dt(sent.sent_at),
        zone=_zone(sent.territory),
    )
    return await create_rule_notice(
        session, event_id=event_id, territory=sent.territory, notice=notice, channels=channels
    )


class NoticeOrder(StrEnum):
    NEWEST_FIRST = "newest_first"
    DUE_FIRST = "due_first"


# order -> (column, descending)
_NOTICE_ORDERS = {
    NoticeOrder.NEWEST_FIRST: ("created_at", True),
    NoticeOrder.DUE_FIRST: ("due_at", False),
}


async def list_notices(
    session: AsyncSession,
    *,
    principal: Principal,
    state: rules.NoticeState | None,
    page_token: str,
    page_size: int,
    subjects: Sequence[str] = (),
    order: NoticeOrder = NoticeOrder.NEWEST_FIRST,
) -> tuple[list[Notice], str]:
    """The caller's notices in `order` (newest first by default), and the token of the next
    page ('' when none); only those about `subjects` (e.g. `stay/<id>`) when given."""
    require_role(principal, *READERS)
    if len(subjects) > MAX_SUBJECTS:
        raise Invalid("subjects", f"at most {MAX_SUBJECTS}")
    column, descending = _NOTICE_ORDERS[order]
    rows = await models.visible_to(
        session,
        principal,
        state=state,
        cursor=paging.decode(page_token, order=order, key_type=datetime),
        limit=page_size + 1,
        subjects=subjects,
        order=column,
        descending=descending,
    )
    next_token = paging.next_token(rows, page_size, order, lambda n: getattr(n, column))
    page = rows[:page_size]
    # The texts name the admitted and their children (need to know): every read is audited.
    audit.record_many(
        session,
        principal=principal,
        action="read",
        entities=[f"notice/{n.id}" for n in page],
        purpose="NTF-7 notices",
    )
    return page, next_token


async def get_notice(session: AsyncSession, *, principal: Principal, notice_id: str) -> Notice:
    notice = await _visible_notice(session, principal=principal, notice_id=notice_id)
    audit.record(
        session, principal=principal, action="read", entity=f"notice/{notice.id}", purpose="NTF-7"
    )
    return notice


async def _visible_notice(session: AsyncSession, *, principal: Principal, notice_id: str) -> Notice:
    require_role(principal, *READERS)
    notice = await session.get(Notice, parse_id(notice_id, field="notice_id"))
    if notice is None or not (
        rules.addressed_to(
            principal,
            recipient_agency_type=notice.recipient_agency_type,
            territory=notice.territory,
            recipient_agency=notice.recipient_agency,
        )
        or rules.sent_by(principal, sender_agency=notice.sender_agency, rule=notice.rule)
    ):
        # Someone else's notice is reported as absent, so its existence does not leak.
        raise NotFound("notice not found")
    return notice


async def acknowledge_notice(
    session: AsyncSession, *, principal: Principal, notice_id: str, now: datetime | None = None
) -> Notice:
    """The receiving agency acknowledges (NTF-7); a repeat changes nothing. Acknowledgement is
    the recipient's act, tracked apart from the sender's obligation, which delivery meets."""
    require_role(principal, *rules.RECIPIENT_ROLES)
    notice = await _visible_notice(session, principal=principal, notice_id=notice_id)
    if not rules.addressed_to(
        principal,
        recipient_agency_type=notice.recipient_agency_type,
        territory=notice.territory,
        recipient_agency=notice.recipient_agency,
    ):
        # Another agency type of the territory, or the sender: it is not theirs to acknowledge.
        raise NotFound("notice not found")
    if notice.state == rules.NoticeState.ACKNOWLEDGED:
        return notice
    mark_acknowledged(
        session, notice, agency=principal.agency, by=principal.subject, now=now or utcnow()
    )
    audit.record(
        session,
        principal=principal,
        action="update",
        entity=f"notice/{notice.id}",
        purpose="NTF-7 ack",
    )
    return notice


def mark_acknowledged(
    session: AsyncSession, notice: Notice, *, agency: str, by: str, now: datetime
) -> None:
    """Record the recipient's acknowledgement (NTF-7) and publish it; the caller checked that
    `agency` is the recipient and that the notice is not acknowledged yet."""
    notice.state = rules.NoticeState.ACKNOWLEDGED
    notice.acknowledged_at = now
    notice.acknowledged_by_agency = agency
    notice.acknowledged_by = by
    session.add(notice)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.notify.notice.acknowledged",
        entity=f"notice/{notice.id}",
        payload=NoticeAcknowledged(
            notice_id=notice.id,
            rule=notice.rule,
            acknowledged_by_agency=agency,
            acknowledged_at=ts(now),
            on_time=rules.acknowledged_on_time(now, notice.due_at),
        ),
    )


async def record_obligation_due(
    session: AsyncSession, *, event_id: str, producer: str, due: ObligationDue
) -> Reminder:
    """An approaching obligation → a reminder to its responsible agency; an overdue one → an
    escalation to the head of the territory's center (NTF-7, MON-3). One per obligation and
    stage: a repeated event returns the reminder already recorded."""
    if (
        earlier := await models.reminder_of(
            session, obligation_id=due.obligation_id, stage=due.stage
        )
    ) is not None:
        return earlier
    territory = territory_of(due.territory)
    due_at = dt(due.due_at)
    draft = rules.reminder_for(
        stage=due.stage,
        rule=due.rule,
        subject=due.subject,
        responsible_agency=due.responsible_agency,
        territory_center=territory.center,
        due_at=due_at,
        zone=get_profile(territory.profile).zone,
    )
    reminder = Reminder(
        id=new_id(),
        obligation_id=due.obligation_id,
        producer=producer,
        stage=due.stage,
        kind=draft.kind,
        rule=due.rule,
        subject=due.subject,
        territory=territory.code,
        responsible_agency=due.responsible_agency,
        responsible_person=due.responsible_person,
        recipient_agency=draft.recipient_agency,
        recipient_role=draft.recipient_role,
        text=draft.text,
        due_at=due_at,
        created_at=utcnow(),
        source_event_id=event_id,
    )
    session.add(reminder)
    return reminder


async def list_reminders(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: rules.ReminderKind | None,
    page_token: str,
    page_size: int,
) -> tuple[list[Reminder], str]:
    """Reminders to the caller's agency or to the caller as responsible person, and a center
    head's escalations, in the caller's territory, newest first; the next page's token."""
    require_role(principal, *rules.REMINDER_READERS)
    before = parse_id(page_token, field="page_token") if page_token else None
    rows = await models.reminders_for(
        session, principal, kind=kind, before_id=before, limit=page_size + 1
    )
    next_token = rows[page_size - 1].id if len(rows) > page_size else ""
    return rows[:page_size], next_token


# --- delivery, escalation before due, acknowledgement reminders (SHL-3, NTF-7) --------------


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed delivery, with what its channel sends; the wire runs outside any transaction."""

    delivery_id: str
    channel: str
    target: str
    notice_id: str
    territory: str
    recipient_agency_type: str
    recipient_agency: str
    subject: str
    text: str
    payload: dict[str, Any]
    # A letter's registration number, taken when claimed; the PDF is rendered outside.
    registration: str = ""


def _payload(notice: Notice) -> dict[str, Any]:
    """What the recipient's system receives: the notice and its need-to-know content only."""
    return {
        "notice_id": notice.id,
        "rule": notice.rule,
        "recipient_agency_type": notice.recipient_agency_type,
        "recipient_agency": notice.recipient_agency,
        "territory": notice.territory,
        "sender_agency": notice.sender_agency,
        "subject": notice.subject,
        "created_at": notice.created_at.isoformat(),
        "due_at": notice.due_at.isoformat(),
        "text": notice.text,
        "content": notice.content or {},
    }


async def claim_deliveries(
    session: AsyncSession, *, now: datetime, limit: int = 50
) -> list[DeliveryJob]:
    """The pending deliveries due by `now`, leased for `CLAIM_LEASE` (another replica skips
    them; a sender that dies leaves them to be retried). A letter takes its registration number
    here; its PDF is rendered outside the transaction (`letter_of`)."""
    rows = (
        await session.exec(
            sqlmodel.select(Delivery)
            .where(col(Delivery.state) == rules.DeliveryState.PENDING)
            .where(col(Delivery.next_attempt_at) <= now)
            .order_by(col(Delivery.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    jobs: list[DeliveryJob] = []
    for delivery in rows:
        notice = await session.get(Notice, delivery.notice_id)
        assert notice is not None  # a foreign key
        registration = ""
        if delivery.channel == rules.Channel.LETTER:
            nextval = sqlmodel.func.nextval("letter_registration_seq")
            sequence = (await session.exec(sqlmodel.select(nextval))).one()
            zone = get_profile(territory_of(notice.territory).profile).zone
            registration = letters.registration_number(
                territory=notice.territory, year=now.astimezone(zone).year, sequence=int(sequence)
            )
        delivery.next_attempt_at = now + rules.CLAIM_LEASE
        session.add(delivery)
        jobs.append(
            DeliveryJob(
                delivery_id=delivery.id,
                channel=delivery.channel,
                target=delivery.target,
                notice_id=notice.id,
                territory=notice.territory,
                recipient_agency_type=notice.recipient_agency_type,
                recipient_agency=notice.recipient_agency,
                subject=f"Kamqor notice {notice.rule} {notice.id}",
                text=notice.text,
                payload=_payload(notice),
                registration=registration,
            )
        )
    return jobs


def letter_of(job: DeliveryJob, *, now: datetime) -> bytes:
    """The PDF of a claimed letter (CPU-bound: run it off the event loop)."""
    payload = job.payload
    return letters.render(
        registration=job.registration,
        registered_at=now,
        rule=payload["rule"],
        sender=payload["sender_agency"],
        recipient=payload["recipient_agency"] or payload["recipient_agency_type"],
        territory=payload["territory"],
        due_at=datetime.fromisoformat(payload["due_at"]),
        text=job.text,
    )


async def record_outcome(
    session: AsyncSession,
    *,
    delivery_id: str,
    ok: bool,
    detail: str,
    now: datetime,
    letter_pdf: bytes | None = None,
) -> Delivery:
    """Record one attempt: delivered, or retried with backoff, or given up (then the notice
    stays undelivered and escalates before its due time, NTF-7)."""
    delivery = await session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("delivery not found")
    if delivery.state != rules.DeliveryState.PENDING:
        return delivery  # a late duplicate of an outcome already recorded
    session.add(DeliveryAttempt(id=new_id(), delivery_id=delivery.id, at=now, ok=ok, detail=detail))
    if ok:
        notice = await session.get(Notice, delivery.notice_id)
        assert notice is not None
        if letter_pdf is not None and await session.get(Letter, notice.id) is None:
            # Registered: its number (`detail`) and the PDF as sent are the record.
            session.add(
                Letter(
                    notice_id=notice.id,
                    registration_number=detail,
                    registered_at=now,
                    pdf=letter_pdf,
                )
            )
        await _delivered(session, delivery, notice, now=now, receipt=detail)
        return delivery
    delivery.attempts += 1
    wait = rules.retry_after(delivery.attempts)
    if wait is None:
        delivery.state = rules.DeliveryState.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + wait
    session.add(delivery)
    return delivery


async def _delivered(
    session: AsyncSession, delivery: Delivery, notice: Notice, *, now: datetime, receipt: str
) -> None:
    """Mark the delivery done; the notice's first delivery meets the sender's obligation
    (SHL-3: notified within 24 hours) and starts the acknowledgement's own reminder."""
    delivery.state = rules.DeliveryState.DELIVERED
    delivery.attempts += 1
    delivery.delivered_at = now
    delivery.next_attempt_at = None
    delivery.receipt = receipt[:500]
    session.add(delivery)
    if notice.delivered_at is not None:
        return
    notice.delivered_at = now
    hours = get_profile(territory_of(notice.territory).profile).current.data.notices
    notice.ack_remind_at = now + timedelta(hours=hours.acknowledgement_reminder_hours)
    session.add(notice)
    for obligation in await obligations.for_subject(session, f"notice/{notice.id}"):
        obligations.meet(session, obligation, at=now)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.notify.notice.delivered",
        entity=f"notice/{notice.id}",
        payload=NoticeDelivered(
            notice_id=notice.id,
            rule=notice.rule,
            territory=notice.territory,
            recipient_agency_type=notice.recipient_agency_type,
            channel=delivery.channel,
            delivered_at=ts(now),
            on_time=now <= notice.due_at,
            subject=notice.subject,
        ),
    )


async def escalate_due(session: AsyncSession, *, now: datetime, limit: int = 200) -> int:
    """NTF-7: a notice still undelivered or unacknowledged at its `escalate_at` (the profile's
    lead before the due time) escalates to the head of the sending center; a delivered notice
    unacknowledged after the profile's hours reminds the sending center. Once each."""
    count = 0
    late = (
        await session.exec(
            sqlmodel.select(Notice)
            .where(col(Notice.escalated_at).is_(None))
            .where(col(Notice.state) != rules.NoticeState.ACKNOWLEDGED)
            .where(col(Notice.escalate_at) <= now)
            .order_by(col(Notice.escalate_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for notice in late:
        undelivered = notice.delivered_at is None
        _stage_reminder(
            session,
            notice,
            stage=rules.BEFORE_DUE_STAGE,
            kind=rules.ReminderKind.ESCALATION,
            recipient_role=rules.HEAD_AUDIENCE,
            text=(
                f"Escalation under NTF-7 before the due time: notice {notice.id} ({notice.rule}) "
                f"to {_recipient(notice)} is "
                f"{'not delivered' if undelivered else 'not acknowledged'}; due by "
                f"{_local(notice)}."
            ),
            now=now,
        )
        notice.escalated_at = now
        session.add(notice)
        count += 1
    unacknowledged = (
        await session.exec(
            sqlmodel.select(Notice)
            .where(col(Notice.ack_reminded_at).is_(None))
            .where(col(Notice.state) == rules.NoticeState.PENDING)
            .where(col(Notice.delivered_at).is_not(None))
            .where(col(Notice.ack_remind_at) <= now)
            .order_by(col(Notice.ack_remind_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for notice in unacknowledged:
        _stage_reminder(
            session,
            notice,
            stage=rules.UNACKNOWLEDGED_STAGE,
            kind=rules.ReminderKind.REMINDER,
            recipient_role=rules.AGENCY_AUDIENCE,
            text=(
                f"Reminder under NTF-7: notice {notice.id} ({notice.rule}) was delivered to "
                f"{_recipient(notice)} but is not acknowledged yet."
            ),
            now=now,
        )
        notice.ack_reminded_at = now
        session.add(notice)
        count += 1
    return count


def _recipient(notice: Notice) -> str:
    """The agency a notice names, else its type (no personal data)."""
    return notice.recipient_agency or notice.recipient_agency_type


def _local(notice: Notice) -> str:
    zone = get_profile(territory_of(notice.territory).profile).zone
    return notice.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _stage_reminder(
    session: AsyncSession,
    notice: Notice,
    *,
    stage: str,
    kind: rules.ReminderKind,
    recipient_role: str,
    text: str,
    now: datetime,
) -> None:
    """A reminder row of notify's own (the notice is the obligation); no personal data."""
    session.add(
        Reminder(
            id=new_id(),
            obligation_id=notice.id,
            producer="notify",
            stage=stage,
            kind=kind,
            rule="NTF-7",
            subject=f"notice/{notice.id}",
            territory=notice.territory,
            responsible_agency=notice.sender_agency,
            recipient_agency=notice.sender_agency,
            recipient_role=recipient_role,
            text=text,
            due_at=notice.due_at,
            created_at=now,
            source_event_id=f"notice/{notice.id}/{stage}"[:64],
        )
    )


async def list_deliveries(
    session: AsyncSession, *, principal: Principal, notice_id: str
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """The deliveries of a notice the caller may see, each with its attempts, oldest first."""
    notice = await _visible_notice(session, principal=principal, notice_id=notice_id)
    deliveries = (
        await session.exec(
            sqlmodel.select(Delivery)
            .where(col(Delivery.notice_id) == notice.id)
            .order_by(col(Delivery.channel), col(Delivery.id))
        )
    ).all()
    ids = [d.id for d in deliveries]
    attempts = (
        (
            await session.exec(
                sqlmodel.select(DeliveryAttempt)
                .where(col(DeliveryAttempt.delivery_id).in_(ids))
                .order_by(col(DeliveryAttempt.at), col(DeliveryAttempt.id))
            )
        ).all()
        if ids
        else []
    )
    by_delivery: dict[str, list[DeliveryAttempt]] = {i: [] for i in ids}
    for attempt in attempts:
        by_delivery[attempt.delivery_id].append(attempt)
    return [(d, by_delivery[d.id]) for d in deliveries]


async def get_letter(session: AsyncSession, *, principal: Principal, notice_id: str) -> Letter:
    """The registered letter of a notice the caller may see; the read is audited (it names
    the admitted and their children)."""
    notice = await _visible_notice(session, principal=principal, notice_id=notice_id)
    letter = await session.get(Letter, notice.id)
    if letter is None:
        raise NotFound("letter not registered (yet)")
    audit.record(
        session,
        principal=principal,
        action="read",
        entity=f"notice/{notice.id}",
        purpose="NTF-7 letter",
    )
    return letter
