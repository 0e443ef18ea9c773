"""A plan's life after drafting: submission, reviews, level changes, extension, closure, the
monitoring after it and reopening (PLN-1, PLN-4, PLN-10 … PLN-14). Each act is checked by the
state machine of `plans.rules.lifecycle`, recorded with who and why, and published."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from kamqor import audit, idempotency, obligations, outbox
from kamqor.access import require_role, require_territory
from kamqor.auth import Principal
from kamqor.calendar.terms import local_date
from kamqor.clock import utcnow
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.events.v1.plans_pb2 import PlanClosed, PlanStateChanged
from kamqor.ids import new_id, parse_id
from kamqor.profiles import Profile, get_profile
from kamqor.protoconv import ts
from kamqor.territories import territory as territory_of
from plans import models, rules
from plans.models import Plan
from plans.models.lifecycle import LevelChange, PlanAct, Review, open_review, participants_of
from plans.rules import lifecycle as life
from plans.rules.lifecycle import Act
from plans.service._common import SOURCE, _entity
from plans.service.plans import PlanView, _plan_view, create_plan, get_plan
from plans.service.terms import open_final_review

# The subject's verb per act (kamqor.plans.plan.<verb>); approval and closure have their own
# payloads (PlanApproved, PlanClosed) for their consumers.
VERBS = {
    Act.SUBMIT: "submitted",
    Act.OPEN_REVIEW: "review_opened",
    Act.CONCLUDE_REVIEW: "review_concluded",
    Act.EXTEND: "extended",
    Act.CHANGE_LEVEL: "level_changed",
    Act.END_MONITORING: "monitoring_ended",
    Act.REOPEN: "reopened",
}


def record_act(
    session: AsyncSession,
    *,
    plan: Plan,
    act: Act,
    principal: Principal,
    now: datetime,
    reason: str = "",
) -> None:
    """Move the plan to the state after `act`, keep the act in its history and stage its event."""
    before = plan.state
    plan.state = life.transition(plan.state, act)
    session.add(plan)
    session.add(
        PlanAct(
            id=new_id(),
            plan_id=plan.id,
            act=act,
            from_state=before,
            to_state=plan.state,
            at=now,
            by=principal.subject,
            agency=principal.agency,
            reason=reason,
        )
    )
    verb = VERBS.get(act)
    if verb is not None:
        outbox.append(
            session,
            source=SOURCE,
            subject=f"kamqor.plans.plan.{verb}",
            entity=f"plan/{plan.id}",
            payload=PlanStateChanged(
                plan_id=plan.id,
                center_id=plan.center_id,
                territory=plan.territory,
                act=act,
                from_state=before,
                to_state=plan.state,
                at=ts(now),
                revised_by_plan_id=plan.revised_by_plan_id,
            ),
        )
    audit.record(
        session, principal=principal, action="update", entity=f"plan/{plan.id}", purpose=act
    )


async def center_plan(
    session: AsyncSession, principal: Principal, plan_id: str, *roles: str
) -> tuple[Plan, Profile]:
    """The plan, locked, when the caller holds one of `roles` in the plan's own center."""
    require_role(principal, *roles)
    plan = await models.lock_plan(session, parse_id(plan_id, field="plan_id"))
    if plan is None:
        raise NotFound("plan not found")
    require_territory(principal, plan.territory, entity="plan")
    if principal.agency != plan.center_id and not principal.has_any("commission-member"):
        raise NotFound("plan not found")
    return plan, get_profile(territory_of(plan.territory).profile)


async def _meet_open(session: AsyncSession, subject: str, rule: str, at: datetime) -> None:
    for row in await obligations.for_subject(session, subject, rule=rule):
        obligations.meet(session, row, at=at)


async def _cancel_open(session: AsyncSession, subjects: Sequence[str], rule: str = "") -> None:
    found = await obligations.for_subjects(session, list(subjects))
    for rows in found.values():
        for row in rows:
            if not rule or row.rule == rule:
                obligations.cancel(session, row)


async def submit_plan(
    session: AsyncSession, *, principal: Principal, plan_id: str, now: datetime | None = None
) -> PlanView:
    """The case worker submits the draft to its approving body (PLN-4); in Yugra this meets the
    1-working-day term of the draft (PLN-4/draft)."""
    plan, _profile = await center_plan(session, principal, plan_id, *rules.CENTER_ROLES)
    now = now or utcnow()
    if not await models.measures_of(session, plan.id):
        raise Conflict("a plan without measures cannot be submitted (PLN-2)", code="no-measures")
    record_act(session, plan=plan, act=Act.SUBMIT, principal=principal, now=now)
    plan.submitted_by = principal.subject
    plan.submitted_at = now
    await _meet_open(session, f"plan/{plan.id}", life.DRAFT_RULE, now)
    return await _plan_view(session, plan)


async def open_plan_review(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    kind: life.ReviewKind,
    now: datetime | None = None,
) -> PlanView:
    """Start the interim or final review (PLN-13); measures may be amended until it concludes."""
    plan, _profile = await center_plan(
        session, principal, plan_id, *rules.CENTER_ROLES, "center-head"
    )
    now = now or utcnow()
    record_act(session, plan=plan, act=Act.OPEN_REVIEW, principal=principal, now=now, reason=kind)
    session.add(
        Review(id=new_id(), plan_id=plan.id, kind=kind, opened_at=now, opened_by=principal.subject)
    )
    return await _plan_view(session, plan)


async def conclude_plan_review(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    decision: life.ReviewDecision,
    conclusion: str,
    now: datetime | None = None,
) -> PlanView:
    """Record the review's findings and decision (PLN-13); it meets the review's term."""
    plan, _profile = await center_plan(
        session, principal, plan_id, *rules.CENTER_ROLES, "center-head"
    )
    conclusion = rules.check_text(conclusion, field="conclusion", limit=rules.MAX_TEXT)
    now = now or utcnow()
    review = await open_review(session, plan.id)
    record_act(
        session,
        plan=plan,
        act=Act.CONCLUDE_REVIEW,
        principal=principal,
        now=now,
        reason=decision,
    )
    assert review is not None  # an under-review plan has its open review
    review.concluded_at = now
    review.concluded_by = principal.subject
    review.decision = decision
    review.conclusion = conclusion
    session.add(review)
    await _meet_open(
        session, f"plan/{plan.id}", life.review_rule(life.ReviewKind(review.kind)), now
    )
    return await _plan_view(session, plan)


def _levels(profile: Profile) -> set[str]:
    codes = {level.code for level in profile.support_levels}
    return codes or {level.value for level in rules.SupportLevel}


async def change_support_level(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    person: str,
    from_level: rules.SupportLevel,
    to_level: rules.SupportLevel,
    reason: str,
    now: datetime | None = None,
) -> PlanView:
    """A person's level changes at a review or when the situation changes; the direction is
    recorded (PLN-14) and counted (MON-2)."""
    plan, profile = await center_plan(
        session, principal, plan_id, *rules.CENTER_ROLES, "center-head"
    )
    person = rules.check_text(person, field="person", limit=life.MAX_NAME)
    levels = _levels(profile)
    for field, level in (("from_level", from_level), ("to_level", to_level)):
        if level.value not in levels:
            raise Invalid(field, f"must be one of {sorted(levels)}")
    direction, indicator = life.direction(from_level, to_level)
    reason = rules.check_text(reason, field="reason", limit=rules.MAX_TEXT, required=False)
    now = now or utcnow()
    record_act(
        session,
        plan=plan,
        act=Act.CHANGE_LEVEL,
        principal=principal,
        now=now,
        reason=f"{from_level.value}->{to_level.value}",
    )
    session.add(
        LevelChange(
            id=new_id(),
            plan_id=plan.id,
            territory=plan.territory,
            center_id=plan.center_id,
            person=person,
            from_level=from_level,
            to_level=to_level,
            direction=direction,
            indicator=indicator,
            reason=reason,
            at=now,
            by=principal.subject,
        )
    )
    return await _plan_view(session, plan)


async def extend_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    request_received_on: date,
    months: int,
    decision: str,
    now: datetime | None = None,
) -> PlanView:
    """Yugra: on the person's written request the working group extends the term, to at most a
    year from approval (PLN-1, seed 003 pp. 5.2-5.3). The term and the final review move."""
    plan, profile = await center_plan(session, principal, plan_id, *rules.EXTENDER_ROLES)
    approver = profile.approvals.plan_extension
    if approver is None:
        raise Conflict(
            f"plans are not extended in the {profile.name} profile (PLN-1)", code="no-extension"
        )
    require_role(principal, *rules.approver_roles(approver))
    decision = rules.check_text(decision, field="decision", limit=rules.MAX_DECISION)
    if months < 1:
        raise Invalid("months", "must be a positive number of months")
    now = now or utcnow()
    life.transition(plan.state, Act.EXTEND)
    assert plan.approved_at is not None  # a plan in force was approved
    new_end = profile.at(plan.approved_at).deadline("PLN-1", "months", months, plan.approved_at)
    life.check_extension(
        profile,
        approved_at=plan.approved_at,
        current_end=plan.term_ends_at,
        new_end=new_end.due_at,
        request_received_on=request_received_on,
        today=local_date(now, profile.zone),
    )
    subject = f"plan/{plan.id}"
    await _cancel_open(session, [subject], rules.TERM_RULE)
    obligations.open_obligation(
        session,
        rule=rules.TERM_RULE,
        subject=subject,
        territory=plan.territory,
        arose_at=plan.approved_at,
        responsible_agency=plan.center_id,
        responsible_person=plan.created_by,
        deadline=new_end,
    )
    plan.term_ends_at = new_end.due_at
    if profile.at(now).has_rule(life.FINAL_RULE):
        await _cancel_open(session, [subject], life.FINAL_RULE)
        open_final_review(session, plan=plan, profile=profile, now=now)
    record_act(
        session,
        plan=plan,
        act=Act.EXTEND,
        principal=principal,
        now=now,
        reason=f"{decision}; request of {request_received_on.isoformat()}",
    )
    return await _plan_view(session, plan)


async def close_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    ground: str,
    explanation: str,
    decision: str,
    now: datetime | None = None,
) -> PlanView:
    """End support on a ground of the list (PLN-10), decided by the plan's approving body and
    not by its case worker (four eyes); the decision goes to the family in writing (PLN-11,
    NTF-4, through notify) and the situation is monitored for 3 to 6 months (PLN-12)."""
    plan, profile = await center_plan(session, principal, plan_id, *rules.ANY_APPROVER_ROLE)
    approver = rules.approver_for(rules.Situation(plan.situation), profile.approvals)
    require_role(principal, *rules.approver_roles(approver))
    if approver in rules.CENTER_APPROVERS and principal.agency != plan.center_id:
        raise Forbidden(f"the {approver} of the plan's own center closes it (PLN-10)")
    life.check_four_eyes(principal.subject, others=[plan.created_by], act="closing a plan")
    life.transition(plan.state, Act.CLOSE)
    measures = await models.measures_of(session, plan.id)
    still_open = [m for m in measures if m.state not in rules.FINISHED_MEASURE_STATES]
    chosen, explanation = life.check_closure(
        ground=ground, explanation=explanation, open_measures=len(still_open), profile=profile
    )
    decision = rules.check_text(decision, field="decision", limit=rules.MAX_DECISION)
    now = now or utcnow()
    subject = f"plan/{plan.id}"
    await _meet_open(session, subject, rules.TERM_RULE, now)
    # Reviews not held and measures not done are owed no more: support has ended.
    await _cancel_open(session, [subject])
    await _cancel_open(session, [_entity(m.id) for m in still_open])
    record_act(session, plan=plan, act=Act.CLOSE, principal=principal, now=now, reason=chosen)
    version = profile.at(now)
    least, most = life.MONITORING_MIN_MONTHS, life.MONITORING_MAX_MONTHS
    if version.has_rule(life.MONITORING_RULE):
        term = version.term(life.MONITORING_RULE)
        least, most = term.min_amount or term.amount, term.amount
        until = obligations.open_obligation(
            session,
            rule=life.MONITORING_RULE,
            subject=subject,
            territory=plan.territory,
            arose_at=now,
            responsible_agency=plan.center_id,
            responsible_person=plan.created_by,
        ).due_at
    else:
        until = version.deadline(life.MONITORING_RULE, "months", most, now).due_at
    plan.monitoring_from = version.deadline(life.MONITORING_RULE, "months", least, now).due_at
    plan.monitoring_until = until
    plan.closed_at = now
    plan.closed_by = principal.subject
    plan.closure_ground = chosen
    plan.closure_explanation = explanation
    plan.closure_decision = decision
    outbox.append(
        session,
        source=SOURCE,
        subject="kamqor.plans.plan.closed",
        entity=subject,
        payload=PlanClosed(
            plan_id=plan.id,
            family_id=plan.family_id,
            center_id=plan.center_id,
            territory=plan.territory,
            reason=chosen,
            closed_at=ts(now),
        ),
    )
    return await _plan_view(session, plan)


async def end_monitoring(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    outcome: str,
    now: datetime | None = None,
) -> PlanView:
    """The situation stayed stable through the monitoring after closure, which lasts at least
    its minimum (PLN-12: 3 months); the plan is closed for good."""
    plan, _profile = await center_plan(
        session, principal, plan_id, *rules.CENTER_ROLES, "center-head"
    )
    outcome = rules.check_text(outcome, field="outcome", limit=rules.MAX_TEXT)
    now = now or utcnow()
    life.transition(plan.state, Act.END_MONITORING)
    if plan.monitoring_from is not None and now < plan.monitoring_from:
        raise Conflict(
            "monitoring after closure lasts at least until "
            f"{plan.monitoring_from.isoformat()} (PLN-12)",
            code="monitoring-too-short",
        )
    record_act(
        session, plan=plan, act=Act.END_MONITORING, principal=principal, now=now, reason=outcome
    )
    plan.monitoring_ended_at = now
    plan.monitoring_outcome = outcome
    await _meet_open(session, f"plan/{plan.id}", life.MONITORING_RULE, now)
    return await _plan_view(session, plan)


async def reopen_plan(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: str,
    reason: str,
    measures: Sequence[rules.MeasureIn],
    support_level: rules.SupportLevel | None,
    idempotency_key: str,
    request_digest: str = "",
    now: datetime | None = None,
) -> PlanView:
    """Monitoring found the situation worse: support resumes with a revised plan of the same
    case (PLN-12). The closed plan keeps its history and points to the revision."""
    require_role(principal, *rules.CENTER_ROLES)  # before a replayed key answers anything
    key = idempotency.check_key(idempotency_key)
    scope = f"reopen_plan:{principal.agency}"
    if (
        earlier := await idempotency.claim(session, scope=scope, key=key, digest=request_digest)
    ) is not None:
        return await get_plan(session, principal=principal, plan_id=earlier, audit_read=False)
    plan, profile = await center_plan(session, principal, plan_id, *rules.CENTER_ROLES)
    life.transition(plan.state, Act.REOPEN)
    reason = rules.check_text(reason, field="reason", limit=rules.MAX_TEXT)
    now = now or utcnow()
    revised = await create_plan(
        session,
        principal=principal,
        case_id=plan.case_id,
        situation=rules.Situation(plan.situation),
        support_level=support_level
        or (rules.SupportLevel(plan.support_level) if plan.support_level else None),
        measures=measures,
        participants=await copy_participants(session, plan.id),
        # Support resumes on the center's finding, which stands for the person's application
        # where approval is counted from one (PLN-4, Yugra).
        applied_on=local_date(now, profile.zone),
        idempotency_key="",
        now=now,
        revises_plan_id=plan.id,
    )
    plan.revised_by_plan_id = revised.plan.id
    record_act(session, plan=plan, act=Act.REOPEN, principal=principal, now=now, reason=reason)
    # The monitoring did its work: it found the worsening in time.
    await _meet_open(session, f"plan/{plan.id}", life.MONITORING_RULE, now)
    idempotency.remember(
        session, scope=scope, key=key, digest=request_digest, result_id=revised.plan.id
    )
    return revised


async def copy_participants(session: AsyncSession, plan_id: str) -> list[life.Participant]:
    return [
        life.Participant(
            role=life.ParticipantRole(p.role), name=p.name, organisation=p.organisation
        )
        for p in await participants_of(session, plan_id)
    ]
