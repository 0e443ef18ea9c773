"""Reactions to other services' events: a shelter resident's support (SHL-4) becomes measures of
the case's plan. Otherwise a plan starts with a case worker's draft (PLN-1), not with an event."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.intake_pb2 import CaseOpened
from kamqor.events.v1.notify_pb2 import NoticeDelivered
from kamqor.events.v1.shelter_pb2 import StaySupportRecorded
from kamqor.inbox import Subscription
from kamqor.protoconv import dt
from kamqor.runtime import Wiring
from plans.service import add_support_measures, remember_case
from plans.service.sending import record_delivery

STAY_SUPPORT_RECORDED = "kamqor.shelter.stay.support_recorded"
CASE_OPENED = "kamqor.intake.case.opened"
NOTICE_DELIVERED = "kamqor.notify.notice.delivered"
# notify's notice of a measure to its agency (NTF-3), about `measure/<id>`.
MEASURE_NOTICE_RULE = "NTF-3"
MEASURE_PREFIX = "measure/"


async def on_case_opened(session: AsyncSession, _envelope: Envelope, payload: Any) -> None:
    await remember_case(session, payload)


async def on_stay_support_recorded(
    session: AsyncSession, _envelope: Envelope, payload: Any
) -> None:
    await add_support_measures(session, payload)


async def on_notice_delivered(session: AsyncSession, _envelope: Envelope, payload: Any) -> None:
    # Other notices (shelter admissions, closures, ...) are not about a measure.
    if payload.rule == MEASURE_NOTICE_RULE and payload.subject.startswith(MEASURE_PREFIX):
        await record_delivery(
            session,
            measure_id=payload.subject.removeprefix(MEASURE_PREFIX),
            delivered_at=dt(payload.delivered_at),
        )


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return [
        # The family a plan covers (PLN-1) and whom its closure letter goes to (PLN-11).
        Subscription(
            durable="plans-case-opened",
            producer="intake",
            subject=CASE_OPENED,
            payload_type=CaseOpened,
            handler=on_case_opened,
        ),
        Subscription(
            durable="plans-stay-support",
            producer="shelter",
            subject=STAY_SUPPORT_RECORDED,
            payload_type=StaySupportRecorded,
            handler=on_stay_support_recorded,
            # Not batched: an event reads the plan an earlier one of the same case may have made.
        ),
        # A measure's notice reached its agency: the sending is done (PLN-5 met on delivery).
        Subscription(
            durable="plans-notice-delivered",
            producer="notify",
            subject=NOTICE_DELIVERED,
            payload_type=NoticeDelivered,
            handler=on_notice_delivered,
            # Meets the measure's own open obligation, a no-op once met: batches are safe.
            batch=True,
        ),
    ]
