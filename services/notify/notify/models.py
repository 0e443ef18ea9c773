"""Notice and reminder tables and the queries on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Index, LargeBinary, Text, UniqueConstraint, and_, or_
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.auth import Principal
from kamqor.db import UTCDateTime
from notify.rules import (
    ADMISSION_RULE,
    AGENCY_AUDIENCE,
    AGENCY_READERS,
    HEAD_AUDIENCE,
    HEAD_READERS,
    RECIPIENT_ROLES,
    SENDER_ROLES,
    SHELTER_ROLES,
    DeliveryState,
    NoticeState,
    ReminderKind,
)


class Notice(SQLModel, table=True):
    __tablename__ = "notices"
    # One notice per cause and recipient, whatever the redeliveries (NTF-7: never doubled).
    __table_args__ = (
        UniqueConstraint(
            "source_event_id",
            "recipient_agency_type",
            "recipient_agency",
            name="uq_notices_event_recipient",
        ),
    )

    id: str = Field(primary_key=True)
    rule: str = Field(max_length=50)
    recipient_agency_type: str = Field(max_length=50)
    # One agency by its id (NTF-3, PLN-4): only its staff see and acknowledge the notice; ''
    # addresses every agency of the type in the territory (police, guardianship: SHL-3).
    recipient_agency: str = Field(default="", max_length=100)
    territory: str = Field(max_length=50)
    sender_agency: str = Field(max_length=100)
    subject: str = Field(max_length=200)
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=NoticeState.PENDING, max_length=20)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by_agency: str = Field(default="", max_length=100)
    acknowledged_by: str = Field(default="", max_length=100)
    source_event_id: str = Field(max_length=64)
    # The structured need-to-know content (SHL-3): personal data, read only through audited
    # use cases.
    content: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # NTF-7: when it escalates to the center head if still undelivered or unacknowledged.
    escalate_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the sender is reminded of a missing acknowledgement (set on delivery).
    ack_remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ack_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """One notice on one channel; retried with backoff until delivered or given up."""

    __tablename__ = "deliveries"
    # One per notice and channel: a repeated event or sweep never sends twice by design.
    __table_args__ = (
        UniqueConstraint("notice_id", "channel", "target"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
    )

    id: str = Field(primary_key=True)
    notice_id: str = Field(foreign_key="notices.id", index=True, max_length=64)
    channel: str = Field(max_length=20)
    target: str = Field(max_length=500)
    state: str = Field(default=DeliveryState.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    receipt: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """Every try of a delivery, kept as the record of how the notice was sent."""

    __tablename__ = "delivery_attempts"

    id: str = Field(primary_key=True)
    delivery_id: str = Field(foreign_key="deliveries.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    ok: bool
    detail: str = Field(max_length=500)


class Receipt(SQLModel, table=True):
    """A signed receipt an agency's system posted for a notice (NTF-7); its id is the system's
    own, recorded once, so a replayed or retried receipt changes nothing."""

    __tablename__ = "receipts"

    id: str = Field(primary_key=True, max_length=64)
    notice_id: str = Field(foreign_key="notices.id", index=True, max_length=64)
    # The channels-file key whose secret signed it (`notify.channels`).
    sender: str = Field(max_length=120)
    signed_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)


class Letter(SQLModel, table=True):
    """A registered written notice: its number and the PDF as sent (SHL-3 in writing)."""

    __tablename__ = "letters"

    notice_id: str = Field(primary_key=True, foreign_key="notices.id")
    registration_number: str = Field(max_length=60, unique=True)
    registered_at: datetime = Field(sa_type=UTCDateTime)
    pdf: bytes = Field(sa_type=LargeBinary)


async def visible_to(
    session: AsyncSession,
    principal: Principal,
    *,
    state: NoticeState | None,
    cursor: paging.Cursor | None,
    limit: int,
    subjects: Sequence[str] = (),
    order: str = "created_at",
    descending: bool = True,
) -> list[Notice]:
    """Sorted by the `order` column (`created_at` or `due_at`), the id breaking ties; keyset
    pagination after `cursor`; only `subjects` when given."""
    conditions: list[ColumnElement[bool]] = []
    if principal.has_any(*RECIPIENT_ROLES):
        conditions.append(
            and_(
                col(Notice.territory) == principal.territory,
                or_(
                    col(Notice.recipient_agency) == principal.agency,
                    and_(
                        col(Notice.recipient_agency) == "",
                        col(Notice.recipient_agency_type) == principal.agency_type,
                    ),
                ),
            )
        )
    if principal.has_any(*SENDER_ROLES):
        conditions.append(col(Notice.sender_agency) == principal.agency)
    elif principal.has_any(*SHELTER_ROLES):
        conditions.append(
            and_(
                col(Notice.sender_agency) == principal.agency,
                col(Notice.rule) == ADMISSION_RULE,
            )
        )
    if not conditions:
        return []
    query = select(Notice).where(or_(*conditions))
    if subjects:
        query = query.where(col(Notice.subject).in_(list(subjects)))
    if state is not None:
        query = query.where(Notice.state == state)
    key = col(Notice.due_at) if order == "due_at" else col(Notice.created_at)
    row_id = col(Notice.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=descending))
    ordering = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    query = query.order_by(*ordering).limit(limit)
    return list((await session.exec(query)).all())


class Reminder(SQLModel, table=True):
    """A reminder (approaching) or escalation (overdue) about one obligation of any service."""

    __tablename__ = "reminders"
    # One per obligation and stage, whatever the redeliveries or repeated sweeps (NTF-7).
    __table_args__ = (UniqueConstraint("obligation_id", "stage"),)

    id: str = Field(primary_key=True)
    obligation_id: str = Field(max_length=64)
    producer: str = Field(max_length=20)
    stage: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    rule: str = Field(max_length=50)
    subject: str = Field(max_length=200)
    territory: str = Field(max_length=50)
    responsible_agency: str = Field(max_length=100)
    responsible_person: str = Field(default="", max_length=100)
    recipient_agency: str = Field(max_length=100)
    recipient_role: str = Field(max_length=50)
    text: str = Field(max_length=2000)
    due_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    source_event_id: str = Field(max_length=64)


async def reminder_of(session: AsyncSession, *, obligation_id: str, stage: str) -> Reminder | None:
    query = select(Reminder).where(Reminder.obligation_id == obligation_id, Reminder.stage == stage)
    return (await session.exec(query)).first()


async def reminders_for(
    session: AsyncSession,
    principal: Principal,
    *,
    kind: ReminderKind | None,
    before_id: str | None,
    limit: int,
) -> list[Reminder]:
    """What `rules.reminded` admits, newest first; keyset pagination on the time-ordered id."""
    addressed: list[ColumnElement[bool]] = []
    if principal.has_any(*AGENCY_READERS):
        addressed.append(
            and_(
                col(Reminder.recipient_role) == AGENCY_AUDIENCE,
                col(Reminder.recipient_agency) == principal.agency,
            )
        )
    if principal.has_any(*HEAD_READERS):
        addressed.append(
            and_(
                col(Reminder.recipient_role) == HEAD_AUDIENCE,
                col(Reminder.recipient_agency) == principal.agency,
            )
        )
    addressed.append(
        and_(
            col(Reminder.recipient_role) == AGENCY_AUDIENCE,
            col(Reminder.responsible_person) == principal.subject,
        )
    )
    query = select(Reminder).where(col(Reminder.territory) == principal.territory, or_(*addressed))
    if kind is not None:
        query = query.where(Reminder.kind == kind)
    if before_id:
        query = query.where(col(Reminder.id) < before_id)
    query = query.order_by(col(Reminder.id).desc()).limit(limit)
    return list((await session.exec(query)).all())
