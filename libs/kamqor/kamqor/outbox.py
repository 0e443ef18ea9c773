"""Transactional outbox: the event row is written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.any_pb2 import Any as AnyPb
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import propagate
from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.clock import utcnow
from kamqor.db import UTCDateTime, stage
from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.ids import new_id


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox"

    id: str = Field(primary_key=True)
    subject: str = Field(max_length=200)
    event_type: str = Field(max_length=200)
    body: bytes = Field(sa_type=LargeBinary)
    traceparent: str | None = Field(default=None, max_length=200)
    tracestate: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Null until JetStream acknowledged the publish; the relay's index is on it.
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = 0


def envelope(
    *, source: str, entity: str, payload: Message, event_id: str | None = None
) -> Envelope:
    packed = AnyPb()
    packed.Pack(payload)
    ts = Timestamp()
    ts.FromDatetime(utcnow())
    return Envelope(
        id=event_id or new_id(),
        source=source,
        type=payload.DESCRIPTOR.full_name,
        time=ts,
        subject=entity,
        data=packed,
    )


def append(
    session: AsyncSession, *, source: str, subject: str, entity: str, payload: Message
) -> str:
    """Stage an event for `subject` (kamqor.<service>.<entity>.<verb-past>); returns its id.

    The current trace context is kept with the row, so the relay's publish and every consumer's
    work join the trace of the request that caused the change.
    """
    env = envelope(source=source, entity=entity, payload=payload)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    stage(
        session,
        OutboxEvent(
            id=env.id,
            subject=subject,
            event_type=env.type,
            body=env.SerializeToString(),
            traceparent=carrier.get("traceparent"),
            tracestate=carrier.get("tracestate"),
            created_at=utcnow(),
        ),
    )
    return env.id
