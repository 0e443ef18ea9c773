"""Plan use cases: authorise, validate, apply rules, persist, stage events. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, outbox
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
    MeasureSent,
    PlanApproved,
    PlanCreated,
)
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from kamqor.protoconv import page_size as check_page_size
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan

SOURCE = "kamqor.plans"


@dataclass(frozen=True)
class MeasureView:
    measure: Measure
    case_id: str
    obligations: list[Obligation]


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    measures: list[MeasureView]


def _entity(measure_id: str) -> str:
    return f"measure/{measure_id}"


async def create_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    situation: rules.Situation,
    support_level: rules.SupportLevel | None,
    measures: Sequence[rules.MeasureIn],
    idempotency_key: str,
    now: datetime | None = None,
) -> PlanView:
    """Draft one family's plan in the caller's center and territory (PLN-1) with its measures,
    each with an agency, a kind and a deadline within the profile's plan term (PLN-2)."""
    require_role(principal, *rules.CENTER_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"create_plan:{principal.agency}"
    if (earlier := await idempotency.recall(session, scope=scope, key=key)) is not None:
        return await get_plan(session, principal=principal, plan_id=earlier, audit_read=False)
    case_id = parse_id(case_id, field="case_id") if case_id else ""
    now = now or utcnow()
    profile = get_profile(territory_of(principal.territory).profile)
    rules.approver_for(situation, profile.approvals)
    term_ends_at = rules.plan_term_end(profile, at=now, support_level=support_level)
    kept = rules.check_measures(
        measures,
        center_id=principal.agency,
        today=local_date(now, profile.zone),
        term_ends_on=local_date(term_ends_at, profile.zone),
    )
    plan = Plan(
        id=new_id(),
        center_id=principal.agency,
        territory=principal.territory,
        case_id=case_id,
        situation=situation,
        support_level=support_level or "",
        created_by=principal.subject,
        created_at=now,
        term_ends_at=term_ends_at,
    )
    session.add(plan)
    await session.flush()  # the plan exists before its measures refer to it
    rows = [
        Measure(
            id=new_id(),
            plan_id=plan.id,
            position=i,
            territory=plan.territory,
            center_id=plan.center_id,
            agency_id=m.agency_id,
            agency_type=m.agency_type,
            kind=m.kind,
            title=m.title,
            target=m.target,
            deadline=m.deadline,
        )
        for i, m in enumerate(kept)
    ]
    session.add_all(rows)
    entity = f"plan/{plan.id}"
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.plan.created",
        entity=entity,
        payload=PlanCreated(
            plan_id=plan.id,
            center_id=plan.center_id,
            territory=plan.territory,
            situation=plan.situation,
            measures=len(rows),
            created_at=ts(now),
        ),
    )
    audit.record(session, principal=principal, action="create", entity=entity, purpose="PLN-1")
    idempotency.remember(session, scope=scope, key=key, result_id=plan.id)
    return PlanView(plan=plan, measures=[MeasureView(m, case_id, []) for m in rows])


async def get_plan(
    session: AsyncSession, *, principal: Principal, plan_id: str, audit_read: bool = True
) -> PlanView:
    """One plan of the caller's territory with all its measures; the read is audited (REG-9).

    Agencies never see whole plans, only their own measures (PLN-15, `list_my_measures`).
    """
    require_role(principal, *rules.PLAN_READERS)
    plan = await session.get(Plan, parse_id(plan_id, field="plan_id"))
    if plan is None:
        raise NotFound("plan not found")
    require_territory(principal, plan.territory, entity="plan")
    if audit_read:
        audit.record(
            session, principal=principal, action="read", entity=f"plan/{plan.id}", purpose="view"
        )
    return await _plan_view(session, plan)


async def approve_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    decision: str,
    now: datetime | None = None,
) -> PlanView:
    """Approve a draft by the body the profile names for its situation (PLN-4), start the term
    (PLN-1) and send each measure to its agency at once (PLN-5 met on sending), which then has
    2 working days to designate a responsible person (PLN-6, NTF-3)."""
    require_role(principal, *rules.ANY_APPROVER_ROLE)
    plan = await models.lock_plan(session, parse_id(plan_id, field="plan_id"))
    if plan is None:
        raise NotFound("plan not found")
    profile = get_profile(territory_of(plan.territory).profile)
    approver = rules.approver_for(rules.Situation(plan.situation), profile.approvals)
    require_role(principal, *rules.approver_roles(approver))
    require_territory(principal, plan.territory, entity="plan")
    if approver in rules.CENTER_APPROVERS and principal.agency != plan.center_id:
        raise Forbidden(f"the {approver} of the plan's own center approves it (PLN-4)")
    decision = rules.check_text(decision, field="decision", limit=rules.MAX_DECISION)
    measures = await models.measures_of(session, plan.id)
    rules.check_approvable(plan.state, len(measures))
    now = now or utcnow()
    today = local_date(now, profile.zone)
    for i, m in enumerate(measures):
        if m.deadline < today:
            raise Conflict(
                f"measures[{i}]: its deadline {m.deadline.isoformat()} has passed; "
                "draft the plan again (PLN-2)",
                code="deadline-passed",
            )
    level = rules.SupportLevel(plan.support_level) if plan.support_level else None
    plan.state = rules.PlanState.APPROVED
    plan.approved_at = now
    plan.approved_by = principal.subject
    plan.approval_decision = decision
    plan.term_ends_at = rules.plan_term_end(profile, at=now, support_level=level)
    session.add(plan)
    agencies: list[str] = []
    for m in measures:
        m.state = rules.state_after_approval(m.agency_id, plan.center_id)
        m.sent_at = now
        if m.state == rules.MeasureState.ASSIGNED:
            m.assigned_at = now
        session.add(m)
        if not rules.is_sent_to_agency(m.agency_id, plan.center_id):
            continue
        if m.agency_id not in agencies:
            agencies.append(m.agency_id)
        sending = obligations.open_obligation(
            session,
            rule=rules.SEND_RULE,
            subject=_entity(m.id),
            territory=plan.territory,
            arose_at=now,
            responsible_agency=plan.center_id,
            responsible_person=principal.subject,
        )
        obligations.meet(session, sending, at=now)
        obligations.open_obligation(
            session,
            rule=rules.DESIGNATE_RULE,
            subject=_entity(m.id),
            territory=plan.territory,
            arose_at=now,
            responsible_agency=m.agency_id,
        )
        outbox.append(
            session,
            source=SOURCE,
            subject="kamqor.plans.measure.sent",
            entity=_entity(m.id),
            payload=MeasureSent(
                measure_id=m.id,
                plan_id=plan.id,
                territory=plan.territory,
                agency_id=m.agency_id,
                agency_type=m.agency_type,
                kind=m.kind,
                deadline=m.deadline.isoformat(),
                sent_at=ts(now),
            ),
        )
    entity = f"plan/{plan.id}"
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.plan.approved",
        entity=entity,
        payload=PlanApproved(
            plan_id=plan.id,
            center_id=plan.center_id,
            territory=plan.territory,
            situation=plan.situation,
            approved_at=ts(now),
            term_ends_at=ts(plan.term_ends_at),
            measures=len(measures),
            agency_ids=agencies,
        ),
    )
    audit.record(session, principal=principal, action="update", entity=entity, purpose="PLN-4")
    return await _plan_view(session, plan)


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
    now = now or utcnow()
    entity = _entity(measure.id)
    on_time = True
    if first:
        for row in await obligations.for_subject(session, entity, rule=rules.DESIGNATE_RULE):
            obligations.meet(session, row, at=now)
            on_time = bool(row.on_time)
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


async def list_my_measures(
    session: AsyncSession,
    *,
    principal: Principal,
    state: rules.MeasureState | None,
    page_size: int,
    page_token: str,
) -> tuple[list[MeasureView], str]:
    """The measures sent to the caller's agency, and nothing else of the plans (PLN-15).

    Returns one page and the token of the next ('' at the end); every measure read is audited.
    """
    require_role(principal, *rules.AGENCY_ROLES)
    limit = check_page_size(page_size)
    after = parse_id(page_token, field="page_token") if page_token else ""
    rows = await models.agency_measures(
        session,
        agency_id=principal.agency,
        territory=principal.territory,
        state=state,
        after=after,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    found = await obligations.for_subjects(session, [_entity(m.id) for m in rows])
    cases = await models.case_ids(session, list({m.plan_id for m in rows}))
    views = [MeasureView(m, cases.get(m.plan_id, ""), found[_entity(m.id)]) for m in rows]
    for m in rows:
        audit.record(
            session, principal=principal, action="read", entity=_entity(m.id), purpose="PLN-15"
        )
    return views, (rows[-1].id if more else "")


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


async def _measure_view(session: AsyncSession, measure: Measure) -> MeasureView:
    plan = await session.get(Plan, measure.plan_id)
    return MeasureView(
        measure=measure,
        case_id=plan.case_id if plan else "",
        obligations=await obligations.for_subject(session, _entity(measure.id)),
    )


async def _plan_view(session: AsyncSession, plan: Plan) -> PlanView:
    measures = await models.measures_of(session, plan.id)
    found = await obligations.for_subjects(session, [_entity(m.id) for m in measures])
    return PlanView(
        plan=plan,
        measures=[MeasureView(m, plan.case_id, found.get(_entity(m.id), [])) for m in measures],
    )
