"""gRPC handlers of a plan's life after drafting (plans.service.lifecycle): proto to domain and
back, nothing else. Mixed into `PlansServicer`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import grpc

from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.protoconv import parse_date, ts
from kamqor.runtime import Wiring
from plans import rules, service
from plans.rules import lifecycle as life

Ctx = grpc.aio.ServicerContext[Any, Any]
T = TypeVar("T")

PLAN_STATE_PB = {
    rules.PlanState.DRAFT: pb.PLAN_STATE_DRAFT,
    rules.PlanState.SUBMITTED: pb.PLAN_STATE_SUBMITTED,
    rules.PlanState.APPROVED: pb.PLAN_STATE_APPROVED,
    rules.PlanState.UNDER_REVIEW: pb.PLAN_STATE_UNDER_REVIEW,
    rules.PlanState.MONITORING: pb.PLAN_STATE_MONITORING,
    rules.PlanState.CLOSED: pb.PLAN_STATE_CLOSED,
    rules.PlanState.REOPENED: pb.PLAN_STATE_REOPENED,
}
PLAN_STATES = {v: k for k, v in PLAN_STATE_PB.items()}
ROLES = {
    pb.PARTICIPANT_ROLE_FAMILY: life.ParticipantRole.FAMILY,
    pb.PARTICIPANT_ROLE_LAWYER: life.ParticipantRole.LAWYER,
    pb.PARTICIPANT_ROLE_PSYCHOLOGIST: life.ParticipantRole.PSYCHOLOGIST,
    pb.PARTICIPANT_ROLE_SOCIAL_PEDAGOGUE: life.ParticipantRole.SOCIAL_PEDAGOGUE,
    pb.PARTICIPANT_ROLE_MEDICAL_WORKER: life.ParticipantRole.MEDICAL_WORKER,
    pb.PARTICIPANT_ROLE_SOCIAL_WORKER: life.ParticipantRole.SOCIAL_WORKER,
    pb.PARTICIPANT_ROLE_POLICE: life.ParticipantRole.POLICE,
    pb.PARTICIPANT_ROLE_NGO: life.ParticipantRole.NGO,
}
ROLE_PB = {v: k for k, v in ROLES.items()}
KINDS = {
    pb.REVIEW_KIND_INTERIM: life.ReviewKind.INTERIM,
    pb.REVIEW_KIND_FINAL: life.ReviewKind.FINAL,
}
KIND_PB = {v: k for k, v in KINDS.items()}
DECISIONS = {
    pb.REVIEW_DECISION_CONTINUE: life.ReviewDecision.CONTINUE,
    pb.REVIEW_DECISION_EXTEND: life.ReviewDecision.EXTEND,
    pb.REVIEW_DECISION_CLOSE: life.ReviewDecision.CLOSE,
}
DECISION_PB = {v: k for k, v in DECISIONS.items()}
GROUNDS = {
    pb.CLOSURE_GROUND_RESULT_ACHIEVED: life.Ground.RESULT_ACHIEVED,
    pb.CLOSURE_GROUND_FAMILY_REFUSED: life.Ground.FAMILY_REFUSED,
    pb.CLOSURE_GROUND_FAMILY_NONCOMPLIANCE: life.Ground.FAMILY_NONCOMPLIANCE,
    pb.CLOSURE_GROUND_OTHER_CONFIRMED: life.Ground.OTHER_CONFIRMED,
    pb.CLOSURE_GROUND_RESULT_IMPOSSIBLE: life.Ground.RESULT_IMPOSSIBLE,
}
GROUND_PB = {v: k for k, v in GROUNDS.items()}
LEVELS = {
    pb.SUPPORT_LEVEL_ADAPTATION: rules.SupportLevel.ADAPTATION,
    pb.SUPPORT_LEVEL_BASIC: rules.SupportLevel.BASIC,
    pb.SUPPORT_LEVEL_CRISIS: rules.SupportLevel.CRISIS,
    pb.SUPPORT_LEVEL_EMERGENCY: rules.SupportLevel.EMERGENCY,
}
LEVEL_PB = {v: k for k, v in LEVELS.items()}


def one_of(table: Mapping[Any, T], value: int, field: str) -> T:
    found = table.get(value)
    if found is None:
        raise Invalid(field, f"must be one of {sorted(str(v) for v in table.values())}")
    return found


def participants_in(items: Any) -> list[life.Participant]:
    return [
        life.Participant(
            role=one_of(ROLES, p.role, f"participants[{i}].role"),
            name=p.name,
            organisation=p.organisation,
        )
        for i, p in enumerate(items)
    ]


def lifecycle_fields(view: service.PlanView) -> dict[str, Any]:
    """The fields of `pb.Plan` that the plan's life adds to the drafted plan."""
    p = view.plan
    closure = None
    if p.closed_at is not None:
        closure = pb.Closure(
            ground=GROUND_PB.get(life.Ground(p.closure_ground), pb.CLOSURE_GROUND_UNSPECIFIED),
            explanation=p.closure_explanation,
            decision=p.closure_decision,
            closed_by=p.closed_by,
            closed_at=ts(p.closed_at),
            monitoring_from=ts(p.monitoring_from),
            monitoring_until=ts(p.monitoring_until),
            monitoring_ended_at=ts(p.monitoring_ended_at),
            monitoring_outcome=p.monitoring_outcome,
        )
    return {
        "state": PLAN_STATE_PB[rules.PlanState(p.state)],
        "family_id": p.family_id,
        "applied_on": p.applied_on.isoformat() if p.applied_on else "",
        "submitted_by": p.submitted_by,
        "submitted_at": ts(p.submitted_at),
        "participants": [
            pb.Participant(
                role=ROLE_PB[life.ParticipantRole(x.role)], name=x.name, organisation=x.organisation
            )
            for x in view.participants
        ],
        "reviews": [
            pb.Review(
                id=r.id,
                kind=KIND_PB[life.ReviewKind(r.kind)],
                opened_at=ts(r.opened_at),
                opened_by=r.opened_by,
                concluded_at=ts(r.concluded_at),
                concluded_by=r.concluded_by,
                decision=DECISION_PB[life.ReviewDecision(r.decision)]
                if r.decision
                else pb.REVIEW_DECISION_UNSPECIFIED,
                conclusion=r.conclusion,
            )
            for r in view.reviews
        ],
        "level_changes": [
            pb.LevelChange(
                id=c.id,
                person=c.person,
                from_level=LEVEL_PB[rules.SupportLevel(c.from_level)],
                to_level=LEVEL_PB[rules.SupportLevel(c.to_level)],
                direction=c.direction,
                indicator=c.indicator,
                reason=c.reason,
                at=ts(c.at),
                by=c.by,
            )
            for c in view.level_changes
        ],
        "closure": closure,
        "revises_plan_id": p.revises_plan_id,
        "revised_by_plan_id": p.revised_by_plan_id,
        "history": [
            pb.PlanAct(
                act=a.act,
                from_state=PLAN_STATE_PB[rules.PlanState(a.from_state)],
                to_state=PLAN_STATE_PB[rules.PlanState(a.to_state)],
                at=ts(a.at),
                by=a.by,
                reason=a.reason,
            )
            for a in view.history
        ],
        "obligations": [obligations.to_pb(o) for o in view.obligations],
    }


def _summary(row: service.PlanRow) -> pb.PlanSummary:
    p = row.plan
    return pb.PlanSummary(
        id=p.id,
        case_id=p.case_id,
        situation=pb.SITUATION_DLS if p.situation == rules.Situation.DLS else pb.SITUATION_SDP,
        state=PLAN_STATE_PB[rules.PlanState(p.state)],
        created_by=p.created_by,
        created_at=ts(p.created_at),
        term_ends_at=ts(p.term_ends_at),
        measures=row.measures,
        open_measures=row.open_measures,
        next_due=obligations.to_pb(row.next_due) if row.next_due else None,
    )


class LifecycleRpcs:
    """The lifecycle RPCs of PlansService; `_plan_out` turns a plan view into `pb.Plan`."""

    _w: Wiring
    _plan_out: Callable[[service.PlanView], pb.Plan]
    _measure_in: Callable[[pb.MeasureDraft, int], rules.MeasureIn]

    async def ListPlans(self, request: pb.ListPlansRequest, context: Ctx) -> pb.ListPlansResponse:
        state = one_of(PLAN_STATES, request.state, "state") if request.state else None
        async with self._w.transaction() as session:
            rows, token = await service.list_plans(
                session,
                principal=current_principal(),
                state=state,
                case_id=request.case_id,
                mine=request.mine,
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListPlansResponse(plans=[_summary(r) for r in rows], next_page_token=token)

    async def SubmitPlan(
        self, request: pb.SubmitPlanRequest, context: Ctx
    ) -> pb.SubmitPlanResponse:
        async with self._w.transaction() as session:
            view = await service.submit_plan(
                session, principal=current_principal(), plan_id=request.plan_id
            )
        return pb.SubmitPlanResponse(plan=self._plan_out(view))

    async def OpenReview(
        self, request: pb.OpenReviewRequest, context: Ctx
    ) -> pb.OpenReviewResponse:
        kind = one_of(KINDS, request.kind, "kind")
        async with self._w.transaction() as session:
            view = await service.open_plan_review(
                session, principal=current_principal(), plan_id=request.plan_id, kind=kind
            )
        return pb.OpenReviewResponse(plan=self._plan_out(view))

    async def ConcludeReview(
        self, request: pb.ConcludeReviewRequest, context: Ctx
    ) -> pb.ConcludeReviewResponse:
        decision = one_of(DECISIONS, request.decision, "decision")
        async with self._w.transaction() as session:
            view = await service.conclude_plan_review(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                decision=decision,
                conclusion=request.conclusion,
            )
        return pb.ConcludeReviewResponse(plan=self._plan_out(view))

    async def ChangeSupportLevel(
        self, request: pb.ChangeSupportLevelRequest, context: Ctx
    ) -> pb.ChangeSupportLevelResponse:
        from_level = one_of(LEVELS, request.from_level, "from_level")
        to_level = one_of(LEVELS, request.to_level, "to_level")
        async with self._w.transaction() as session:
            view = await service.change_support_level(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                person=request.person,
                from_level=from_level,
                to_level=to_level,
                reason=request.reason,
            )
        return pb.ChangeSupportLevelResponse(plan=self._plan_out(view))

    async def ExtendPlan(
        self, request: pb.ExtendPlanRequest, context: Ctx
    ) -> pb.ExtendPlanResponse:
        received = parse_date(request.request_received_on, field="request_received_on")
        assert received is not None  # required: parse_date refuses empty
        async with self._w.transaction() as session:
            view = await service.extend_plan(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                request_received_on=received,
                months=request.months,
                decision=request.decision,
            )
        return pb.ExtendPlanResponse(plan=self._plan_out(view))

    async def ClosePlan(self, request: pb.ClosePlanRequest, context: Ctx) -> pb.ClosePlanResponse:
        ground = one_of(GROUNDS, request.ground, "ground")
        async with self._w.transaction() as session:
            view = await service.close_plan(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                ground=ground,
                explanation=request.explanation,
                decision=request.decision,
            )
        return pb.ClosePlanResponse(plan=self._plan_out(view))

    async def EndMonitoring(
        self, request: pb.EndMonitoringRequest, context: Ctx
    ) -> pb.EndMonitoringResponse:
        async with self._w.transaction() as session:
            view = await service.end_monitoring(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                outcome=request.outcome,
            )
        return pb.EndMonitoringResponse(plan=self._plan_out(view))

    async def ReopenPlan(
        self, request: pb.ReopenPlanRequest, context: Ctx
    ) -> pb.ReopenPlanResponse:
        level = (
            one_of(LEVELS, request.support_level, "support_level")
            if request.support_level
            else None
        )
        measures = [self._measure_in(m, i) for i, m in enumerate(request.measures)]
        async with self._w.transaction() as session:
            view = await service.reopen_plan(
                session,
                principal=current_principal(),
                plan_id=request.plan_id,
                reason=request.reason,
                measures=measures,
                support_level=level,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.ReopenPlanResponse(plan=self._plan_out(view))

    async def ReportPlanIndicators(
        self, request: pb.ReportPlanIndicatorsRequest, context: Ctx
    ) -> pb.ReportPlanIndicatorsResponse:
        async with self._w.transaction() as session:
            found = await service.report_plan_indicators(
                session,
                principal=current_principal(),
                territory=request.territory,
                from_date=getattr(request, "from"),
                to_date=request.to,
            )
        return pb.ReportPlanIndicatorsResponse(
            level_changes=[pb.Count(key=k, count=v) for k, v in found.level_changes.items()],
            closures=[pb.Count(key=k, count=v) for k, v in found.closures.items()],
            plans_approved=found.approved,
            plans_closed=found.closed,
            plans_reopened=found.reopened,
        )
