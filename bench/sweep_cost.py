"""The deadline sweep's cost grows with what is due, not with history (ARCHITECTURE "Deadlines").

Baseline: a sweep of DUE rows among a small history. Measured: the same sweep among a history
a hundred times larger. Both on the same PostgreSQL in the same run; the ratio is what counts
(near 1.0 means the index keeps the sweep flat; a table scan would grow with the history).
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from devstack.postgres import PostgresCluster
from kamqor.db import make_engine, migrate, unit_of_work
from kamqor.obligations import Obligation
from kamqor.sweeping import sweep

MIGRATIONS = Path(__file__).resolve().parents[1] / "services" / "shelter" / "migrations"
DUE = 50
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _rows(count: int, *, due: bool) -> list[dict[str, object]]:
    base = NOW - timedelta(hours=1) if due else NOW + timedelta(days=365)
    return [
        {
            "id": str(uuid.uuid4()),
            "rule": "INT-3/primary",
            "subject": f"appeal/{uuid.uuid4()}",
            "territory": "kz-ast",
            "responsible_agency": "fc-ast-1",
            "responsible_person": "",
            "arose_at": base - timedelta(days=3),
            "due_at": base,
            "approaching_at": base - timedelta(hours=6),
            "next_check_at": base - timedelta(hours=6),
            "state": "open",
            "profile": "kz",
            "profile_version": "bench",
            "calendar_version": "bench",
        }
        for _ in range(count)
    ]


async def _measure(cluster: PostgresCluster, history: int, rounds: int) -> float:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    cluster.create_database(name)
    engine = make_engine(cluster.url(name))
    await migrate(engine, MIGRATIONS)
    table = Obligation.__table__  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        for start in range(0, history, 10_000):
            await conn.execute(sa.insert(table), _rows(min(10_000, history - start), due=False))
        await conn.execute(sa.text("ANALYZE obligations"))
    uow = unit_of_work(engine)
    timings = []
    for _ in range(rounds):
        async with engine.begin() as conn:
            await conn.execute(sa.insert(table), _rows(DUE, due=True))
        async with uow() as session:
            started = time.perf_counter()
            advanced = await sweep(session, service="bench", now=NOW)
            timings.append(time.perf_counter() - started)
            await session.rollback()  # the same due rows are swept again next round
        async with engine.begin() as conn:
            await conn.execute(
                sa.delete(table)
                .where(table.c.profile_version == "bench")
                .where(table.c.due_at < NOW)
            )
        assert advanced == DUE, advanced
    await engine.dispose()
    return statistics.median(timings)


async def run(cluster: PostgresCluster) -> str:
    baseline = await _measure(cluster, history=1_000, rounds=15)
    measured = await _measure(cluster, history=100_000, rounds=15)
    return (
        f"sweep of {DUE} due rows: {baseline * 1000:.2f} ms among 1,000 open, "
        f"{measured * 1000:.2f} ms among 100,000 open; ratio {measured / baseline:.2f} "
        "(1.0 = flat; a scan would be ~100)"
    )
