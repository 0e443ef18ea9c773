"""Reactions to other services' events; each runs in the inbox's transaction, so a redelivered
event changes nothing (NTF-7)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor.events.v1.envelope_pb2 import Envelope
from kamqor.events.v1.intake_pb2 import AppealRedirected, AppealRegistered
from kamqor.events.v1.obligations_pb2 import ObligationDue
from kamqor.events.v1.plans_pb2 import MeasureSent, PlanApproved, PlanClosed
from kamqor.events.v1.registry_pb2 import DecisionSent
from kamqor.events.v1.shelter_pb2 import StayAdmitted
from kamqor.inbox import Subscription
from kamqor.runtime import Wiring
from notify import rules, service
from notify.channels import Channels


async def on_stay_admitted(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_admission_notices(
        session, event_id=envelope.id, admitted=payload, channels=channels
    )


async def on_stay_admitted_again(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    await service.confirm_admission_notices(session, event_id=envelope.id, admitted=payload)


async def on_obligation_due(
    session: AsyncSession, envelope: Envelope, payload: Any, *, producer: str
) -> None:
    await service.record_obligation_due(
        session, event_id=envelope.id, producer=producer, due=payload
    )


async def on_appeal_registered(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_violation_notice(
        session, event_id=envelope.id, registered=payload, channels=channels
    )


async def on_measure_sent(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_measure_notice(
        session, event_id=envelope.id, sent=payload, channels=channels
    )


async def on_plan_approved(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_plan_copies(
        session, event_id=envelope.id, approved=payload, channels=channels
    )


async def on_plan_closed(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_closure_notice(
        session, event_id=envelope.id, closed=payload, channels=channels
    )


async def on_appeal_redirected(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_redirection_notice(
        session, event_id=envelope.id, redirected=payload, channels=channels
    )


async def on_decision_sent(
    session: AsyncSession, envelope: Envelope, payload: Any, *, channels: Channels
) -> None:
    await service.create_decision_notice(
        session, event_id=envelope.id, sent=payload, channels=channels
    )


def rule_subscriptions(channels: Channels) -> list[Subscription]:
    """The triggers of NTF-2 … NTF-6 and of PLN-4's copies; each notice is staged with its
    event id in the inbox, so a redelivered event creates nothing twice. (NTF-1 is the
    admission above.)"""
    triggers: list[tuple[str, str, str, type[Any], Any]] = [
        # NTF-2: an appeal on a threat to a child's life or health (INT-4 with minors).
        (
            "notify-appeal-registered",
            "intake",
            "kamqor.intake.appeal.registered",
            AppealRegistered,
            on_appeal_registered,
        ),
        ("notify-measure-sent", "plans", "kamqor.plans.measure.sent", MeasureSent, on_measure_sent),
        # PLN-4: a copy of the approved plan to every responsible organisation.
        (
            "notify-plan-approved",
            "plans",
            "kamqor.plans.plan.approved",
            PlanApproved,
            on_plan_approved,
        ),
        # NTF-4: plans publishes the closure in a later issue; the consumer waits for it.
        ("notify-plan-closed", "plans", "kamqor.plans.plan.closed", PlanClosed, on_plan_closed),
        (
            "notify-appeal-redirected",
            "intake",
            "kamqor.intake.appeal.redirected",
            AppealRedirected,
            on_appeal_redirected,
        ),
        (
            "notify-decision-sent",
            "registry",
            "kamqor.registry.decision.sent",
            DecisionSent,
            on_decision_sent,
        ),
    ]
    return [
        Subscription(
            durable=durable,
            producer=producer,
            subject=subject,
            payload_type=payload_type,
            handler=partial(handler, channels=channels),
        )
        for durable, producer, subject, payload_type, handler in triggers
    ]


def subscriptions(_wiring: Wiring, channels: Channels | None = None) -> list[Subscription]:
    return [
        Subscription(
            durable="notify-stay-admitted",
            producer="shelter",
            subject="kamqor.shelter.stay.admitted",
            payload_type=StayAdmitted,
            handler=partial(on_stay_admitted, channels=channels or Channels()),
            # The shelter re-sends an admission until notify confirms its notices (SHL-3).
            on_duplicate=on_stay_admitted_again,
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
        *rule_subscriptions(channels or Channels()),
    ]
