"""Plan and measure tables and the queries on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.db import UTCDateTime
from plans.rules import MeasureState, PlanState


class Plan(SQLModel, table=True):
    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_center_state", "center_id", "state", "id"),)

    id: str = Field(primary_key=True)
    center_id: str = Field(max_length=100, index=True)
    territory: str = Field(max_length=50, index=True)
    case_id: str = Field(default="", max_length=64)
    situation: str = Field(max_length=10)
    support_level: str = Field(default="", max_length=20)
    state: str = Field(default=PlanState.DRAFT, max_length=20)
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(sa_type=UTCDateTime)
    term_ends_at: datetime = Field(sa_type=UTCDateTime)
    approved_by: str = Field(default="", max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approval_decision: str = Field(default="", max_length=200)
    # The lifecycle (plans.rules.lifecycle; migration 0007).
    family_id: str = Field(default="", max_length=64)
    applied_on: date | None = None
    submitted_by: str = Field(default="", max_length=100)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str = Field(default="", max_length=100)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closure_ground: str = Field(default="", max_length=40)
    closure_explanation: str = Field(default="", max_length=4000)
    closure_decision: str = Field(default="", max_length=200)
    monitoring_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    monitoring_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    monitoring_ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    monitoring_outcome: str = Field(default="", max_length=4000)
    revises_plan_id: str = Field(default="", max_length=64)
    revised_by_plan_id: str = Field(default="", max_length=64)


class Measure(SQLModel, table=True):
    __tablename__ = "measures"
    # An agency's own list (PLN-15) reads by (agency, state) in id order, or by the agency in
    # deadline or sending order (migration 0004).
    __table_args__ = (
        Index("ix_measures_agency_state", "agency_id", "state", "id"),
        Index("ix_measures_agency_deadline", "agency_id", "deadline", "id"),
        Index("ix_measures_agency_sent", "agency_id", "sent_at", "id"),
    )

    id: str = Field(primary_key=True)
    plan_id: str = Field(foreign_key="plans.id", index=True)
    position: int
    territory: str = Field(max_length=50)
    center_id: str = Field(max_length=100)
    agency_id: str = Field(max_length=100)
    agency_type: str = Field(max_length=50)
    kind: str = Field(max_length=30)
    title: str = Field(max_length=500)
    target: str = Field(default="", max_length=200)
    deadline: date
    state: str = Field(default=MeasureState.DRAFT, max_length=20)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assignee: str = Field(default="", max_length=100)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assigned_by: str = Field(default="", max_length=100)
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    report: str = Field(default="", max_length=4000)
    reported_on_time: bool | None = None
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    return_reason: str = Field(default="", max_length=4000)
    return_mode: str = Field(default="", max_length=20)
    returns: int = 0
    completed_on: date | None = None
    completed_by: str = Field(default="", max_length=100)


async def lock_plan(session: AsyncSession, plan_id: str) -> Plan | None:
    """Row lock: two approvals of one draft cannot both send its measures (PLN-5)."""
    return (await session.exec(select(Plan).where(Plan.id == plan_id).with_for_update())).first()


async def lock_measure(session: AsyncSession, measure_id: str) -> Measure | None:
    query = select(Measure).where(Measure.id == measure_id).with_for_update()
    return (await session.exec(query)).first()


async def measures_of(session: AsyncSession, plan_id: str) -> list[Measure]:
    query = select(Measure).where(Measure.plan_id == plan_id).order_by(col(Measure.position))
    return list((await session.exec(query)).all())


async def agency_measures(
    session: AsyncSession,
    *,
    agency_id: str,
    territory: str,
    state: str | None,
    cursor: paging.Cursor | None,
    limit: int,
    order: str = "id",
    descending: bool = False,
) -> list[Measure]:
    """The measures sent to one agency (PLN-15); drafts never leave the center. Sorted by the
    `order` column (`id`, `deadline` or `sent_at`), the id breaking ties; keyset pagination
    after `cursor`."""
    query = (
        select(Measure)
        .where(Measure.agency_id == agency_id)
        .where(Measure.territory == territory)
        .where(Measure.state != MeasureState.DRAFT)
    )
    if state is not None:
        query = query.where(Measure.state == state)
    key = {"deadline": col(Measure.deadline), "sent_at": col(Measure.sent_at)}.get(
        order, col(Measure.id)
    )
    row_id = col(Measure.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=descending))
    ordering = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    return list((await session.exec(query.order_by(*ordering).limit(limit))).all())


async def case_ids(session: AsyncSession, plan_ids: list[str]) -> dict[str, str]:
    if not plan_ids:
        return {}
    rows = (
        await session.exec(select(Plan.id, Plan.case_id).where(col(Plan.id).in_(plan_ids)))
    ).all()
    return {plan_id: case_id for plan_id, case_id in rows}


async def open_measures(session: AsyncSession, plan_id: str) -> int:
    rows = await measures_of(session, plan_id)
    # A measure cancelled at a review (PLN-13) is no longer owed.
    done = (MeasureState.COMPLETED, MeasureState.CANCELLED)
    return sum(1 for m in rows if m.state not in done)
