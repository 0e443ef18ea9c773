"""Plans: drafting one, reading it, approving it, and the views the use cases return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden, NotFound
from kamqor.events.v1.plans_pb2 import MeasureSent, PlanApproved, PlanCreated
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.replanning import Replanned
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan
from plans.service._common import SOURCE, _entity


@dataclass(frozen=True)
class MeasureView:
    measure: Measure
    case_id: str
    obligations: list[Obligation]


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    measures: list[MeasureView]


async def create_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    situation: rules.Situation,
    support_level: rules.SupportLevel | None,
    measures: Sequence[rules.MeasureIn],
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> PlanView:
    """Draft one family's plan in the caller's center and territory (PLN-1) with its measures,
    each with an agency, a kind and a deadline within the profile's plan term (PLN-2)."""
    require_role(principal, *rules.CENTER_ROLES)
    key = idempotency.check_key(idempotency_key)
    scope = f"create_plan:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
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
    idempotency.remember(session, scope=scope, key=key, digest=request_digest, result_id=plan.id)
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
    (PLN-1) and send each measure to its agency at once (PLN-5 met on sending), which then
    designates a responsible person (PLN-6, NTF-3): within 2 working days where the profile sets
    those terms (Kazakhstan); elsewhere the same steps happen with no term and no obligation."""
    require_role(principal, *rules.ANY_APPROVER_ROLE)
    plan = await models.lock_plan(session, parse_id(plan_id, field="plan_id"))
    if plan is None:
        raise NotFound("plan not found")
    # Scope first: which roles may approve depends on the plan (its situation), so checking them
    # before the territory told another territory that the plan exists, and what it is.
    require_territory(principal, plan.territory, entity="plan")
    profile = get_profile(territory_of(plan.territory).profile)
    approver = rules.approver_for(rules.Situation(plan.situation), profile.approvals)
    require_role(principal, *rules.approver_roles(approver))
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
    term = obligations.open_obligation(
        session,
        rule=rules.TERM_RULE,
        subject=f"plan/{plan.id}",
        territory=plan.territory,
        arose_at=now,
        responsible_agency=plan.center_id,
        responsible_person=plan.created_by,
        deadline=rules.plan_term(profile, at=now, support_level=level),
    )
    plan.term_ends_at = term.due_at
    session.add(plan)
    agencies: list[str] = []
    in_force = profile.at(now)
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
        # The measure is sent and its agency designates a responsible person everywhere; only
        # where the profile sets a term for a step (PLN-5, PLN-6: Kazakhstan) is it an obligation.
        if in_force.has_rule(rules.SEND_RULE):
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
        if in_force.has_rule(rules.DESIGNATE_RULE):
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


async def follow_replanned_terms(session: AsyncSession, replanned: Sequence[Replanned]) -> None:
    """A plan's term end moved by new calendar data (PLN-1 computed on a provisional year):
    the plan shows the obligation's new due time."""
    for item in replanned:
        row = item.obligation
        if row.rule != rules.TERM_RULE or not row.subject.startswith("plan/"):
            continue
        plan = await session.get(Plan, row.subject.removeprefix("plan/"))
        if plan is not None:
            plan.term_ends_at = row.due_at
            session.add(plan)


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
