"""Routing and amending measures: an agency declines a measure with a reason, the center
re-routes it to another competent agency with a new clock (closed-loop referral); at a review
the center adds, changes or cancels measures (PLN-13). Every change is kept with who, when,
why, before and after; declines are counted per agency (MON-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.deadline_report import READERS as INDICATOR_READERS
from kamqor.deadline_report import period
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.events.v1.plans_pb2 import MeasureChanged, MeasureDeclined
from kamqor.ids import new_id, parse_id
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan
from plans.models import agencies as directory
from plans.models.routing import AgencyCounts, MeasureChange, counts_per_agency, current_sending
from plans.rules import lifecycle as life
from plans.rules import routing
from plans.rules.routing import ChangeAction
from plans.service._common import SOURCE, _entity
from plans.service.agencies import check_agencies
from plans.service.measures import _agency_measure, _center_measure
from plans.service.plans import MeasureView, _measure_view
from plans.service.sending import cancel_open, open_deadline, send_measure

# A declined measure waits for the center in a plan that is still in force.
IN_FORCE = (rules.PlanState.APPROVED, rules.PlanState.UNDER_REVIEW)


async def _record(
    session: AsyncSession,
    measure: Measure,
    *,
    action: ChangeAction,
    principal: Principal,
    now: datetime,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
    purpose: str = "PLN-13",
) -> MeasureView:
    """Keep the change with who, when, why, before and after; publish it; audit it; return
    the measure as it now is."""
    session.add(
        MeasureChange(
            id=new_id(),
            measure_id=measure.id,
            action=action,
            changed_by=principal.username,
            changed_at=now,
            reason=reason,
            before=before,
            after=after,
        )
    )
    # A decline has its own event, with the reason (MeasureDeclined).
    if action != ChangeAction.DECLINED:
        outbox.append(
            session,
            source=SOURCE,
            subject=f"kamqor.plans.measure.{action.value}",
            entity=_entity(measure.id),
            payload=MeasureChanged(
                measure_id=measure.id,
                plan_id=measure.plan_id,
                territory=measure.territory,
                agency_id=measure.agency_id,
                action=action.value,
                changed_at=ts(now),
            ),
        )
    audit_action = "create" if action == ChangeAction.ADDED else "update"
    audit.record(
        session,
        principal=principal,
        action=audit_action,
        entity=_entity(measure.id),
        purpose=purpose,
    )
    return await _measure_view(session, measure)


async def decline_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    reason: routing.DeclineReason,
    comment: str,
    now: datetime | None = None,
) -> MeasureView:
    """The agency's coordinator declines a sent or assigned measure with a reason from the list;
    its clocks stop (the open obligations are cancelled) and the center re-routes it."""
    require_role(principal, "agency-coordinator")
    measure = await _agency_measure(session, principal, measure_id)
    comment = routing.check_decline(measure.state, reason=reason, comment=comment)
    now = now or utcnow()
    before = {"state": measure.state, "agency_id": measure.agency_id}
    measure.state = rules.MeasureState.DECLINED
    session.add(measure)
    await cancel_open(session, measure)
    sending = await current_sending(session, measure.id)
    if sending is not None:
        sending.declined_at = now
        sending.decline_reason = reason.value
        session.add(sending)
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.measure.declined",
        entity=_entity(measure.id),
        payload=MeasureDeclined(
            measure_id=measure.id,
            plan_id=measure.plan_id,
            territory=measure.territory,
            agency_id=measure.agency_id,
            reason=reason.value,
            declined_at=ts(now),
        ),
    )
    return await _record(
        session,
        measure,
        action=ChangeAction.DECLINED,
        principal=principal,
        now=now,
        reason=comment,
        before=before,
        after={"state": measure.state, "decline_reason": reason.value},
        purpose="PLN-6",
    )


async def reroute_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    agency_id: str,
    deadline: date,
    now: datetime | None = None,
) -> MeasureView:
    """A case worker of the plan's center sends a declined measure to another agency competent
    for its kind, with a new deadline: a new clock (PLN-5, PLN-6, PLN-7), the way it came kept."""
    require_role(principal, *rules.CENTER_ROLES)
    measure = await _center_measure(session, principal, measure_id)
    plan = await _plan_in_force(session, measure.plan_id)
    agency_id = rules.check_text(agency_id, field="agency_id", limit=rules.MAX_AGENCY)
    routing.check_reroute(measure.state, current_agency=measure.agency_id, new_agency=agency_id)
    now = now or utcnow()
    profile = get_profile(territory_of(plan.territory).profile)
    routing.check_deadline(
        deadline,
        today=local_date(now, profile.zone),
        term_ends_on=local_date(plan.term_ends_at, profile.zone),
        field="deadline",
    )
    found = await directory.in_territory(session, plan.territory, [agency_id])
    agency_type = routing.check_routable(
        found.get(agency_id),
        kind=rules.MeasureKind(measure.kind),
        territory=plan.territory,
        given_type="",
        field="",
    )
    before = {"agency_id": measure.agency_id, "deadline": measure.deadline.isoformat()}
    measure.agency_id, measure.agency_type, measure.deadline = agency_id, agency_type, deadline
    measure.assignee, measure.assigned_at, measure.assigned_by = "", None, ""
    send_measure(
        session,
        plan=plan,
        measure=measure,
        sender=principal.subject,
        now=now,
        in_force=profile.at(now),
    )
    return await _record(
        session,
        measure,
        action=ChangeAction.REROUTED,
        principal=principal,
        now=now,
        reason="",
        before=before,
        after={"agency_id": agency_id, "deadline": deadline.isoformat()},
        purpose="PLN-5",
    )


async def add_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    draft: rules.MeasureIn,
    reason: str,
    idempotency_key: str = "",
    request_digest: str = "",
    now: datetime | None = None,
) -> MeasureView:
    """A review adds a measure to the plan (PLN-13); it is sent to its agency at once. A retry
    with the same key returns the first measure, even once the review is over."""
    require_role(principal, *rules.CENTER_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"add_measure:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        first = await session.get(Measure, earlier)
        assert first is not None  # kept in the same transaction as its key
        return await _measure_view(session, first)
    plan = await models.lock_plan(session, parse_id(plan_id, field="plan_id"))
    if plan is None:
        raise NotFound("plan not found")
    require_territory(principal, plan.territory, entity="plan")
    _own_center(principal, plan.center_id)
    life.check_amendable(plan.state)
    reason = rules.check_text(reason, field="reason", limit=rules.MAX_TEXT)
    now = now or utcnow()
    profile = get_profile(territory_of(plan.territory).profile)
    try:
        (kept,) = rules.check_measures(
            [draft],
            center_id=plan.center_id,
            today=local_date(now, profile.zone),
            term_ends_on=local_date(plan.term_ends_at, profile.zone),
        )
        (kept,) = await check_agencies(
            session, [kept], territory=plan.territory, center_id=plan.center_id
        )
    except Invalid as exc:  # one measure, not a list: `measure.<field>`
        raise Invalid(exc.field.replace("measures[0]", "measure"), exc.reason) from None
    position = (
        await session.exec(
            select(func.coalesce(func.max(Measure.position), -1)).where(Measure.plan_id == plan.id)
        )
    ).one()
    measure = Measure(
        id=new_id(),
        plan_id=plan.id,
        position=position + 1,
        territory=plan.territory,
        center_id=plan.center_id,
        agency_id=kept.agency_id,
        agency_type=kept.agency_type,
        kind=kept.kind,
        title=kept.title,
        target=kept.target,
        deadline=kept.deadline,
    )
    session.add(measure)
    await session.flush()  # the measure exists before its obligations and history refer to it
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=measure.id)
    send_measure(
        session,
        plan=plan,
        measure=measure,
        sender=principal.subject,
        now=now,
        in_force=profile.at(now),
    )
    return await _record(
        session,
        measure,
        action=ChangeAction.ADDED,
        principal=principal,
        now=now,
        reason=reason,
        before={},
        after=_amendable(measure),
    )


async def amend_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    deadline: date | None,
    title: str | None,
    target: str | None,
    reason: str,
    now: datetime | None = None,
) -> MeasureView:
    """A review changes a measure's deadline, title or target, with a reason (PLN-13); a new
    deadline replaces the open PLN-7 obligation by one due on the new day."""
    require_role(principal, *rules.CENTER_ROLES)
    measure = await _center_measure(session, principal, measure_id)
    plan = await _amendable_plan(session, measure)
    routing.check_changeable(measure.state)
    reason = rules.check_text(reason, field="reason", limit=rules.MAX_TEXT)
    now = now or utcnow()
    profile = get_profile(territory_of(plan.territory).profile)
    after: dict[str, str] = {}
    if deadline is not None:
        routing.check_deadline(
            deadline,
            today=local_date(now, profile.zone),
            term_ends_on=local_date(plan.term_ends_at, profile.zone),
            field="deadline",
        )
        after["deadline"] = deadline.isoformat()
    if title is not None:
        after["title"] = rules.check_text(title, field="title", limit=rules.MAX_TITLE)
    if target is not None:
        after["target"] = rules.check_text(
            target, field="target", limit=rules.MAX_TARGET, required=False
        )
    before = _amendable(measure)
    changed = routing.changed_fields(before, after)
    if "deadline" in changed and deadline is not None:
        measure.deadline = deadline
        if await cancel_open(session, measure, rules_=(routing.DEADLINE_RULE,)):
            open_deadline(session, measure=measure, now=now, in_force=profile.at(now))
    measure.title = after.get("title", measure.title)
    measure.target = after.get("target", measure.target)
    session.add(measure)
    return await _record(
        session,
        measure,
        action=ChangeAction.AMENDED,
        principal=principal,
        now=now,
        reason=reason,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )


async def cancel_measure(
    session: AsyncSession,
    *,
    principal: Principal,
    measure_id: str,
    reason: str,
    now: datetime | None = None,
) -> MeasureView:
    """A review cancels a measure with a reason (PLN-13); its open obligations end with it."""
    require_role(principal, *rules.CENTER_ROLES)
    measure = await _center_measure(session, principal, measure_id)
    await _amendable_plan(session, measure)
    routing.check_changeable(measure.state)
    reason = rules.check_text(reason, field="reason", limit=rules.MAX_TEXT)
    now = now or utcnow()
    before = {"state": measure.state}
    measure.state = rules.MeasureState.CANCELLED
    session.add(measure)
    await cancel_open(session, measure)
    return await _record(
        session,
        measure,
        action=ChangeAction.CANCELLED,
        principal=principal,
        now=now,
        reason=reason,
        before=before,
        after={"state": measure.state},
    )


@dataclass(frozen=True)
class AgencyIndicators:
    agency_id: str
    agency_name: str
    counts: AgencyCounts


async def measure_indicators(
    session: AsyncSession, *, principal: Principal, from_date: date, to_date: date
) -> list[AgencyIndicators]:
    """Per agency of the caller's territory, the measures sent in `[from, to)` (local
    midnights) and what became of them: reported on time or late, completed, declined,
    returned (MON-3). Aggregates only: no person, plan or measure is named."""
    require_role(principal, *INDICATOR_READERS)
    zone = get_profile(territory_of(principal.territory).profile).zone
    start, end = period(from_date, to_date, zone=zone)
    counts = await counts_per_agency(session, territory=principal.territory, start=start, end=end)
    names = await directory.by_ids(session, counts)
    return [
        AgencyIndicators(agency_id, names[agency_id].name if agency_id in names else "", c)
        for agency_id, c in counts.items()
    ]


def _amendable(measure: Measure) -> dict[str, str]:
    return {
        "deadline": measure.deadline.isoformat(),
        "title": measure.title,
        "target": measure.target,
    }


def _own_center(principal: Principal, center_id: str) -> None:
    if principal.agency != center_id:
        raise Forbidden("only the plan's own center changes its measures")


async def _plan_in_force(session: AsyncSession, plan_id: str) -> Plan:
    plan = await models.lock_plan(session, plan_id)
    assert plan is not None  # a measure's plan is never deleted
    if plan.state not in IN_FORCE:
        raise Conflict(
            f"the plan is {plan.state}: its measures stay as they are", code="plan-state"
        )
    return plan


async def _amendable_plan(session: AsyncSession, measure: Measure) -> Plan:
    plan = await models.lock_plan(session, measure.plan_id)
    assert plan is not None
    life.check_amendable(plan.state)
    return plan
