"""An idle consumer is normal operation: it keeps its pull subscription and logs nothing.

nats-py's `fetch` ends an empty wait with its own `TimeoutError` or with a bare
`asyncio.TimeoutError`; the consumer once took the second for a broken subscription, logged
`TimeoutError; resubscribing` every few seconds and subscribed again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from opentelemetry import trace
from sqlmodel.ext.asyncio.session import AsyncSession

from devstack.nats import NatsServer
from kamqor.broker import Broker
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.inbox import Consumer, Subscription
from kamqor.streams import stream_name

IDLE_SECONDS = 8.0


@asynccontextmanager
async def _no_database() -> AsyncIterator[AsyncSession]:
    raise AssertionError("an idle consumer never opens a unit of work")
    yield  # pragma: no cover


async def _never(session: AsyncSession, env: Envelope, payload: Any) -> None:
    raise AssertionError("no message was published")


async def test_an_idle_consumer_keeps_its_subscription_and_logs_nothing(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = Broker(nats_server.admin_url, name="idle-probe")
    await broker.connect()
    durable = f"idle-probe-{uuid.uuid4().hex[:8]}"
    subscribed = 0
    pull_subscribe = broker.js.pull_subscribe

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal subscribed
        subscribed += 1
        return await pull_subscribe(*args, **kwargs)

    monkeypatch.setattr(broker.js, "pull_subscribe", counting)
    consumer = Consumer(
        subscription=Subscription(
            durable=durable,
            producer="intake",
            subject=f"kamqor.intake.idle-probe.{durable}",
            payload_type=Envelope,
            handler=_never,
        ),
        broker=broker,
        uow=_no_database,
        tracer=trace.get_tracer("idle-probe"),
        replicas=1,
    )
    caplog.set_level(logging.INFO, logger="kamqor.inbox")
    task = asyncio.create_task(consumer.run())
    try:
        await asyncio.sleep(IDLE_SECONDS)
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with contextlib.suppress(Exception):
            await broker.js.delete_consumer(stream_name("intake"), durable)
        await broker.close()
    assert subscribed == 1
    assert [r.getMessage() for r in caplog.records if r.name == "kamqor.inbox"] == []
