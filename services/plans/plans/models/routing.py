"""A measure's way between agencies and its amendments: every sending, and every change with
who, when, why, before and after (PLN-13, closed-loop referral)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Index, and_, func
from sqlalchemy import select as select_rows
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime
from plans.models import Measure
from plans.models.agencies import Agency, by_ids


class MeasureChange(SQLModel, table=True):
    __tablename__ = "measure_changes"

    id: str = Field(primary_key=True)
    measure_id: str = Field(foreign_key="measures.id", index=True)
    action: str = Field(max_length=20)
    changed_by: str = Field(max_length=100)
    changed_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=4000)
    before: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    after: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)


class MeasureSending(SQLModel, table=True):
    """One sending of a measure to one agency; a re-routed measure has one per agency it
    reached, so declines are counted against the agency that declined (MON-3)."""

    __tablename__ = "measure_sendings"
    __table_args__ = (Index("ix_measure_sendings_territory_sent", "territory", "sent_at"),)

    id: str = Field(primary_key=True)
    measure_id: str = Field(foreign_key="measures.id", index=True)
    territory: str = Field(max_length=50)
    agency_id: str = Field(max_length=100)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str = Field(default="", max_length=30)


@dataclass(frozen=True)
class MeasureDetails:
    """What a measure shows besides its row: its agency as the directory has it (seed 003
    4.2) and its history."""

    agency: Agency | None
    changes: list[MeasureChange] = field(default_factory=list)


async def details_of(
    session: AsyncSession, measures: Sequence[Measure]
) -> dict[str, MeasureDetails]:
    if not measures:
        return {}
    agencies = await by_ids(session, {m.agency_id for m in measures})
    query = (
        select(MeasureChange)
        .where(col(MeasureChange.measure_id).in_([m.id for m in measures]))
        .order_by(col(MeasureChange.changed_at), col(MeasureChange.id))
    )
    changes: dict[str, list[MeasureChange]] = {m.id: [] for m in measures}
    for row in (await session.exec(query)).all():
        changes[row.measure_id].append(row)
    return {m.id: MeasureDetails(agencies.get(m.agency_id), changes[m.id]) for m in measures}


async def current_sending(session: AsyncSession, measure_id: str) -> MeasureSending | None:
    query = (
        select(MeasureSending)
        .where(MeasureSending.measure_id == measure_id)
        .order_by(col(MeasureSending.sent_at).desc(), col(MeasureSending.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


@dataclass
class AgencyCounts:
    sent: int = 0
    reported_on_time: int = 0
    reported_late: int = 0
    completed: int = 0
    declined: int = 0
    returned: int = 0


async def counts_per_agency(
    session: AsyncSession, *, territory: str, start: datetime, end: datetime
) -> dict[str, AgencyCounts]:
    """Per agency, the sendings of [start, end) and what became of them: declined by that
    agency, or for the agency that holds the measure now, reported (on time or late),
    returned, completed. Aggregates only (MON-3)."""
    sending, measure = MeasureSending, Measure
    current = and_(
        col(sending.declined_at).is_(None), col(measure.agency_id) == col(sending.agency_id)
    )
    query = (
        select_rows(
            col(sending.agency_id),
            func.count(),
            func.count().filter(col(sending.declined_at).is_not(None)),
            func.count().filter(current, col(measure.reported_on_time).is_(True)),
            func.count().filter(current, col(measure.reported_on_time).is_(False)),
            func.count().filter(current, col(measure.completed_on).is_not(None)),
            func.count().filter(current, col(measure.returns) > 0),
        )
        .join(measure, col(measure.id) == col(sending.measure_id))
        .where(col(sending.territory) == territory)
        .where(col(sending.sent_at) >= start, col(sending.sent_at) < end)
        .group_by(col(sending.agency_id))
        .order_by(col(sending.agency_id))
    )
    out: dict[str, AgencyCounts] = {}
    for agency_id, sent, declined, on_time, late, completed, returned in (
        await session.execute(query)
    ).all():
        out[agency_id] = AgencyCounts(
            sent=sent,
            reported_on_time=on_time,
            reported_late=late,
            completed=completed,
            declined=declined,
            returned=returned,
        )
    return out
