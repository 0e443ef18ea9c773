"""Shelter tables and the queries on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Executable, Result, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import db, paging
from kamqor.db import UTCDateTime
from kamqor.ids import new_id
from shelter.rules import BedState, HoldState, Occupancy, StayState, WaitlistState


class Shelter(SQLModel, table=True):
    __tablename__ = "shelters"

    id: str = Field(primary_key=True)
    center_id: str = Field(max_length=100, index=True)
    territory: str = Field(max_length=50, index=True)
    name: str = Field(max_length=200)
    # `rules.name_key(name)`: unique per center (migration 0004), so a name is declared once.
    name_key: str = Field(max_length=400)
    capacity: int
    address: str = Field(default="", max_length=300)
    contact: str = Field(default="", max_length=300)


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
    referral_document: str = Field(default="", max_length=100)
    redirected_to: str = Field(default="", max_length=300)
    # The admission's local date in the territory: the first bed-day (SHL-5).
    admitted_on: date
    specialist_name: str = Field(default="", max_length=200)
    specialist_contact: str = Field(default="", max_length=200)


class StayMinor(SQLModel, table=True):
    __tablename__ = "stay_minors"

    id: str = Field(primary_key=True)
    stay_id: str = Field(foreign_key="stays.id", index=True)
    position: int
    full_name: str = Field(max_length=200)
    birth_date: date


class Bed(SQLModel, table=True):
    __tablename__ = "beds"

    id: str = Field(primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id")
    number: int
    state: str = Field(default=BedState.FREE, max_length=20)
    stay_id: str | None = None
    hold_id: str | None = None
    out_of_service_reason: str = Field(default="", max_length=300)


class Hold(SQLModel, table=True):
    __tablename__ = "holds"

    id: str = Field(primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id")
    territory: str = Field(max_length=50)
    beds: int
    note: str = Field(default="", max_length=200)
    waitlist_id: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=HoldState.ACTIVE, max_length=20)
    created_by: str = Field(max_length=100)


class WaitlistEntry(SQLModel, table=True):
    __tablename__ = "waitlist"

    id: str = Field(primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id")
    territory: str = Field(max_length=50)
    adult_name: str = Field(max_length=200)
    adult_birth_date: date
    persons: int
    queued_at: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default=WaitlistState.WAITING, max_length=20)
    hold_id: str = Field(default="", max_length=64)


class Refusal(SQLModel, table=True):
    __tablename__ = "refusals"

    id: str = Field(primary_key=True)
    shelter_id: str = Field(foreign_key="shelters.id")
    territory: str = Field(max_length=50)
    center_id: str = Field(max_length=100)
    adult_name: str = Field(max_length=200)
    adult_birth_date: date
    persons: int
    reason: str = Field(max_length=30)
    detail: str = Field(default="", max_length=500)
    referred_to: str = Field(default="", max_length=300)
    waitlist_id: str = Field(default="", max_length=64)
    refused_at: datetime = Field(sa_type=UTCDateTime)
    recorded_by: str = Field(max_length=100)
    request_key: str = Field(default="", max_length=300)


class StayDecision(SQLModel, table=True):
    __tablename__ = "stay_decisions"

    id: str = Field(primary_key=True)
    stay_id: str = Field(foreign_key="stays.id")
    decision_number: str = Field(max_length=100)
    reason: str = Field(max_length=500)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    decided_by: str = Field(max_length=100)
    previous_end_at: datetime = Field(sa_type=UTCDateTime)
    new_end_at: datetime = Field(sa_type=UTCDateTime)


class BedDay(SQLModel, table=True):
    __tablename__ = "bed_days"

    stay_id: str = Field(foreign_key="stays.id", primary_key=True)
    resident: int = Field(primary_key=True)
    local_date: date = Field(primary_key=True)
    shelter_id: str
    territory: str = Field(max_length=50)


BEDS: sa.Table = Bed.__table__  # type: ignore[attr-defined]
BED_DAYS: sa.Table = BedDay.__table__  # type: ignore[attr-defined]


async def occupancy(session: AsyncSession, shelters: list[Shelter]) -> dict[str, Occupancy]:
    """Each shelter's beds by state (the bed board's counts, SHL-6), by shelter id."""
    counts = await bed_counts(session, [s.id for s in shelters])
    return {s.id: occupancy_of(s, counts[s.id]) for s in shelters}


def occupancy_of(shelter: Shelter, counts: dict[str, int]) -> Occupancy:
    return Occupancy(
        capacity=shelter.capacity,
        occupied=counts.get(BedState.OCCUPIED, 0),
        held=counts.get(BedState.HELD, 0),
        out_of_service=counts.get(BedState.OUT_OF_SERVICE, 0),
    )


async def bed_counts(session: AsyncSession, shelter_ids: list[str]) -> dict[str, dict[str, int]]:
    """Beds per shelter and state."""
    found: dict[str, dict[str, int]] = {sid: {} for sid in shelter_ids}
    if not shelter_ids:
        return found
    query = (
        sa.select(BEDS.c.shelter_id, BEDS.c.state, func.count())
        .where(BEDS.c.shelter_id.in_(shelter_ids))
        .group_by(BEDS.c.shelter_id, BEDS.c.state)
    )
    for shelter_id, state, n in (await _execute(session, query)).all():
        found[shelter_id][state] = int(n)
    return found


async def _execute(session: AsyncSession, statement: Executable, params: Any = None) -> Result[Any]:
    """A Core statement on the session's connection (the lean path: no ORM unit of work)."""
    await db.flush_staged(session)
    return await (await session.connection()).execute(statement, params)


async def take_free_beds(session: AsyncSession, shelter_id: str, count: int) -> list[str]:
    """Lock up to `count` free beds, the lowest numbers first. Beds another transaction is
    taking are skipped rather than waited for, so concurrent admissions never queue behind one
    another and never share a bed (SHL-6); the lock lasts until this transaction ends."""
    query = (
        sa.select(BEDS.c.id)
        .where(BEDS.c.shelter_id == shelter_id, BEDS.c.state == BedState.FREE)
        .order_by(BEDS.c.number)
        .limit(count)
        .with_for_update(skip_locked=True)
    )
    return list((await _execute(session, query)).scalars().all())


async def lock_beds(session: AsyncSession, bed_ids: list[str]) -> list[Bed]:
    """These beds, locked (waiting for a concurrent change), in the order asked."""
    query = select(Bed).where(col(Bed.id).in_(bed_ids)).with_for_update()
    found = {b.id: b for b in (await session.exec(query)).all()}
    return [found[i] for i in bed_ids if i in found]


async def lock_bed_number(session: AsyncSession, shelter_id: str, number: int) -> Bed | None:
    query = select(Bed).where(Bed.shelter_id == shelter_id, Bed.number == number).with_for_update()
    return (await session.exec(query)).first()


async def beds_of_hold(session: AsyncSession, hold_id: str) -> list[str]:
    query = sa.select(BEDS.c.id).where(BEDS.c.hold_id == hold_id).order_by(BEDS.c.number)
    return list((await _execute(session, query)).scalars().all())


async def set_beds(
    session: AsyncSession,
    bed_ids: list[str],
    *,
    state: BedState,
    stay_id: str | None = None,
    hold_id: str | None = None,
) -> None:
    if bed_ids:
        await _execute(
            session,
            sa.update(BEDS)
            .where(BEDS.c.id.in_(bed_ids))
            .values(state=state, stay_id=stay_id, hold_id=hold_id),
        )


async def release_beds(session: AsyncSession, *, stay_id: str = "", hold_id: str = "") -> int:
    """Free the beds of a stay or of a hold; how many."""
    where = BEDS.c.stay_id == stay_id if stay_id else BEDS.c.hold_id == hold_id
    result = await _execute(
        session,
        sa.update(BEDS).where(where).values(state=BedState.FREE, stay_id=None, hold_id=None),
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def add_beds(session: AsyncSession, shelter_id: str, count: int) -> None:
    await _execute(
        session,
        sa.insert(BEDS),
        [
            {"id": new_id(), "shelter_id": shelter_id, "number": n + 1, "state": BedState.FREE}
            for n in range(count)
        ],
    )


async def beds_of(session: AsyncSession, shelter_id: str) -> list[Bed]:
    query = select(Bed).where(Bed.shelter_id == shelter_id).order_by(col(Bed.number))
    return list((await session.exec(query)).all())


async def beds_of_stays(session: AsyncSession, stay_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {sid: [] for sid in stay_ids}
    if stay_ids:
        query = (
            sa.select(BEDS.c.stay_id, BEDS.c.id)
            .where(BEDS.c.stay_id.in_(stay_ids))
            .order_by(BEDS.c.number)
        )
        for stay_id, bed_id in (await _execute(session, query)).all():
            found[stay_id].append(bed_id)
    return found


async def holds_by_id(session: AsyncSession, hold_ids: list[str]) -> dict[str, Hold]:
    if not hold_ids:
        return {}
    query = select(Hold).where(col(Hold.id).in_(hold_ids))
    return {h.id: h for h in (await session.exec(query)).all()}


async def lock_hold(session: AsyncSession, hold_id: str) -> Hold | None:
    query = select(Hold).where(Hold.id == hold_id).with_for_update()
    return (await session.exec(query)).first()


async def expiring_holds(session: AsyncSession, now: datetime, limit: int) -> list[Hold]:
    """Active holds past their time, locked, skipping any an admission is using right now."""
    query = (
        select(Hold)
        .where(Hold.state == HoldState.ACTIVE, col(Hold.expires_at) <= now)
        .order_by(col(Hold.expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def next_waiting(session: AsyncSession, shelter_id: str) -> WaitlistEntry | None:
    """The head of the shelter's queue, locked."""
    query = (
        select(WaitlistEntry)
        .where(WaitlistEntry.shelter_id == shelter_id, WaitlistEntry.state == WaitlistState.WAITING)
        .order_by(col(WaitlistEntry.queued_at), col(WaitlistEntry.id))
        .limit(1)
        .with_for_update()
    )
    return (await session.exec(query)).first()


async def decisions_of(session: AsyncSession, stay_ids: list[str]) -> dict[str, list[StayDecision]]:
    found: dict[str, list[StayDecision]] = {sid: [] for sid in stay_ids}
    if stay_ids:
        query = (
            select(StayDecision)
            .where(col(StayDecision.stay_id).in_(stay_ids))
            .order_by(col(StayDecision.decided_at), col(StayDecision.id))
        )
        for row in (await session.exec(query)).all():
            found[row.stay_id].append(row)
    return found


async def accrue_bed_days(
    session: AsyncSession, *, through: date, territory: str, stay_id: str = ""
) -> int:
    """Store the bed-days of open stays of a territory (or of one stay) up to `through` (a
    local date), one row per resident and local date from the admission's date (SHL-5);
    rows already there are kept, so it runs any number of times."""
    stays = Stay.__table__  # type: ignore[attr-defined]
    day = (
        sa.func.generate_series(
            stays.c.admitted_on, sa.func.greatest(stays.c.admitted_on, through), sa.text("'1 day'")
        )
        .table_valued("value")
        .render_derived(name="day")
    )
    person = (
        sa.func.generate_series(0, stays.c.persons - 1)
        .table_valued("value")
        .render_derived(name="person")
    )
    source = sa.select(
        stays.c.id,
        person.c.value,
        sa.cast(day.c.value, sa.Date),
        stays.c.shelter_id,
        stays.c.territory,
    ).select_from(stays.join(person, sa.true()).join(day, sa.true()))
    if stay_id:
        source = source.where(stays.c.id == stay_id)
    else:
        source = source.where(stays.c.territory == territory, stays.c.state == StayState.ACTIVE)
    statement = (
        pg_insert(BED_DAYS)
        .from_select(["stay_id", "resident", "local_date", "shelter_id", "territory"], source)
        .on_conflict_do_nothing()
    )
    result = await _execute(session, statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


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
