"""Idempotent consumption: the event id is recorded in the same transaction as its effect."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry import propagate, trace
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.broker import Broker
from kamqor.clock import utcnow
from kamqor.db import UnitOfWork, UTCDateTime, stage
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.streams import ensure_stream, stream_name
from kamqor.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# Redelivery is bounded so a poison message cannot spin forever, but generous: the messages
# here are legal notices (NTF-7), and a database outage must not exhaust the budget.
MAX_DELIVER = 100
# Short, so a message delivered to a consumer that died, or to a subscription lost in a broker
# restart, comes back within seconds (with 30 s, notices waited up to two minutes after a run of
# faults); a handler that takes longer keeps its messages with in-progress acks (`_keep_alive`).
ACK_WAIT_SECONDS = 3.0
PROGRESS_EVERY_SECONDS = ACK_WAIT_SECONDS / 3
FETCH_BATCH = 16
FETCH_SECONDS = 1.0


class ProcessedEvent(SQLModel, table=True):
    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    processed_at: datetime = Field(sa_type=UTCDateTime)


Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of one producer's events of one type."""

    durable: str
    producer: str
    subject: str
    payload_type: type[Message]
    handler: Handler
    # The handler only stages rows for its own event (no reads of what an earlier event of the
    # same batch wrote, no unique key two events could race for): then a fetched batch is
    # applied in one transaction, each event id still recorded; a failing batch falls back to
    # one transaction per event.
    batch: bool = False
    # Called instead of `handler`, in its own transaction, for an event already processed: a
    # producer that re-sends until it hears back (`shelter.reconciler`) gets its answer again.
    on_duplicate: Handler | None = None


class Consumer:
    def __init__(
        self,
        *,
        subscription: Subscription,
        broker: Broker,
        uow: UnitOfWork,
        tracer: trace.Tracer,
        replicas: int,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self._sub = subscription
        self._broker = broker
        self._uow = uow
        self._tracer = tracer
        self._replicas = replicas
        self._after_commit = after_commit

    async def run(self) -> None:
        while True:
            await self._broker.wait_connected()
            generation = self._broker.generation
            try:
                await self._consume(generation)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker restarts are survived, not fatal
                log.warning("consumer %s: %s; resubscribing", self._sub.durable, type(exc).__name__)
                await asyncio.sleep(0.5)

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self._sub.durable,
            name=self._sub.durable,
            filter_subject=self._sub.subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_deliver=MAX_DELIVER,
        )

    async def _consume(self, generation: int) -> None:
        """Fetch and process until the connection drops or is replaced (then the caller
        subscribes anew, on a new reply subject)."""
        await self._producer_stream()
        stream = stream_name(self._sub.producer)
        # Create or update: a durable made with an older configuration (a 30 s ack wait) takes
        # this one; the server keeps its position and pending acks.
        await self._broker.js.add_consumer(stream, config=self.config())
        psub = await self._broker.js.pull_subscribe(
            self._sub.subject, durable=self._sub.durable, stream=stream
        )
        log.debug("consumer %s: subscribed (connection %d)", self._sub.durable, generation)
        try:
            # Never fetch while disconnected: nats-py buffers a publish made while it reconnects
            # and replays it on the new connection, so every fetch tried during an outage became
            # a pull request on the restarted server, for a reply subject this loop abandons
            # right after; the messages sent to it waited out the whole ack wait, once more after
            # every restart.
            while generation == self._broker.generation and self._broker.is_connected:
                try:
                    msgs = await psub.fetch(batch=FETCH_BATCH, timeout=FETCH_SECONDS)
                except TimeoutError:
                    # Nothing to fetch: normal while idle, the subscription stays. nats-py raises
                    # its own TimeoutError or a bare asyncio.TimeoutError (when its no-wait probe
                    # used up the time); both are TimeoutError.
                    continue
                await self._handle(msgs)
        finally:
            # Unsubscribed here, a later drain of the connection has nothing left to cancel.
            with contextlib.suppress(Exception):
                await psub.unsubscribe()
            await self._release(psub)

    async def _handle(self, msgs: list[Msg]) -> None:
        keep_alive = asyncio.create_task(self._keep_alive(msgs))
        try:
            if self._sub.batch and len(msgs) > 1 and await self._process_batch(msgs):
                return
            for msg in msgs:
                await self._process(msg)
        finally:
            await cancel_and_wait(keep_alive)

    @staticmethod
    async def _keep_alive(msgs: list[Msg]) -> None:
        """In-progress acks while a fetched batch is being handled (a slow database), so the
        short ack wait does not hand the same messages to another replica meanwhile."""
        while True:
            await asyncio.sleep(PROGRESS_EVERY_SECONDS)
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def _release(self, psub: JetStreamContext.PullSubscription) -> None:
        """Messages that reached the abandoned subscription after all (a pull request the old
        connection had sent): given back at once rather than after the ack wait."""
        queue = psub._sub._pending_queue  # nats-py keeps them here; no public accessor
        while not queue.empty():
            msg = queue.get_nowait()
            if msg.reply and not JetStreamContext.is_status_msg(msg):
                with contextlib.suppress(Exception):
                    await msg.nak()

    async def _producer_stream(self) -> None:
        """The producer declares its stream; a consumer only looks it up (its NATS user may
        not change another service's stream) and declares it only where none exists yet and its
        user may (tests, tools)."""
        try:
            await self._broker.js.stream_info(stream_name(self._sub.producer))
        except NotFoundError:
            await ensure_stream(self._broker.js, self._sub.producer, replicas=self._replicas)

    async def _process(self, msg: Msg) -> None:
        env = Envelope()
        try:
            env.ParseFromString(msg.data)
            payload = self._sub.payload_type()
            if not env.data.Unpack(payload):
                raise ValueError(f"payload is {env.type}, expected {payload.DESCRIPTOR.full_name}")
        except Exception as exc:
            log.error("consumer %s: dropping undecodable message: %s", self._sub.durable, exc)
            await msg.term()
            return
        parent = propagate.extract(dict(msg.headers or {}))
        with self._tracer.start_as_current_span(
            f"{msg.subject} process",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.message.id": env.id,
                "messaging.consumer.group.name": self._sub.durable,
            },
        ):
            try:
                await self._apply(env, payload)
            except Exception as exc:
                delivered = msg.metadata.num_delivered if msg.metadata else 0
                log.warning(
                    "consumer %s: event %s failed (%s), delivery %s",
                    self._sub.durable,
                    env.id,
                    type(exc).__name__,
                    delivered,
                )
                await msg.nak(delay=min(2.0 * max(delivered, 1), 30.0))
                return
            await msg.ack()

    def _decode(self, msg: Msg) -> tuple[Envelope, Message] | None:
        env = Envelope()
        try:
            env.ParseFromString(msg.data)
            payload = self._sub.payload_type()
            if not env.data.Unpack(payload):
                return None
        except Exception:
            return None
        return env, payload

    async def _process_batch(self, msgs: list[Msg]) -> bool:
        """Apply a fetched batch in one transaction and ack it; False (nothing acked or
        written) when any message needs the one-by-one path: undecodable, or the batch failed."""
        decoded = [self._decode(m) for m in msgs]
        if any(d is None for d in decoded):
            return False
        events = [d for d in decoded if d is not None]
        try:
            async with self._uow() as session:
                ids = [env.id for env, _ in events]
                conn = await session.connection()
                done = set(
                    (
                        await conn.execute(
                            select(col(ProcessedEvent.event_id))
                            .where(ProcessedEvent.consumer == self._sub.durable)
                            .where(col(ProcessedEvent.event_id).in_(ids))
                        )
                    ).scalars()
                )
                now = utcnow()
                again = set(done)  # processed before this batch, not within it
                for msg, (env, payload) in zip(msgs, events, strict=True):
                    if env.id in done:
                        if env.id in again and self._sub.on_duplicate is not None:
                            again.discard(env.id)
                            await self._sub.on_duplicate(session, env, payload)
                        continue
                    done.add(env.id)
                    stage(
                        session,
                        ProcessedEvent(
                            consumer=self._sub.durable, event_id=env.id, processed_at=now
                        ),
                    )
                    with self._span(msg, env):
                        await self._sub.handler(session, env, payload)
        except Exception as exc:
            log.info(
                "consumer %s: batch of %d failed (%s); one by one",
                self._sub.durable,
                len(msgs),
                type(exc).__name__,
            )
            return False
        if self._after_commit is not None:
            self._after_commit()
        for msg in msgs:
            await msg.ack()
        return True

    def _span(self, msg: Msg, env: Envelope) -> contextlib.AbstractContextManager[Any]:
        return self._tracer.start_as_current_span(
            f"{msg.subject} process",
            context=propagate.extract(dict(msg.headers or {})),
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.message.id": env.id,
                "messaging.consumer.group.name": self._sub.durable,
            },
        )

    async def _apply(self, env: Envelope, payload: Message) -> None:
        try:
            async with self._uow() as session:
                if await session.get(ProcessedEvent, (self._sub.durable, env.id)) is not None:
                    if self._sub.on_duplicate is None:
                        return
                    await self._sub.on_duplicate(session, env, payload)
                else:
                    stage(
                        session,
                        ProcessedEvent(
                            consumer=self._sub.durable, event_id=env.id, processed_at=utcnow()
                        ),
                    )
                    await self._sub.handler(session, env, payload)
        except IntegrityError:
            # Another replica may have recorded this event id first: then its effect is committed.
            async with self._uow() as session:
                if await session.get(ProcessedEvent, (self._sub.durable, env.id)) is not None:
                    return
            raise
        if self._after_commit is not None:
            self._after_commit()
