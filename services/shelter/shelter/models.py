"""Shelter tables and the queries on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.db import UTCDateTime
from shelter.rules import StayState


class Shelter(SQLModel, table=True):
    __tablename__ = "shelters"

    id: str = Field(primary_key=True)
    center_id: str = Field(max_length=100, index=True)
    territory: str = Field(max_length=50, index=True)
    name: str = Field(max_length=200)
    # `rules.name_key(name)`: unique per center (migration 0004), so a name is declared once.
    name_key: str = Field(max_length=400)
    capacity: int


class Stay(SQLModel, table=True):
    __tablename__ = "stays"

    id: str = Field(primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id", index=True)
    center_id: str = Field(max_length=100)
    territory: str = Field(max_length=50, index=True)
    adult_name: str = Field(max_length=200)
    adult_birth_date: date
    referral: str = Field(max_length=50)
    appeal_id: str = Field(default="", max_length=64)
    admitted_at: datetime = Field(sa_type=UTCDateTime)
    latest_end_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=StayState.ACTIVE, max_length=20, index=True)
    persons: int
    discharged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    discharge_reason: str = Field(default="", max_length=500)
    admitted_by: str = Field(max_length=100)


class StayMinor(SQLModel, table=True):
    __tablename__ = "stay_minors"

    id: str = Field(primary_key=True)
    stay_id: str = Field(foreign_key="stays.id", index=True)
    position: int
    full_name: str = Field(max_length=200)
    birth_date: date


async def lock_shelter(session: AsyncSession, shelter_id: str) -> Shelter | None:
    """Row lock on the shelter so concurrent admissions cannot both take the last bed (SHL-6)."""
    query = select(Shelter).where(Shelter.id == shelter_id).with_for_update()
    return (await session.exec(query)).first()


async def occupied_beds(session: AsyncSession, shelter_ids: list[str]) -> dict[str, int]:
    if not shelter_ids:
        return {}
    rows = (
        await session.exec(
            select(Stay.shelter_id, func.sum(Stay.persons))
            .where(col(Stay.shelter_id).in_(shelter_ids))
            .where(Stay.state == StayState.ACTIVE)
            .group_by(col(Stay.shelter_id))
        )
    ).all()
    found = {shelter_id: int(total or 0) for shelter_id, total in rows}
    return {sid: found.get(sid, 0) for sid in shelter_ids}


async def shelter_named(session: AsyncSession, center_id: str, name_key: str) -> Shelter | None:
    query = select(Shelter).where(Shelter.center_id == center_id, Shelter.name_key == name_key)
    return (await session.exec(query)).first()


async def shelters_in(session: AsyncSession, territory: str) -> list[Shelter]:
    query = select(Shelter).where(Shelter.territory == territory).order_by(col(Shelter.name))
    return list((await session.exec(query)).all())


async def minors_of(session: AsyncSession, stay_id: str) -> list[StayMinor]:
    query = select(StayMinor).where(StayMinor.stay_id == stay_id).order_by(col(StayMinor.position))
    return list((await session.exec(query)).all())


# Columns a list of stays sorts by (indexed with the shelter and state, migration 0005); an
# adult's name never changes once admitted, so a long one is read back from its row (paging).
STAY_SORT_COLUMNS = {
    "admitted_at": col(Stay.admitted_at),
    "latest_end_at": col(Stay.latest_end_at),
    "adult_name": col(Stay.adult_name),
}


async def stays_of(
    session: AsyncSession,
    shelter_id: str,
    *,
    state: StayState | None,
    order: str,
    descending: bool,
    cursor: paging.Cursor | None,
    limit: int,
) -> list[Stay]:
    """A shelter's stays sorted by the `order` column, the id breaking ties; keyset pagination
    after `cursor`."""
    query = select(Stay).where(Stay.shelter_id == shelter_id)
    if state is not None:
        query = query.where(Stay.state == state)
    key, row_id = STAY_SORT_COLUMNS[order], col(Stay.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=descending))
    ordering = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    query = query.order_by(*ordering).limit(limit)
    return list((await session.exec(query)).all())


async def minors_of_stays(session: AsyncSession, stay_ids: list[str]) -> dict[str, list[StayMinor]]:
    """The minors of several stays in one query, each stay's in admission order."""
    found: dict[str, list[StayMinor]] = {sid: [] for sid in stay_ids}
    if not stay_ids:
        return found
    query = (
        select(StayMinor)
        .where(col(StayMinor.stay_id).in_(stay_ids))
        .order_by(col(StayMinor.stay_id), col(StayMinor.position))
    )
    for minor in (await session.exec(query)).all():
        found[minor.stay_id].append(minor)
    return found
