"""Notify use cases: create the notices the law requires, show them to their recipients, record
acknowledgements (SHL-3, NTF-1, NTF-7); turn every service's approaching and overdue obligations
into reminders and escalations (NTF-7, MON-3). Never commits: the caller's unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, db, obligations, outbox, paging
from kamqor.access import require_role
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.errors import Invalid, NotFound
from kamqor.events.v1.notify_pb2 import NoticeAcknowledged, NoticeCreated
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import dt, ts
from kamqor.territories import territory as territory_of
from notify import models, rules
from notify.models import Notice, Reminder

SOURCE = "kamqor.notify"
READERS = (*rules.RECIPIENT_ROLES, *rules.SENDER_ROLES, *rules.SHELTER_ROLES)
MAX_SUBJECTS = 200


async def create_admission_notices(
    session: AsyncSession, *, event_id: str, admitted: StayAdmitted
) -> list[Notice]:
    """A shelter admission with minors → written notices to police and guardianship, due 24 hours
    after admission (SHL-3, NTF-1). The 24-hour obligation is the center's until acknowledged."""
    admitted_at = dt(admitted.admitted_at)
    profile = get_profile(territory_of(admitted.territory).profile)
    drafts = rules.admission_notices(
        stay_id=admitted.stay_id,
        center_id=admitted.center_id,
        admitted_at=admitted_at,
        minors=admitted.minors,
        zone=profile.zone,
    )
    created: list[Notice] = []
    for draft in drafts:
        notice_id = new_id()
        obligation = obligations.open_obligation(
            session,
            rule=rules.ADMISSION_RULE,
            subject=f"notice/{notice_id}",
            territory=admitted.territory,
            arose_at=admitted_at,
            responsible_agency=admitted.center_id,
        )
        notice = Notice(
            id=notice_id,
            rule=rules.ADMISSION_RULE,
            recipient_agency_type=draft.recipient_agency_type,
            territory=admitted.territory,
            sender_agency=admitted.center_id,
            subject=f"stay/{admitted.stay_id}",
            text=draft.text,
            created_at=utcnow(),
            due_at=obligation.due_at,
            source_event_id=event_id,
        )
        db.stage(session, notice)  # Core inserts at the end of the event's (or batch's) unit
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
            ),
        )
        created.append(notice)
    return created


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
    return rows[:page_size], next_token


async def get_notice(session: AsyncSession, *, principal: Principal, notice_id: str) -> Notice:
    require_role(principal, *READERS)
    notice = await session.get(Notice, parse_id(notice_id, field="notice_id"))
    if notice is None or not (
        rules.addressed_to(
            principal,
            recipient_agency_type=notice.recipient_agency_type,
            territory=notice.territory,
        )
        or rules.sent_by(principal, sender_agency=notice.sender_agency, rule=notice.rule)
    ):
        # Someone else's notice is reported as absent, so its existence does not leak.
        raise NotFound("notice not found")
    return notice


async def acknowledge_notice(
    session: AsyncSession, *, principal: Principal, notice_id: str, now: datetime | None = None
) -> Notice:
    """The receiving agency acknowledges (NTF-7); a repeat changes nothing."""
    require_role(principal, *rules.RECIPIENT_ROLES)
    notice = await get_notice(session, principal=principal, notice_id=notice_id)
    if not rules.addressed_to(
        principal, recipient_agency_type=notice.recipient_agency_type, territory=notice.territory
    ):
        raise NotFound("notice not found")
    if notice.state == rules.NoticeState.ACKNOWLEDGED:
        return notice
    now = now or utcnow()
    notice.state = rules.NoticeState.ACKNOWLEDGED
    notice.acknowledged_at = now
    notice.acknowledged_by_agency = principal.agency
    notice.acknowledged_by = principal.subject
    session.add(notice)
    entity = f"notice/{notice.id}"
    for obligation in await obligations.for_subject(session, entity):
        obligations.meet(session, obligation, at=now)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.notify.notice.acknowledged",
        entity=entity,
        payload=NoticeAcknowledged(
            notice_id=notice.id,
            rule=notice.rule,
            acknowledged_by_agency=principal.agency,
            acknowledged_at=ts(now),
            on_time=rules.acknowledged_on_time(now, notice.due_at),
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="NTF-7 ack")
    return notice


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
