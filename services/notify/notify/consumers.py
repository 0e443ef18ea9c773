"""Reactions to other services' events; each runs in the inbox's transaction, so a redelivered
event changes nothing (NTF-7)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.inbox import Subscription
from kamqor.runtime import Wiring
from notify import rules, service


async def on_stay_admitted(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    await service.create_admission_notices(session, event_id=envelope.id, admitted=payload)


async def on_obligation_due(
    session: AsyncSession, envelope: Envelope, payload: Any, *, producer: str
) -> None:
    await service.record_obligation_due(
        session, event_id=envelope.id, producer=producer, due=payload
    )


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return [
        Subscription(
            durable="notify-stay-admitted",
            producer="shelter",
            subject="kamqor.shelter.stay.admitted",
            payload_type=StayAdmitted,
            handler=on_stay_admitted,
            # It only stages its own rows: a fetched batch is applied in one transaction.
            batch=True,
        ),
        # Every producer's approaching and overdue obligations, notify's own included (NTF-7).
        *(
            Subscription(
                durable=f"notify-{producer}-obligations",
                producer=producer,
                subject=f"kamqor.{producer}.obligation.>",
                payload_type=ObligationDue,
                handler=partial(on_obligation_due, producer=producer),
            )
            for producer in rules.OBLIGATION_PRODUCERS
        ),
    ]
