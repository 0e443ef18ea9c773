"""The agency directory's table and the queries on it (PLN-2, seed 003 4.2)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import String, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import paging
from kamqor.db import UTCDateTime


class Agency(SQLModel, table=True):
    """One agency as the directory file lists it; never deleted, since measures refer to it."""

    __tablename__ = "agencies"

    id: str = Field(primary_key=True, max_length=100)
    territory: str = Field(max_length=50, index=True)
    agency_type: str = Field(max_length=50)
    name: str = Field(max_length=300)
    competences: list[str] = Field(default_factory=list, sa_type=ARRAY(String(30)))
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    users: list[str] = Field(default_factory=list, sa_type=ARRAY(String(100)))
    active: bool = True
    updated_at: datetime = Field(sa_type=UTCDateTime)


async def upsert(session: AsyncSession, rows: list[dict[str, object]], *, at: datetime) -> int:
    """Write the directory: every listed agency as listed and active, every other one inactive.

    Returns how many agencies became inactive."""
    table = Agency.__table__  # type: ignore[attr-defined]
    if rows:
        stmt = insert(table).values([{**row, "active": True, "updated_at": at} for row in rows])
        keep = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != "id"}
        await session.exec(stmt.on_conflict_do_update(index_elements=["id"], set_=keep))
    listed = [str(row["id"]) for row in rows]
    retire = (
        update(table)
        .where(table.c.active.is_(True))
        .where(table.c.id.not_in(listed) if listed else table.c.id.is_not(None))
        .values(active=False, updated_at=at)
    )
    result = await session.exec(retire)
    return int(result.rowcount or 0)


async def in_territory(
    session: AsyncSession, territory: str, ids: Collection[str]
) -> dict[str, Agency]:
    if not ids:
        return {}
    query = select(Agency).where(Agency.territory == territory, col(Agency.id).in_(list(ids)))
    return {a.id: a for a in (await session.exec(query)).all()}


async def by_ids(session: AsyncSession, ids: Collection[str]) -> dict[str, Agency]:
    if not ids:
        return {}
    query = select(Agency).where(col(Agency.id).in_(list(ids)))
    return {a.id: a for a in (await session.exec(query)).all()}


async def page(
    session: AsyncSession,
    *,
    territory: str,
    kind: str | None,
    include_inactive: bool,
    cursor: paging.Cursor | None,
    limit: int,
) -> list[Agency]:
    """The territory's agencies in id order, keyset-paged after `cursor`."""
    query = select(Agency).where(Agency.territory == territory)
    if kind is not None:
        query = query.where(col(Agency.competences).any(kind))  # type: ignore[arg-type]
    if not include_inactive:
        query = query.where(col(Agency.active).is_(True))
    if cursor is not None:
        query = query.where(col(Agency.id) > cursor.id)
    return list((await session.exec(query.order_by(col(Agency.id)).limit(limit))).all())
