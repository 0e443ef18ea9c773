"""The database is the record, not the broker (SHL-3).

An admission's event leaves through the outbox, but a broker may acknowledge a write and then
lose it (Jepsen, NATS 2.12). So the shelter holds on until notify confirms that the admission's
notices exist (`AdmissionNoticesCreated`, recorded here), and re-sends the admission events still
unconfirmed after `confirm_after_seconds`: a copy of the original row staged in the outbox under a
new row id (the broker's dedupe key, so the broker cannot drop it as a duplicate) carrying the
very same envelope, so notify's inbox recognises the event id and creates nothing twice; notify
confirms again an admission it had already handled (its confirmation may be what was lost).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import and_, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.clock import utcnow
from kamqor.db import UnitOfWork, UTCDateTime
from kamqor.events.v1.notify_pb2 import AdmissionNoticesCreated
from kamqor.outbox import OutboxEvent
from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper

log = logging.getLogger(__name__)

ADMITTED = "kamqor.shelter.stay.admitted"
# A re-sent copy's outbox id is `<event id>.r<n>`: event ids are UUIDs, which have no dot, so the
# scan below tells originals from copies without reading the bodies.
RESEND_MARK = ".r"


class ReconcilerSettings(BaseSettings):
    """`KAMQOR_NOTICE_*`: how long an admission may stay unconfirmed before it is re-sent."""

    model_config = SettingsConfigDict(env_prefix="KAMQOR_NOTICE_", env_file=None, extra="ignore")

    confirm_after_seconds: float = 10.0
    interval_seconds: float = 2.0
    batch: int = 200
    # Admission events older than this are no longer scanned (the SHL-3 term is 24 hours; by
    # then an unconfirmed admission is the sweeper's and the people's business, not a retry's).
    horizon_hours: float = 48.0


class AdmissionNoticeCheck(SQLModel, table=True):
    __tablename__ = "admission_notice_checks"

    event_id: str = Field(primary_key=True, max_length=64)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notices: int | None = None
    resends: int = 0
    last_resent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


async def record_confirmation(
    session: AsyncSession, *, confirmed: AdmissionNoticesCreated, at: datetime | None = None
) -> None:
    """Notify says the admission's notices exist: the first confirmation counts, later ones
    (after a re-send) change nothing."""
    table = AdmissionNoticeCheck.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(
        event_id=confirmed.admission_event_id,
        confirmed_at=at or utcnow(),
        notices=confirmed.notices,
        resends=0,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.event_id],
        set_={"confirmed_at": statement.excluded.confirmed_at, "notices": confirmed.notices},
        where=table.c.confirmed_at.is_(None),
    )
    await (await session.connection()).execute(statement)


async def resend_unconfirmed(
    session: AsyncSession,
    *,
    now: datetime,
    after: timedelta,
    horizon: timedelta,
    limit: int,
) -> int:
    """Stage a copy of each admission event sent at least `after` ago (or re-sent that long ago)
    and still unconfirmed; returns how many. Rows another replica is on are skipped."""
    o = OutboxEvent.__table__.alias("o")  # type: ignore[attr-defined]
    c = AdmissionNoticeCheck.__table__  # type: ignore[attr-defined]
    pending_copy = OutboxEvent.__table__.alias("r")  # type: ignore[attr-defined]
    conn = await session.connection()
    rows = (
        await conn.execute(
            select(
                o.c.id,
                o.c.subject,
                o.c.event_type,
                o.c.body,
                o.c.traceparent,
                o.c.tracestate,
                c.c.resends,
            )
            .select_from(o.outerjoin(c, c.c.event_id == o.c.id))
            # A literal, not a parameter: a generic plan of a prepared statement could not
            # use the partial index `ix_outbox_admissions` (`WHERE subject = '...'`).
            .where(o.c.subject == literal_column(f"'{ADMITTED}'"))
            .where(o.c.created_at > now - horizon)
            .where(o.c.created_at <= now - after)
            .where(~o.c.id.contains(RESEND_MARK, autoescape=True))
            # Not sent yet: the relay's job, not a loss.
            .where(o.c.sent_at.is_not(None))
            .where(c.c.confirmed_at.is_(None))
            .where(or_(c.c.last_resent_at.is_(None), c.c.last_resent_at <= now - after))
            # The previous copy has not left yet (the broker is away): one copy at a time.
            .where(
                ~select(literal(1))
                .where(
                    and_(
                        pending_copy.c.id
                        == o.c.id + RESEND_MARK + c.c.resends.cast(pending_copy.c.id.type),
                        pending_copy.c.sent_at.is_(None),
                    )
                )
                .exists()
            )
            .order_by(o.c.created_at)
            .limit(limit)
            .with_for_update(of=o, skip_locked=True)
        )
    ).all()
    if not rows:
        return 0
    copies = []
    checks = []
    for row in rows:
        n = (row.resends or 0) + 1
        copies.append(
            {
                "id": f"{row.id}{RESEND_MARK}{n}",
                "subject": row.subject,
                "event_type": row.event_type,
                "body": row.body,
                "traceparent": row.traceparent,
                "tracestate": row.tracestate,
                "created_at": now,
                "sent_at": None,
                "attempts": 0,
            }
        )
        checks.append({"event_id": row.id, "resends": n, "last_resent_at": now})
    await conn.execute(insert(OutboxEvent.__table__), copies)  # type: ignore[attr-defined]
    upsert = insert(c)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[c.c.event_id],
            set_={
                "resends": upsert.excluded.resends,
                "last_resent_at": upsert.excluded.last_resent_at,
            },
        ),
        checks,
    )
    return len(rows)


class Reconciler:
    """Re-sends unconfirmed admissions every `interval_seconds`, a bounded batch at a time."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        settings: ReconcilerSettings | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._uow = uow
        self.settings = settings or ReconcilerSettings()
        self._after_commit = after_commit

    async def reconcile_once(self, now: datetime | None = None) -> int:
        s = self.settings
        async with self._uow() as session:
            count = await resend_unconfirmed(
                session,
                now=now or utcnow(),
                after=timedelta(seconds=s.confirm_after_seconds),
                horizon=timedelta(hours=s.horizon_hours),
                limit=s.batch,
            )
        if count:
            log.warning("re-sent %d admission events notify has not confirmed", count)
            if self._after_commit is not None:
                self._after_commit()
        return count

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("notice reconciler: %s", type(exc).__name__)
            await asyncio.sleep(self.settings.interval_seconds)


class ReconcilingSweeper(Sweeper):
    """A service's sweeper with the reconciler beside it, on the reconciler's shorter cadence."""

    def __init__(self, inner: Sweeper, reconciler: Reconciler) -> None:
        # Not the base's __init__: every sweep is the inner sweeper's, whatever it checks.
        self.inner = inner
        self.reconciler = reconciler

    async def sweep_once(self, now: datetime | None = None) -> int:
        return await self.inner.sweep_once(now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self.inner.run())
            group.create_task(self.reconciler.run())


def with_reconciler(build: Callable[[Wiring], Sweeper]) -> Callable[[Wiring], Sweeper]:
    """Wrap a sweeper builder (`sweeper.build`) so the reconciler runs beside it."""

    def wrapped(wiring: Wiring) -> Sweeper:
        reconciler = Reconciler(uow=wiring.uow, after_commit=wiring.relay.wake)
        return ReconcilingSweeper(build(wiring), reconciler)

    return wrapped
