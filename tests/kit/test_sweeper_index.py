"""The deadline sweep reads by index, so its cost grows with what is due, not with history
(ARCHITECTURE.md "Deadlines", MON-3); due rows become approaching, then overdue events (NTF-7).

On the real PostgreSQL: 100,000 open obligations far in the future plus a handful due.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlmodel import col, select

from kamqor.db import make_engine, migrate, unit_of_work
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.obligations import Obligation
from kamqor.outbox import OutboxEvent
from kamqor.sweeping import due_query, sweep
from shelter.app import MIGRATIONS
from tests.support.services import fresh_database

HISTORY = 100_000
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAR = NOW + timedelta(days=3650)
# (rule, approaching_at, due_at): due rows at NOW, each still before its due time.
DUE = [
    ("INT-3/primary", NOW - timedelta(hours=5), NOW + timedelta(hours=3)),
    ("INT-3/threat", NOW - timedelta(hours=1), NOW + timedelta(hours=2)),
    ("SHL-3", NOW - timedelta(minutes=1), NOW + timedelta(hours=1)),
    ("PLN-6", NOW, NOW + timedelta(days=1)),
]
AFTER_DUE = NOW + timedelta(days=2)


class Explain(Executable, ClauseElement):
    """`EXPLAIN (FORMAT JSON) <statement>` with the statement's own bound parameters."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


@pytest.fixture(scope="module")
async def engine(postgres) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = make_engine(fresh_database(postgres, "sweep"))
    await migrate(engine, MIGRATIONS)
    async with engine.begin() as conn:
        # History: open obligations whose next check is years away; they must never be read.
        await conn.execute(
            text(
                """
                INSERT INTO obligations (id, rule, subject, territory, responsible_agency,
                    responsible_person, arose_at, due_at, approaching_at, next_check_at, state,
                    profile, profile_version, calendar_version)
                SELECT 'hist-' || i, 'INT-3/primary', 'appeal/' || i, 'kz-ast', 'fc-ast-1', '',
                    CAST(:arose AS timestamptz),
                    CAST(:far AS timestamptz) + i * interval '1 second',
                    CAST(:far AS timestamptz),
                    CAST(:far AS timestamptz) + i * interval '1 second',
                    'open', 'kz', 'v1', 'v1'
                FROM generate_series(1, :n) AS i
                """
            ),
            {"arose": NOW - timedelta(days=1), "far": FAR, "n": HISTORY},
        )
        for i, (rule, approaching, due) in enumerate(DUE):
            await conn.execute(
                text(
                    """
                    INSERT INTO obligations (id, rule, subject, territory, responsible_agency,
                        responsible_person, arose_at, due_at, approaching_at, next_check_at,
                        state, profile, profile_version, calendar_version)
                    VALUES (:id, :rule, :subject, 'kz-ast', 'fc-ast-1', '', :arose, :due,
                        :approaching, :approaching, 'open', 'kz', 'v1', 'v1')
                    """
                ),
                {
                    "id": f"due-{i}",
                    "rule": rule,
                    "subject": f"appeal/due-{i}",
                    "arose": NOW - timedelta(days=1),
                    "due": due,
                    "approaching": approaching,
                },
            )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE obligations"))
    yield engine
    await engine.dispose()


async def test_sweep_query_reads_by_the_sweep_index(engine: AsyncEngine) -> None:
    """MON-3 / ARCHITECTURE "Deadlines": the exact sweep SELECT uses ix_obligations_sweep."""
    async with engine.connect() as conn:
        raw = (await conn.execute(Explain(due_query(now=NOW, limit=500)))).scalar_one()
    document = raw if isinstance(raw, list) else json.loads(raw)
    nodes = list(plan_nodes(document[0]["Plan"]))
    index_scans = [
        n
        for n in nodes
        if n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
        and n.get("Index Name") == "ix_obligations_sweep"
    ]
    assert index_scans, json.dumps(document, indent=1)
    seq_scans = [
        n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "obligations"
    ]
    assert not seq_scans, json.dumps(document, indent=1)


async def outbox_events(
    engine: AsyncEngine, *, besides: frozenset[str] = frozenset()
) -> dict[str, tuple[str, ObligationDue]]:
    """Outbox rows by event id (except `besides`): their subject and decoded payload."""
    uow = unit_of_work(engine)
    async with uow() as session:
        rows = (await session.exec(select(OutboxEvent))).all()
    out: dict[str, tuple[str, ObligationDue]] = {}
    for row in rows:
        if row.id in besides:
            continue
        env = Envelope.FromString(row.body)
        due = ObligationDue()
        assert env.data.Unpack(due)
        out[row.id] = (row.subject, due)
    return out


async def test_sweep_advances_only_due_rows_approaching_then_overdue(engine: AsyncEngine) -> None:
    """NTF-7: approaching before the due time, overdue after; each emitted once (MON-3)."""
    uow = unit_of_work(engine)
    due_ids = {f"due-{i}" for i in range(len(DUE))}

    async with uow() as session:
        assert await sweep(session, service="shelter", now=NOW) == len(DUE)
    async with uow() as session:
        assert await sweep(session, service="shelter", now=NOW) == 0  # same instant: nothing
    first = await outbox_events(engine)
    assert len(first) == len(DUE)
    assert {s for s, _ in first.values()} == {"kamqor.shelter.obligation.approaching"}
    assert {d.obligation_id for _, d in first.values()} == due_ids
    assert all(d.stage == "approaching" for _, d in first.values())
    assert {d.rule for _, d in first.values()} == {rule for rule, _, _ in DUE}

    async with uow() as session:
        rows = (await session.exec(select(Obligation).where(col(Obligation.id).in_(due_ids)))).all()
        assert all(r.next_check_at == r.due_at and r.approaching_sent_at == NOW for r in rows)

    async with uow() as session:
        assert await sweep(session, service="shelter", now=AFTER_DUE) == len(DUE)
    async with uow() as session:
        assert await sweep(session, service="shelter", now=AFTER_DUE) == 0
    then = await outbox_events(engine, besides=frozenset(first))
    assert len(then) == len(DUE)
    assert {s for s, _ in then.values()} == {"kamqor.shelter.obligation.overdue"}
    assert {d.obligation_id for _, d in then.values()} == due_ids
    assert all(d.stage == "overdue" for _, d in then.values())

    async with uow() as session:
        swept = (
            await session.exec(select(Obligation).where(col(Obligation.id).in_(due_ids)))
        ).all()
        assert all(r.next_check_at is None and r.overdue_sent_at == AFTER_DUE for r in swept)
        untouched = (
            await session.exec(
                select(Obligation).where(
                    col(Obligation.approaching_sent_at).is_not(None),
                    col(Obligation.id).not_in(due_ids),
                )
            )
        ).all()
        assert untouched == []
