"""The deadline sweep shared by every service's sweeper.

Due rows become `approaching` and `overdue` events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from kamqor import outbox
from kamqor.clock import utcnow
from kamqor.db import UnitOfWork
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.obligations import Obligation, ObligationState

log = logging.getLogger(__name__)


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def due_query(*, now: datetime, limit: int) -> SelectOfScalar[Obligation]:
    """The rows the sweep advances: `state = open AND next_check_at <= now`, oldest check first.

    Served by `ix_obligations_sweep (state, next_check_at)`, so the cost grows with what is due,
    not with history (tests/kit/test_sweeper_index.py checks the plan). Rows another replica is
    sweeping are skipped, not waited for.
    """
    return (
        select(Obligation)
        .where(Obligation.state == ObligationState.OPEN)
        .where(col(Obligation.next_check_at) <= now)
        .order_by(col(Obligation.next_check_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def sweep(session: AsyncSession, *, service: str, now: datetime, limit: int = 500) -> int:
    """Emit the events due by `now`; returns how many rows it advanced."""
    rows = (await session.exec(due_query(now=now, limit=limit))).all()
    for row in rows:
        if now >= row.due_at:
            stage = "overdue"
            row.overdue_sent_at = now
            row.next_check_at = None
        else:
            stage = "approaching"
            row.approaching_sent_at = now
            row.next_check_at = row.due_at
        outbox.append(
            session,
            source=f"kamqor.{service}",
            subject=f"kamqor.{service}.obligation.{stage}",
            entity=f"obligation/{row.id}",
            payload=ObligationDue(
                obligation_id=row.id,
                rule=row.rule,
                stage=stage,
                subject=row.subject,
                territory=row.territory,
                responsible_agency=row.responsible_agency,
                responsible_person=row.responsible_person,
                due_at=_ts(row.due_at),
            ),
        )
        session.add(row)
    return len(rows)


class Sweeper:
    def __init__(
        self,
        *,
        service: str,
        uow: UnitOfWork,
        interval_seconds: float,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._service = service
        self._uow = uow
        self._interval = interval_seconds
        self._after_commit = after_commit

    async def sweep_once(self, now: datetime | None = None) -> int:
        async with self._uow() as session:
            count = await sweep(session, service=self._service, now=now or utcnow())
        if count and self._after_commit is not None:
            self._after_commit()
        return count

    async def run(self) -> None:
        while True:
            try:
                while await self.sweep_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sweeper %s: %s", self._service, type(exc).__name__)
            await asyncio.sleep(self._interval)
