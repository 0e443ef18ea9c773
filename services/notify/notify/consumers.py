"""Reactions to other services' events; each runs in the inbox's transaction, so a redelivered
event changes nothing (NTF-7)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.inbox import Subscription
from kamqor.runtime import Wiring
from notify import service


async def on_stay_admitted(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    await service.create_admission_notices(session, event_id=envelope.id, admitted=payload)


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return [
        Subscription(
            durable="notify-stay-admitted",
            producer="shelter",
            subject="kamqor.shelter.stay.admitted",
            payload_type=StayAdmitted,
            handler=on_stay_admitted,
        ),
    ]
