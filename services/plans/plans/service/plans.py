"""Plans: drafting one, reading it, approving it, and the views the use cases return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.events.v1.plans_pb2 import PlanApproved, PlanCreated
from kamqor.ids import new_id, parse_id
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from kamqor.protoconv import ts
from kamqor.replanning import Replanned
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Measure, Plan
from plans.models.lifecycle import (
    KnownCase,
    LevelChange,
    Participant,
    PlanAct,
    Review,
    acts_of,
    level_changes_of,
    participants_of,
    reviews_of,
)
from plans.models.routing import MeasureDetails, details_of
from plans.rules import lifecycle as life
from plans.service._common import SOURCE, _entity
from plans.service.agencies import check_agencies
from plans.service.sending import send_measure
from plans.service.terms import open_terms_on_approval


@dataclass(frozen=True)
class MeasureView:
    measure: Measure
    case_id: str
    obligations: list[Obligation]
    # The agency as the directory has it, and the measure's routing and amendments.
    details: MeasureDetails | None = None


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    measures: list[MeasureView]
    participants: list[Participant] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    level_changes: list[LevelChange] = field(default_factory=list)
    history: list[PlanAct] = field(default_factory=list)
    obligations: list[Obligation] = field(default_factory=list)


async def create_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    case_id: str,
    situation: rules.Situation,
    support_level: rules.SupportLevel | None,
    measures: Sequence[rules.MeasureIn],
    idempotency_key: str,
    participants: Sequence[life.Participant] = (),
    applied_on: date | None = None,
    request_digest: str = "",
    now: datetime | None = None,
    revises_plan_id: str = "",
) -> PlanView:
    """Draft one family's plan in the caller's center and territory (PLN-1) with its measures,
    each with an agency, a kind and a deadline within the profile's plan term (PLN-2), and the
    people who drafted it with the family (PLN-3). Where the profile sets them (Yugra), the
    draft goes to the working group within 1 working day and the plan is approved within 10
    working days of the person's application (PLN-4/draft, PLN-4/approve)."""
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
    today = local_date(now, profile.zone)
    kept = rules.check_measures(
        measures,
        center_id=principal.agency,
        today=today,
        term_ends_on=local_date(term_ends_at, profile.zone),
    )
    kept = await check_agencies(
        session, kept, territory=principal.territory, center_id=principal.agency
    )
    people = life.check_participants(participants)
    in_force = profile.at(now)
    if in_force.has_rule(life.APPROVE_RULE):
        if applied_on is None:
            raise Invalid(
                "applied_on",
                "is required here: approval is due 10 working days after the application (PLN-4)",
            )
        if applied_on > today:
            raise Invalid("applied_on", "is in the future")
    family_id = ""
    if case_id:
        known = await session.get(KnownCase, case_id)
        if known is not None:
            require_territory(principal, known.territory, entity="case")
            family_id = known.family_id
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
        family_id=family_id,
        applied_on=applied_on if in_force.has_rule(life.APPROVE_RULE) else None,
        revises_plan_id=revises_plan_id,
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
    kept_people = [
        Participant(
            id=new_id(),
            plan_id=plan.id,
            position=i,
            role=p.role,
            name=p.name,
            organisation=p.organisation,
        )
        for i, p in enumerate(people)
    ]
    session.add_all(kept_people)
    entity = f"plan/{plan.id}"
    if in_force.has_rule(life.DRAFT_RULE):
        obligations.open_obligation(
            session,
            rule=life.DRAFT_RULE,
            subject=entity,
            territory=plan.territory,
            arose_at=now,
            responsible_agency=plan.center_id,
            responsible_person=principal.subject,
        )
    if plan.applied_on is not None:
        obligations.open_obligation(
            session,
            rule=life.APPROVE_RULE,
            subject=entity,
            territory=plan.territory,
            arose_at=datetime.combine(plan.applied_on, time(), tzinfo=profile.zone),
            responsible_agency=plan.center_id,
        )
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
    await session.flush()
    return await _plan_view(session, plan)


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
    term_months: int = 0,
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
    life.check_four_eyes(
        principal.subject, others=[plan.created_by, plan.submitted_by], act="approving a plan"
    )
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
    before = plan.state
    plan.state = life.transition(plan.state, life.Act.APPROVE)
    session.add(
        PlanAct(
            id=new_id(),
            plan_id=plan.id,
            act=life.Act.APPROVE,
            from_state=before,
            to_state=plan.state,
            at=now,
            by=principal.subject,
            agency=principal.agency,
            reason=decision,
        )
    )
    for row in await obligations.for_subject(session, f"plan/{plan.id}", rule=life.APPROVE_RULE):
        obligations.meet(session, row, at=now)
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
        deadline=rules.approved_term(profile, at=now, support_level=level, term_months=term_months),
    )
    plan.term_ends_at = term.due_at
    last_day = local_date(term.due_at, profile.zone)
    for i, m in enumerate(measures):
        if m.deadline > last_day:
            raise Invalid(
                "term_months",
                f"measures[{i}] is due {m.deadline.isoformat()}, after the term's end "
                f"{last_day.isoformat()} (PLN-1)",
            )
    session.add(plan)
    open_terms_on_approval(session, plan=plan, profile=profile, now=now)
    agencies: list[str] = []
    in_force = profile.at(now)
    for m in measures:
        sent = send_measure(
            session, plan=plan, measure=m, sender=principal.subject, now=now, in_force=in_force
        )
        if sent and m.agency_id not in agencies:
            agencies.append(m.agency_id)
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
            family_id=plan.family_id,
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
        details=(await details_of(session, [measure]))[measure.id],
    )


async def _plan_view(session: AsyncSession, plan: Plan) -> PlanView:
    measures = await models.measures_of(session, plan.id)
    own = f"plan/{plan.id}"
    found = await obligations.for_subjects(session, [own] + [_entity(m.id) for m in measures])
    details = await details_of(session, measures)
    return PlanView(
        plan=plan,
        measures=[
            MeasureView(m, plan.case_id, found.get(_entity(m.id), []), details.get(m.id))
            for m in measures
        ],
        participants=await participants_of(session, plan.id),
        reviews=await reviews_of(session, plan.id),
        level_changes=await level_changes_of(session, plan.id),
        history=await acts_of(session, plan.id),
        obligations=found.get(own, []),
    )
