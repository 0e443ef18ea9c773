"""The kit's lean write path (issue 11): staged rows are written with one Core INSERT per table
at the end of the unit of work, seen by any query before it, dropped by a rollback; a pooled
connection that died (no pre-ping) fails the unit of work as `StaleConnection`, and the next
unit of work gets a fresh connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from sqlmodel import col, func, select

from kamqor import audit
from kamqor.auth import Principal
from kamqor.db import StaleConnection, make_engine, migrate, stage, unit_of_work
from kamqor.outbox import OutboxEvent
from shelter.app import MIGRATIONS
from tests.support.services import fresh_database

WHO = Principal(
    subject="u1",
    username="u1",
    roles=frozenset({"auditor"}),
    agency="fc-ast-1",
    agency_type="family_center",
    territory="kz-ast",
    client_id="kamqor-console",
    token="t",
)


def event_row(i: int) -> OutboxEvent:
    return OutboxEvent(
        id=f"lean-{i}",
        subject="kamqor.test.thing.done",
        event_type="t",
        body=b"x",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
async def engine(postgres) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = make_engine(fresh_database(postgres, "lean"))
    await migrate(engine, MIGRATIONS)
    yield engine
    await engine.dispose()


async def test_staged_rows_are_one_insert_per_table_and_visible_before_the_commit(
    engine: AsyncEngine,
) -> None:
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        uow = unit_of_work(engine)
        async with uow() as session:
            stage(session, *(event_row(i) for i in range(3)))
            audit.record_many(
                session,
                principal=WHO,
                action="read",
                entities=["stay/a", "stay/b"],
                purpose="lean test",
            )
            # A query in the same transaction sees what was staged.
            count = await session.scalar(
                select(func.count()).where(col(OutboxEvent.id).like("lean-%"))
            )
            assert count == 3
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "INTO outbox" in s]) == 1
    assert len([s for s in statements if "INTO audit_log" in s]) == 1
    async with unit_of_work(engine)() as session:
        rows = (await session.exec(select(audit.AuditRecord).where(audit.touching("stay/b")))).all()
    assert [(r.entity, r.entities) for r in rows] == [("stay/*", ["stay/a", "stay/b"])]


async def test_a_rolled_back_unit_writes_nothing(engine: AsyncEngine) -> None:
    uow = unit_of_work(engine)
    with pytest.raises(RuntimeError):
        async with uow() as session:
            stage(session, event_row(100))
            raise RuntimeError("the use case failed")
    async with uow() as session:
        assert await session.get(OutboxEvent, "lean-100") is None


async def test_a_dead_pooled_connection_is_stale_once(engine: AsyncEngine) -> None:
    uow = unit_of_work(engine)
    async with uow() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
    # The database drops the pooled connection (a restart, a failover) while it sits idle.
    killer = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
    async with killer.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    await killer.dispose()
    with pytest.raises(StaleConnection):
        async with uow() as session:
            await session.scalar(text("SELECT pg_backend_pid()"))
    async with uow() as session:  # the pool replaced it
        assert await session.scalar(text("SELECT 1")) == 1
