"""Obligations: every legal term becomes a row with its due time, computed once (MON-3).

The due time is computed from the territory's policy profile when the obligation arises, and the
row keeps the rule, profile version and calendar version that produced it, so an old deadline can
be explained after the rules moved on.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.clock import utcnow
from kamqor.db import UTCDateTime, stage
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.ids import new_id
from kamqor.profiles import Deadline, get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of


class ObligationState(StrEnum):
    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"


class Obligation(SQLModel, table=True):
    __tablename__ = "obligations"
    # The sweeper reads `state = open AND next_check_at <= now` through this index, so its cost
    # grows with what is due, not with history.
    __table_args__ = (Index("ix_obligations_sweep", "state", "next_check_at"),)

    id: str = Field(primary_key=True)
    rule: str = Field(max_length=50, index=True)
    subject: str = Field(max_length=200, index=True)
    territory: str = Field(max_length=50)
    responsible_agency: str = Field(max_length=100, index=True)
    responsible_person: str = Field(default="", max_length=100)
    arose_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    approaching_at: datetime = Field(sa_type=UTCDateTime)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str = Field(default=ObligationState.OPEN, max_length=20)
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_time: bool | None = None
    profile: str = Field(max_length=20)
    profile_version: str = Field(max_length=50)
    # Ends in `+provisional:<years>` while the due time rests on a year with no decree yet.
    calendar_version: str = Field(max_length=120)
    # The term as computed, so a provisional due time can be computed again (`kamqor.replanning`);
    # empty on rows from before these columns, which take the profile's term instead.
    term_kind: str = Field(default="", max_length=30)
    term_amount: int | None = None
    approaching_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    overdue_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def open_obligation(
    session: AsyncSession,
    *,
    rule: str,
    subject: str,
    territory: str,
    arose_at: datetime,
    responsible_agency: str,
    responsible_person: str = "",
    deadline: Deadline | None = None,
) -> Obligation:
    """Stage an obligation whose due time follows from `rule` in the territory's profile, or is
    `deadline` when the use case computed it otherwise (PLN-1 by support level)."""
    profile = get_profile(territory_of(territory).profile)
    deadline = deadline or profile.due(rule, arose_at)
    approaching = profile.approaching_at(rule, arose_at, deadline.due_at)
    row = Obligation(
        id=new_id(),
        rule=rule,
        subject=subject,
        territory=territory,
        responsible_agency=responsible_agency,
        responsible_person=responsible_person,
        arose_at=arose_at,
        due_at=deadline.due_at,
        approaching_at=approaching,
        next_check_at=min(approaching, deadline.due_at),
        profile=deadline.profile,
        profile_version=deadline.profile_version,
        calendar_version=deadline.calendar_version,
        term_kind=deadline.kind,
        term_amount=deadline.amount,
    )
    stage(session, row)  # one Core insert with the transaction's other rows (kit `db`)
    return row


def meet(session: AsyncSession, obligation: Obligation, *, at: datetime | None = None) -> None:
    """Record that the action the rule requires was done, and whether it was on time."""
    if obligation.state != ObligationState.OPEN:
        return
    at = at or utcnow()
    obligation.state = ObligationState.MET
    obligation.met_at = at
    obligation.on_time = at <= obligation.due_at
    obligation.next_check_at = None
    session.add(obligation)


def cancel(session: AsyncSession, obligation: Obligation) -> None:
    if obligation.state != ObligationState.OPEN:
        return
    obligation.state = ObligationState.CANCELLED
    obligation.next_check_at = None
    session.add(obligation)


def to_pb(row: Obligation) -> deadlines_pb2.Obligation:
    """The row as every service presents it (`kamqor.deadlines.v1.Obligation`)."""
    return deadlines_pb2.Obligation(
        id=row.id,
        rule=row.rule,
        subject=row.subject,
        responsible_agency=row.responsible_agency,
        responsible_person=row.responsible_person,
        due_at=ts(row.due_at),
        state=row.state,
        met_at=ts(row.met_at),
        # Unset (not false) until the obligation is met.
        on_time=row.on_time,
        profile=row.profile,
        profile_version=row.profile_version,
        calendar_version=row.calendar_version,
    )


async def for_subject(
    session: AsyncSession, subject: str, *, rule: str | None = None
) -> list[Obligation]:
    query = select(Obligation).where(Obligation.subject == subject)
    if rule is not None:
        query = query.where(Obligation.rule == rule)
    return list((await session.exec(query.order_by(col(Obligation.due_at)))).all())


async def for_subjects(session: AsyncSession, subjects: list[str]) -> dict[str, list[Obligation]]:
    if not subjects:
        return {}
    rows = (
        await session.exec(
            select(Obligation)
            .where(col(Obligation.subject).in_(subjects))
            .order_by(col(Obligation.due_at))
        )
    ).all()
    out: dict[str, list[Obligation]] = {s: [] for s in subjects}
    for row in rows:
        out[row.subject].append(row)
    return out
