"""What a plan's life leaves behind: every act with who and why, the participants who drafted it
with the family, its reviews, the support-level changes, and the cases the plans belong to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime


class PlanAct(SQLModel, table=True):
    """One transition of a plan (plans.rules.lifecycle), kept for the history."""

    __tablename__ = "plan_acts"

    id: str = Field(primary_key=True)
    plan_id: str = Field(foreign_key="plans.id", index=True)
    act: str = Field(max_length=30)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=100)
    agency: str = Field(max_length=100)
    reason: str = Field(default="", max_length=4000)


class Participant(SQLModel, table=True):
    """Who drafted the plan with the family (PLN-3); names are personal data."""

    __tablename__ = "plan_participants"

    id: str = Field(primary_key=True)
    plan_id: str = Field(foreign_key="plans.id", index=True)
    position: int
    role: str = Field(max_length=30)
    name: str = Field(max_length=200)
    organisation: str = Field(default="", max_length=200)


class Review(SQLModel, table=True):
    """An interim or final review (PLN-13) and its decision."""

    __tablename__ = "plan_reviews"

    id: str = Field(primary_key=True)
    plan_id: str = Field(foreign_key="plans.id", index=True)
    kind: str = Field(max_length=10)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    opened_by: str = Field(max_length=100)
    concluded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    concluded_by: str = Field(default="", max_length=100)
    decision: str = Field(default="", max_length=10)
    conclusion: str = Field(default="", max_length=4000)


class LevelChange(SQLModel, table=True):
    """A person's support-level change with its direction (PLN-14), counted in MON-2."""

    __tablename__ = "level_changes"
    __table_args__ = (Index("ix_level_changes_territory_at", "territory", "at"),)

    id: str = Field(primary_key=True)
    plan_id: str = Field(foreign_key="plans.id", index=True)
    territory: str = Field(max_length=50)
    center_id: str = Field(max_length=100)
    person: str = Field(max_length=200)
    from_level: str = Field(max_length=20)
    to_level: str = Field(max_length=20)
    direction: str = Field(max_length=10)
    indicator: str = Field(default="", max_length=30)
    reason: str = Field(default="", max_length=4000)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str = Field(max_length=100)


class KnownCase(SQLModel, table=True):
    """The intake cases plans belong to, as intake announced them (CaseOpened): the family a
    plan covers (PLN-1) and whom its closure letter goes to (PLN-11)."""

    __tablename__ = "known_cases"

    case_id: str = Field(primary_key=True)
    family_id: str = Field(max_length=64)
    center_id: str = Field(max_length=100)
    territory: str = Field(max_length=50)


async def acts_of(session: AsyncSession, plan_id: str) -> list[PlanAct]:
    query = (
        select(PlanAct).where(PlanAct.plan_id == plan_id).order_by(col(PlanAct.at), col(PlanAct.id))
    )
    return list((await session.exec(query)).all())


async def participants_of(session: AsyncSession, plan_id: str) -> list[Participant]:
    query = (
        select(Participant)
        .where(Participant.plan_id == plan_id)
        .order_by(col(Participant.position))
    )
    return list((await session.exec(query)).all())


async def reviews_of(session: AsyncSession, plan_id: str) -> list[Review]:
    query = select(Review).where(Review.plan_id == plan_id).order_by(col(Review.opened_at))
    return list((await session.exec(query)).all())


async def open_review(session: AsyncSession, plan_id: str) -> Review | None:
    query = (
        select(Review)
        .where(Review.plan_id == plan_id)
        .where(col(Review.concluded_at).is_(None))
        .with_for_update()
    )
    return (await session.exec(query)).first()


async def level_changes_of(session: AsyncSession, plan_id: str) -> list[LevelChange]:
    query = select(LevelChange).where(LevelChange.plan_id == plan_id).order_by(col(LevelChange.at))
    return list((await session.exec(query)).all())
