"""Journal tables and the queries on them. Entries are append-only (INT-2): the migration
installs triggers that refuse UPDATE and DELETE on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import UniqueConstraint, text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.db import UTCDateTime


class Appeal(SQLModel, table=True):
    __tablename__ = "appeals"
    # The journal's orders have their indexes in migration 0004: (territory, registered_at, id)
    # and (territory, journal_number COLLATE "C", id).
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


@dataclass(frozen=True)
class JournalFilter:
    """Every set field narrows the journal; `registered_since` inclusive, `registered_until`
    exclusive."""

    channel: str | None = None
    threat_to_life: bool | None = None
    registered_since: datetime | None = None
    registered_until: datetime | None = None


def sort_key(order: str) -> paging.Column:
    """The column an order sorts by; journal numbers compare bytewise, whatever the locale."""
    if order == "journal_number":
        return col(Appeal.journal_number).collate("C")
    return col(Appeal.registered_at)


async def page(
    session: AsyncSession,
    *,
    territory: str,
    where: JournalFilter,
    order: str,
    descending: bool,
    cursor: paging.Cursor | None,
    limit: int,
) -> list[Appeal]:
    """One page of a territory's journal in `order` (`registered_at` or `journal_number`), the
    id breaking ties; keyset pagination after `cursor`."""
    query = select(Appeal).where(Appeal.territory == territory)
    if where.channel is not None:
        query = query.where(Appeal.channel == where.channel)
    if where.threat_to_life is not None:
        query = query.where(Appeal.threat_to_life == where.threat_to_life)
    if where.registered_since is not None:
        query = query.where(col(Appeal.registered_at) >= where.registered_since)
    if where.registered_until is not None:
        query = query.where(col(Appeal.registered_at) < where.registered_until)
    key, row_id = sort_key(order), col(Appeal.id)
    if cursor is not None:
        query = query.where(paging.after(key, row_id, cursor, descending=descending))
    ordering = (key.desc(), row_id.desc()) if descending else (key.asc(), row_id.asc())
    return list((await session.exec(query.order_by(*ordering).limit(limit))).all())
