"""Sending a measure to its agency: at approval, and again whenever a measure is added or
re-routed (PLN-5, PLN-6, PLN-7, NTF-3)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import obligations, outbox
from kamqor.calendar.terms import end_of_day, local_date
from kamqor.db import stage
from kamqor.events.v1.plans_pb2 import MeasureSent
from kamqor.ids import new_id
from kamqor.obligations import Obligation, ObligationState
from kamqor.profiles import Deadline
from kamqor.profiles.profile import ProfileVersion
from kamqor.protoconv import ts
from plans import rules
from plans.models import Measure, Plan
from plans.models.routing import MeasureSending
from plans.rules import routing
from plans.service._common import SOURCE, _entity


def send_measure(
    session: AsyncSession,
    *,
    plan: Plan,
    measure: Measure,
    sender: str,
    now: datetime,
    in_force: ProfileVersion,
) -> bool:
    """Send one measure: the center's own are assigned at once; an agency's is sent, its
    agency designates a responsible person and reports by the measure's deadline everywhere.

    The deadline is always the agency's obligation (PLN-7); sending and designating are
    obligations only where the profile sets a term for them (PLN-5, PLN-6: Kazakhstan), and the
    sending is met when notify delivers the measure's notice, not here (`record_delivery`).
    Returns whether the measure left the center."""
    measure.state = rules.state_after_approval(measure.agency_id, plan.center_id)
    measure.sent_at = now
    if measure.state == rules.MeasureState.ASSIGNED:
        measure.assigned_at = now
    session.add(measure)
    if not rules.is_sent_to_agency(measure.agency_id, plan.center_id):
        return False
    entity = _entity(measure.id)
    stage(
        session,
        MeasureSending(
            id=new_id(),
            measure_id=measure.id,
            territory=plan.territory,
            agency_id=measure.agency_id,
            sent_at=now,
        ),
    )
    if in_force.has_rule(rules.SEND_RULE):
        obligations.open_obligation(
            session,
            rule=rules.SEND_RULE,
            subject=entity,
            territory=plan.territory,
            arose_at=now,
            responsible_agency=plan.center_id,
            responsible_person=sender,
        )
    if in_force.has_rule(rules.DESIGNATE_RULE):
        obligations.open_obligation(
            session,
            rule=rules.DESIGNATE_RULE,
            subject=entity,
            territory=plan.territory,
            arose_at=now,
            responsible_agency=measure.agency_id,
        )
    open_deadline(session, measure=measure, now=now, in_force=in_force)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.sent",
        entity=entity,
        payload=MeasureSent(
            measure_id=measure.id,
            plan_id=plan.id,
            territory=plan.territory,
            agency_id=measure.agency_id,
            agency_type=measure.agency_type,
            kind=measure.kind,
            deadline=measure.deadline.isoformat(),
            sent_at=ts(now),
        ),
    )
    return True


def deadline_term(in_force: ProfileVersion, *, deadline: date, at: datetime) -> Deadline:
    """The measure's deadline as a term: the end of the deadline day in the territory's zone,
    any kind of day (PLN-7; the author chose the day, no calendar moves it)."""
    return Deadline(
        rule=routing.DEADLINE_RULE,
        profile=in_force.data.name,
        profile_version=in_force.data.version,
        calendar_version=in_force.calendar(at).version,
        due_at=end_of_day(deadline, in_force.zone),
        kind="days",
        amount=(deadline - local_date(at, in_force.zone)).days,
    )


def open_deadline(
    session: AsyncSession, *, measure: Measure, now: datetime, in_force: ProfileVersion
) -> Obligation:
    """The agency reports by the measure's deadline (PLN-7): its obligation from now."""
    return obligations.open_obligation(
        session,
        rule=routing.DEADLINE_RULE,
        subject=_entity(measure.id),
        territory=measure.territory,
        arose_at=now,
        responsible_agency=measure.agency_id,
        responsible_person=measure.assignee,
        deadline=deadline_term(in_force, deadline=measure.deadline, at=now),
    )


async def cancel_open(
    session: AsyncSession, measure: Measure, *, rules_: tuple[str, ...] = ()
) -> int:
    """Cancel the measure's open obligations (of `rules_` only, when given): it was declined,
    cancelled, or its clock starts again. Returns how many were open."""
    cancelled = 0
    for row in await obligations.for_subject(session, _entity(measure.id)):
        if row.state == ObligationState.OPEN and (not rules_ or row.rule in rules_):
            obligations.cancel(session, row)
            cancelled += 1
    return cancelled


async def record_delivery(
    session: AsyncSession, *, measure_id: str, delivered_at: datetime
) -> None:
    """notify delivered the measure's notice (NTF-3): the sending is done (PLN-5). Only the
    open sending obligation is met, so a redelivered event changes nothing."""
    for row in await obligations.for_subject(session, _entity(measure_id), rule=rules.SEND_RULE):
        obligations.meet(session, row, at=delivered_at)
