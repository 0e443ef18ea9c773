"""Idempotency keys: a retry with the same key returns the first result, never a second write."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.clock import utcnow
from kamqor.db import UTCDateTime
from kamqor.errors import Invalid


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    # Scoped by operation and agency: two agencies may pick the same key independently.
    scope: str = Field(primary_key=True, max_length=150)
    key: str = Field(primary_key=True, max_length=200)
    result_id: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


def check_key(key: str) -> str:
    key = key.strip()
    if len(key) > 200:
        raise Invalid("idempotency_key", "at most 200 characters")
    return key


async def recall(session: AsyncSession, *, scope: str, key: str) -> str | None:
    """The result id a previous call with this key produced, if any."""
    if not key:
        return None
    row = await session.get(IdempotencyRecord, (scope, key))
    return row.result_id if row else None


def remember(session: AsyncSession, *, scope: str, key: str, result_id: str) -> None:
    """Stage the key with the result; a concurrent twin fails on the primary key and rolls back."""
    if key:
        session.add(
            IdempotencyRecord(scope=scope, key=key, result_id=result_id, created_at=utcnow())
        )
