"""Reactions to other services' events: notify's confirmation that an admission's notices exist
(SHL-3), which ends the reconciler's re-sending of that admission."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.notify_pb2 import AdmissionNoticesCreated
from kamqor.inbox import Subscription
from kamqor.runtime import Wiring
from shelter import reconciler

ADMISSION_NOTICES_CREATED = "kamqor.notify.admission_notices.created"


async def on_admission_notices_created(
    session: AsyncSession, _envelope: Envelope, payload: Any
) -> None:
    await reconciler.record_confirmation(session, confirmed=payload)


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return [
        Subscription(
            durable="shelter-admission-notices",
            producer="notify",
            subject=ADMISSION_NOTICES_CREATED,
            payload_type=AdmissionNoticesCreated,
            handler=on_admission_notices_created,
            # An upsert of its own row per event (`ON CONFLICT`): batches are safe.
            batch=True,
        )
    ]
