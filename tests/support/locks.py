"""Hold a service's database still, to catch a request in flight (a twin with its key)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_ADVISORY_LOCKS = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE l.locktype = 'advisory' AND d.datname = current_database()"
)


@asynccontextmanager
async def row_locked(
    engine: AsyncEngine, table: str, row_id: str
) -> AsyncIterator[AsyncConnection]:
    """`SELECT ... FOR UPDATE` of one row until the block ends: writers of that row wait."""
    async with engine.connect() as conn:
        await conn.execute(
            text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id}
        )
        try:
            yield conn
        finally:
            await conn.rollback()


async def wait_for_a_held_key(conn: AsyncConnection) -> None:
    """Until a call in this database holds an idempotency key (`kamqor.idempotency.claim`);
    five seconds at most."""
    for _ in range(100):
        if await conn.scalar(_ADVISORY_LOCKS):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no call took its idempotency key")
