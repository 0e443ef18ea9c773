"""The outbox relay: publish staged events, wait for the JetStream ack, then mark them sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from opentelemetry import propagate, trace
from sqlalchemy import Row, select, update
from sqlmodel import col

from kamqor.broker import Broker
from kamqor.clock import utcnow
from kamqor.db import UnitOfWork
from kamqor.outbox import OutboxEvent

log = logging.getLogger(__name__)

_COLUMNS = (
    col(OutboxEvent.id),
    col(OutboxEvent.subject),
    col(OutboxEvent.event_type),
    col(OutboxEvent.body),
    col(OutboxEvent.traceparent),
    col(OutboxEvent.tracestate),
)


class Relay:
    def __init__(
        self,
        *,
        uow: UnitOfWork,
        broker: Broker,
        tracer: trace.Tracer,
        poll_seconds: float = 1.0,
        batch: int = 100,
    ) -> None:
        self._uow = uow
        self._broker = broker
        self._tracer = tracer
        self._poll = poll_seconds
        self._batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that staged events, so they leave without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = self._poll
        while True:
            try:
                sent = await self.drain_once()
                backoff = self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay: %s; retrying", type(exc).__name__)
                sent = 0
                backoff = min(backoff * 2, 10.0)
            if sent:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)

    async def drain_once(self) -> int:
        """Publish one batch; returns how many were acknowledged by JetStream.

        The batch's publishes are in flight together (JetStream acknowledges each), then the
        acknowledged rows are marked sent in one statement, the failed ones counted in another.
        """
        if not self._broker.is_connected:
            return 0
        async with self._uow() as session:
            # SKIP LOCKED lets several replicas relay side by side without sending a row twice
            # at once. Columns, not ORM objects: nothing here is changed through the ORM.
            conn = await session.connection()
            rows = (
                await conn.execute(
                    select(*_COLUMNS)
                    .where(col(OutboxEvent.sent_at).is_(None))
                    .order_by(col(OutboxEvent.id))
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            results = await asyncio.gather(
                *(self._publish(row) for row in rows), return_exceptions=True
            )
            sent = [row.id for row, r in zip(rows, results, strict=True) if r is None]
            failed = [row for row, r in zip(rows, results, strict=True) if r is not None]
            if sent:
                await conn.execute(
                    update(OutboxEvent)
                    .where(col(OutboxEvent.id).in_(sent))
                    .values(sent_at=utcnow())
                )
            if failed:
                first = next(r for r in results if r is not None)
                if isinstance(first, asyncio.CancelledError):
                    raise first
                log.warning(
                    "%d of %d publishes failed: %s", len(failed), len(rows), type(first).__name__
                )
                await conn.execute(
                    update(OutboxEvent)
                    .where(col(OutboxEvent.id).in_([r.id for r in failed]))
                    .values(attempts=col(OutboxEvent.attempts) + 1)
                )
        return len(sent)

    async def _publish(self, row: Row[Any]) -> None:
        parent = propagate.extract(
            {
                k: v
                for k, v in (("traceparent", row.traceparent), ("tracestate", row.tracestate))
                if v
            }
        )
        with self._tracer.start_as_current_span(
            f"{row.subject} publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": row.subject,
                "messaging.message.id": row.id,
            },
        ):
            headers = {"Nats-Msg-Id": row.id, "Ce-Type": row.event_type}
            propagate.inject(headers)
            ack = await self._broker.js.publish(row.subject, row.body, headers=headers, timeout=5)
            if ack.duplicate:
                log.info("event %s was already in the stream", row.id)
