"""Measures of an approved plan: the agency designates, lists and reports its own, the center
completes or returns them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, obligations, outbox, paging
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden, NotFound
from kamqor.events.v1.plans_pb2 import (
    MeasureAssigned,
    MeasureCompleted,
    MeasureReported,
    MeasureReturned,
)
from kamqor.ids import parse_id
from kamqor.obligations import ObligationState
from kamqor.profiles import get_profile
from kamqor.protoconv import page_size as check_page_size
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan
from plans.models.agencies import Agency
from plans.models.routing import details_of
from plans.rules import routing
from plans.service._common import SOURCE, _entity
from plans.service.plans import MeasureView, _measure_view
from plans.service.sending import cancel_open, open_deadline


async def designate_assignee(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    assignee: str,
    now: datetime | None = None,
) -> MeasureView:
    """The measure's agency names its responsible person (PLN-6); the first designation meets
    the PLN-6 term, a later one replaces the person. Only that agency's coordinator may."""
    require_role(principal, "agency-coordinator")
    measure = await _agency_measure(session, principal, measure_id)
    assignee = rules.check_text(assignee, field="assignee", limit=rules.MAX_USERNAME)
    first = rules.check_designation(measure.state)
    routing.check_member(await session.get(Agency, measure.agency_id), assignee)
    now = now or utcnow()
    entity = _entity(measure.id)
    on_time = True
    for row in await obligations.for_subject(session, entity):
        if first and row.rule == rules.DESIGNATE_RULE:
            obligations.meet(session, row, at=now)
            on_time = bool(row.on_time)
        elif row.rule == routing.DEADLINE_RULE and row.state == ObligationState.OPEN:
            row.responsible_person = assignee  # who reports by the deadline (PLN-7)
            session.add(row)
    if first:
        measure.state = rules.MeasureState.ASSIGNED
    measure.assignee = assignee
    measure.assigned_at = now
    measure.assigned_by = principal.subject
    session.add(measure)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.assigned",
        entity=entity,
        payload=MeasureAssigned(
            measure_id=measure.id,
            plan_id=measure.plan_id,
            territory=measure.territory,
            agency_id=measure.agency_id,
            assigned_at=ts(now),
            on_time=on_time,
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="PLN-6")
    return await _measure_view(session, measure)


class MeasureOrder(StrEnum):
    DRAFTED = "drafted"
    DEADLINE = "deadline"
    LATEST_SENT = "latest_sent"


# order -> (column, descending, the cursor key's type)
_MEASURE_ORDERS: dict[MeasureOrder, tuple[str, bool, type[paging.Key]]] = {
    MeasureOrder.DRAFTED: ("id", False, str),
    MeasureOrder.DEADLINE: ("deadline", False, date),
    MeasureOrder.LATEST_SENT: ("sent_at", True, datetime),
}


async def list_my_measures(
    session: AsyncSession,
    *,
    principal: Principal,
    state: rules.MeasureState | None,
    page_size: int,
    page_token: str,
    order: MeasureOrder = MeasureOrder.DRAFTED,
) -> tuple[list[MeasureView], str]:
    """The measures sent to the caller's agency, and nothing else of the plans (PLN-15), in
    `order` (as drafted by default).

    Returns one page and the token of the next ('' at the end); every measure read is audited.
    """
    require_role(principal, *rules.AGENCY_ROLES)
    limit = check_page_size(page_size)
    column, descending, key_type = _MEASURE_ORDERS[order]
    rows = await models.agency_measures(
        session,
        agency_id=principal.agency,
        territory=principal.territory,
        state=state,
        cursor=paging.decode(page_token, order=order, key_type=key_type),
        limit=limit + 1,
        order=column,
        descending=descending,
    )
    token = paging.next_token(rows, limit, order, lambda m: getattr(m, column))
    rows = rows[:limit]
    found = await obligations.for_subjects(session, [_entity(m.id) for m in rows])
    cases = await models.case_ids(session, list({m.plan_id for m in rows}))
    details = await details_of(session, rows)
    views = [
        MeasureView(m, cases.get(m.plan_id, ""), found[_entity(m.id)], details[m.id]) for m in rows
    ]
    audit.record_many(  # one row naming every listed measure (REG-9)
        session,
        principal=principal,
        action="read",
        entities=[_entity(m.id) for m in rows],
        purpose="PLN-15",
    )
    return views, token


async def report_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    report: str,
    now: datetime | None = None,
) -> MeasureView:
    """The designated responsible person reports execution to the center; whether it came by
    the measure's deadline is recorded (PLN-7, MON-3)."""
    require_role(principal, "agency-assignee")
    measure = await _agency_measure(session, principal, measure_id)
    rules.check_report(measure.state, assignee=measure.assignee, reporter=principal.username)
    report = rules.check_text(report, field="report", limit=rules.MAX_TEXT)
    now = now or utcnow()
    profile = get_profile(territory_of(measure.territory).profile)
    measure.state = rules.MeasureState.REPORTED
    measure.report = report
    measure.reported_at = now
    measure.reported_on_time = rules.on_time(now, measure.deadline, profile.zone)
    session.add(measure)
    entity = _entity(measure.id)
    for row in await obligations.for_subject(session, entity, rule=routing.DEADLINE_RULE):
        obligations.meet(session, row, at=now)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.reported",
        entity=entity,
        payload=MeasureReported(
            measure_id=measure.id,
            plan_id=measure.plan_id,
            territory=measure.territory,
            agency_id=measure.agency_id,
            reported_at=ts(now),
            on_time=measure.reported_on_time,
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="PLN-7")
    return await _measure_view(session, measure)


async def complete_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    completed_on: date,
    now: datetime | None = None,
) -> MeasureView:
    """The center marks a fully done measure completed, with the completion date (PLN-9)."""
    require_role(principal, *rules.CENTER_ROLES)
    measure = await _center_measure(session, principal, measure_id)
    now = now or utcnow()
    profile = get_profile(territory_of(measure.territory).profile)
    started = measure.sent_at or now
    rules.check_completion(
        measure.state,
        sent_to_agency=rules.is_sent_to_agency(measure.agency_id, measure.center_id),
        completed_on=completed_on,
        today=local_date(now, profile.zone),
        started_on=local_date(started, profile.zone),
    )
    measure.state = rules.MeasureState.COMPLETED
    measure.completed_on = completed_on
    measure.completed_by = principal.subject
    session.add(measure)
    await session.flush()
    entity = _entity(measure.id)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.completed",
        entity=entity,
        payload=MeasureCompleted(
            measure_id=measure.id,
            plan_id=measure.plan_id,
            territory=measure.territory,
            agency_id=measure.agency_id,
            completed_on=completed_on.isoformat(),
            measures_open=await models.open_measures(session, measure.plan_id),
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="PLN-9")
    return await _measure_view(session, measure)


async def return_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    mode: rules.ReturnMode,
    reason: str,
    new_deadline: date,
    now: datetime | None = None,
) -> MeasureView:
    """A measure not done, or done badly, goes back for rework or repeat execution with a
    reason and a new deadline within the plan term (PLN-8)."""
    require_role(principal, *rules.CENTER_ROLES)
    measure = await _center_measure(session, principal, measure_id)
    plan = await session.get(Plan, measure.plan_id)
    assert plan is not None
    now = now or utcnow()
    profile = get_profile(territory_of(measure.territory).profile)
    measure.return_reason = rules.check_return(
        measure.state,
        reason=reason,
        new_deadline=new_deadline,
        today=local_date(now, profile.zone),
        term_ends_on=local_date(plan.term_ends_at, profile.zone),
    )
    measure.state = rules.MeasureState.RETURNED
    measure.return_mode = mode
    measure.returned_at = now
    measure.returns += 1
    measure.deadline = new_deadline
    session.add(measure)
    entity = _entity(measure.id)
    # The new deadline is a new obligation (PLN-8); the old one, if still open, is replaced.
    await cancel_open(session, measure, rules_=(routing.DEADLINE_RULE,))
    open_deadline(session, measure=measure, now=now, in_force=profile.at(now))
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.returned",
        entity=entity,
        payload=MeasureReturned(
            measure_id=measure.id,
            plan_id=measure.plan_id,
            territory=measure.territory,
            agency_id=measure.agency_id,
            mode=mode,
            new_deadline=new_deadline.isoformat(),
            returns=measure.returns,
            returned_at=ts(now),
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="PLN-8")
    return await _measure_view(session, measure)


async def _agency_measure(session: AsyncSession, principal: Principal, measure_id: str) -> Measure:
    """A sent measure of the caller's agency; any other is reported absent (PLN-15)."""
    measure = await models.lock_measure(session, parse_id(measure_id, field="measure_id"))
    if (
        measure is None
        or measure.state == rules.MeasureState.DRAFT
        or measure.agency_id != principal.agency
        or measure.territory != principal.territory
    ):
        raise NotFound("measure not found")
    return measure


async def _center_measure(session: AsyncSession, principal: Principal, measure_id: str) -> Measure:
    """A measure of an approved plan of the caller's center (PLN-8, PLN-9)."""
    measure = await models.lock_measure(session, parse_id(measure_id, field="measure_id"))
    if measure is None:
        raise NotFound("measure not found")
    require_territory(principal, measure.territory, entity="measure")
    if measure.center_id != principal.agency:
        raise Forbidden("only the plan's own center follows up its measures")
    if measure.state == rules.MeasureState.DRAFT:
        raise Conflict("the plan is not approved yet (PLN-4)", code="plan-draft")
    return measure
