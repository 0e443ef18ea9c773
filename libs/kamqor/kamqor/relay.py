"""The outbox relay: publish staged events, wait for the JetStream ack, then mark them sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
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
        publish_timeout: float = 5.0,
    ) -> None:
        self._uow = uow
        self._broker = broker
        self._tracer = tracer
        self._poll = poll_seconds
        self._batch = batch
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        # Publishes of the last batch that failed; with the broker there, the next try backs off.
        self._failed = 0

    def wake(self) -> None:
        """Called after a commit that staged events, so they leave without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        backoff = self._poll
        while True:
            # While the broker is away nothing can leave: wait for it, not for a backoff that
            # would still be running when it is back (events must leave within seconds of it).
            await self._broker.wait_connected()
            over = self._broker.generation_over()
            try:
                sent = await self.drain_once()
                backoff = min(backoff * 2, 10.0) if self._failed else self._poll
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay: %s; retrying", type(exc).__name__)
                sent = 0
                backoff = min(backoff * 2, 10.0)
            if sent:
                continue
            if over.is_set():
                # The connection was replaced mid-batch: send again on the new one, now.
                backoff = self._poll
                continue
            self._wake.clear()
            await self._sleep(backoff, over)

    async def _sleep(self, seconds: float, over: asyncio.Event) -> None:
        """Until woken by a commit, a new connection, or `seconds`."""
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(over.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def drain_once(self) -> int:
        """Publish one batch; returns how many were acknowledged by JetStream.

        The batch's publishes are in flight together (JetStream acknowledges each), then the
        acknowledged rows are marked sent in one statement, the failed ones counted in another.
        """
        self._failed = 0
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
            results = await self._publish_all(rows)
            sent = [row.id for row, r in zip(rows, results, strict=True) if r is None]
            failed = [row for row, r in zip(rows, results, strict=True) if r is not None]
            self._failed = len(failed)
            log.debug("relayed %d of %d", len(sent), len(rows))
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

    async def _publish_all(self, rows: Sequence[Row[Any]]) -> list[BaseException | None]:
        """Publish the rows side by side; each result is None (acknowledged) or its error.

        A reconnect ends the wait: a publish the old connection had sent is answered by nobody,
        and waiting out its timeout delayed a whole batch of notices by that much after every
        broker restart. The broker dedupes the resend (`Nats-Msg-Id`).
        """
        over = self._broker.generation_over()
        tasks = [asyncio.ensure_future(self._publish(row)) for row in rows]
        watch = asyncio.ensure_future(over.wait())
        try:
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending and not watch.done():
                _, pending = await asyncio.wait(
                    {*pending, watch}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(watch)
        finally:
            watch.cancel()
            for task in tasks:
                task.cancel()
        results: list[BaseException | None] = []
        for task in tasks:
            if task.cancelled():
                results.append(ConnectionResetError("connection replaced"))
            else:
                results.append(task.exception())
        return results

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
            ack = await self._broker.js.publish(
                row.subject, row.body, headers=headers, timeout=self._publish_timeout
            )
            if ack.duplicate:
                log.info("event %s was already in the stream", row.id)
