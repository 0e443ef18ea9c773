"""Reactions to other services' events: a shelter resident's support (SHL-4) becomes measures of
the case's plan. Otherwise a plan starts with a case worker's draft (PLN-1), not with an event."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.shelter_pb2 import StaySupportRecorded
from kamqor.inbox import Subscription
from kamqor.runtime import Wiring
from plans.service import add_support_measures

STAY_SUPPORT_RECORDED = "kamqor.shelter.stay.support_recorded"


async def on_stay_support_recorded(
    session: AsyncSession, _envelope: Envelope, payload: Any
) -> None:
    await add_support_measures(session, payload)


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return [
        Subscription(
            durable="plans-stay-support",
            producer="shelter",
            subject=STAY_SUPPORT_RECORDED,
            payload_type=StaySupportRecorded,
            handler=on_stay_support_recorded,
            # Not batched: an event reads the plan an earlier one of the same case may have made.
        )
    ]
