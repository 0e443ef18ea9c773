"""Journal tables and the queries on them. Entries are append-only (INT-2): the migration
installs triggers that refuse UPDATE and DELETE on them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.db import UTCDateTime


class Appeal(SQLModel, table=True):
    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("center_id", "year", "sequence"),)

    id: str = Field(primary_key=True)
    journal_number: str = Field(max_length=120, unique=True)
    center_id: str = Field(max_length=100)
    year: int
    sequence: int
    territory: str = Field(max_length=50, index=True)
    channel: str = Field(max_length=30)
    registered_at: datetime = Field(sa_type=UTCDateTime)
    summary: str = Field(max_length=4000)
    threat_to_life: bool
    domestic_violence: bool
    registered_by: str = Field(max_length=100)


class AppealPerson(SQLModel, table=True):
    __tablename__ = "appeal_persons"

    id: str = Field(primary_key=True)
    appeal_id: str = Field(foreign_key="appeals.id", index=True)
    position: int
    full_name: str = Field(max_length=200)
    relation: str = Field(max_length=20)
    birth_date: date | None = None


class JournalCounter(SQLModel, table=True):
    __tablename__ = "journal_counters"

    center_id: str = Field(primary_key=True, max_length=100)
    year: int = Field(primary_key=True)
    last: int = 0


async def next_sequence(session: AsyncSession, *, center_id: str, year: int) -> int:
    """The next journal number of the center's year; the row lock serialises concurrent entries."""
    bump = text(
        "UPDATE journal_counters SET last = last + 1 "
        "WHERE center_id = :c AND year = :y RETURNING last"
    )
    conn = await session.connection()
    value = (await conn.execute(bump, {"c": center_id, "y": year})).scalar()
    if value is None:
        session.add(JournalCounter(center_id=center_id, year=year, last=1))
        await session.flush()  # a concurrent first entry fails on the key and is retried
        return 1
    return int(value)


async def persons_of(session: AsyncSession, appeal_ids: list[str]) -> dict[str, list[AppealPerson]]:
    if not appeal_ids:
        return {}
    rows = (
        await session.exec(
            select(AppealPerson)
            .where(col(AppealPerson.appeal_id).in_(appeal_ids))
            .order_by(col(AppealPerson.position))
        )
    ).all()
    out: dict[str, list[AppealPerson]] = {a: [] for a in appeal_ids}
    for row in rows:
        out[row.appeal_id].append(row)
    return out


async def page(
    session: AsyncSession, *, territory: str, before_id: str | None, limit: int
) -> list[Appeal]:
    query = select(Appeal).where(Appeal.territory == territory)
    if before_id:
        query = query.where(col(Appeal.id) < before_id)
    return list((await session.exec(query.order_by(col(Appeal.id).desc()).limit(limit))).all())
