"""/v1/plans: the list of plans and a plan's life after drafting (PLN-1, PLN-4, PLN-10 …
PLN-14), and /v1/reports/plans (MON-2), served by PlansService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.routes.plans import APPROVERS, CASE_WORKERS, PLAN_READERS, _stub
from gateway.routes.reports import check_period
from gateway.schemas.common import IsoDate, Line
from gateway.schemas.plan_lifecycle import (
    DECISIONS,
    GROUNDS,
    PLAN_STATES,
    REVIEW_KINDS,
    ClosureIn,
    MonitoringEndIn,
    PlanExtensionIn,
    PlanIndicators,
    PlanPage,
    PlanReviewIn,
    PlanState,
    ReviewConclusionIn,
    SupportLevelChangeIn,
)
from gateway.schemas.plans import Plan, ReopenIn
from kamqor.deadline_report import READERS
from kamqor.plans.v1 import plans_pb2 as pb

NAME = "plan_lifecycle"
CENTER_STAFF = ("case-worker", "center-head")
# The working group extends (PLN-1, Yugra), its decision recorded by the center head.
EXTENDERS = ("center-head",)

router = APIRouter(route_class=JSONRoute, prefix="/v1", responses=responses(401, 403, 503))


@router.get(
    "/plans",
    operation_id="listPlans",
    tags=["plans"],
    summary="Plans of the caller's center, newest first, with what is due next",
    dependencies=[require_roles(*PLAN_READERS)],
    responses=responses(422),
)
async def list_plans(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    state: Annotated[PlanState | None, Query(description="Only this state.")] = None,
    case_id: Annotated[UUID | None, Query(description="Only this case's plans.")] = None,
    mine: Annotated[bool, Query(description="Only the plans the caller drafted.")] = False,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> PlanPage:
    """The plans of the caller's center (a commission member: of the territory), each with
    its counts of measures and its next due obligation; no personal data in the rows."""
    request = pb.ListPlansRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        state=PLAN_STATES.to_proto(state) if state else pb.PLAN_STATE_UNSPECIFIED,
        case_id=str(case_id) if case_id else "",
        mine=mine,
    )
    reply = await _stub(clients).ListPlans(request, **clients.options(principal))
    return PlanPage.from_proto(reply)


@router.post(
    "/plans/{plan_id}/submit",
    operation_id="submitPlan",
    tags=["plans"],
    summary="Submit a draft to its approving body",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def submit_plan(plan_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Plan:
    """Draft → submitted (PLN-4); in Yugra this meets the 1-working-day term of the draft."""
    reply = await _stub(clients).SubmitPlan(
        pb.SubmitPlanRequest(plan_id=str(plan_id)), **clients.options(principal)
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/reviews",
    operation_id="openReview",
    tags=["plans"],
    summary="Open the interim or final review of a plan in force",
    dependencies=[require_roles(*CENTER_STAFF)],
    responses=responses(404, 409, 422),
)
async def open_review(
    plan_id: UUID, body: PlanReviewIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Approved → under review (PLN-13); measures may be added, changed or cancelled until the
    review concludes."""
    reply = await _stub(clients).OpenReview(
        pb.OpenReviewRequest(plan_id=str(plan_id), kind=REVIEW_KINDS.to_proto(body.kind)),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/reviews/conclude",
    operation_id="concludeReview",
    tags=["plans"],
    summary="Conclude the open review with its decision",
    dependencies=[require_roles(*CENTER_STAFF)],
    responses=responses(404, 409, 422),
)
async def conclude_review(
    plan_id: UUID, body: ReviewConclusionIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Under review → approved, meeting the review's term (PLN-13); the decision to extend or
    close is then carried out by `extend` or `close`."""
    reply = await _stub(clients).ConcludeReview(
        pb.ConcludeReviewRequest(
            plan_id=str(plan_id),
            decision=DECISIONS.to_proto(body.decision),
            conclusion=body.conclusion,
        ),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/level-changes",
    operation_id="changeSupportLevel",
    tags=["plans"],
    summary="Record a person's support-level change",
    dependencies=[require_roles(*CENTER_STAFF)],
    responses=responses(404, 409, 422),
)
async def change_support_level(
    plan_id: UUID, body: SupportLevelChangeIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """The change and its direction (PLN-14: worse basic→crisis, adaptation→crisis; better
    crisis→basic, adaptation→basic; anything else "other"), counted in MON-2."""
    reply = await _stub(clients).ChangeSupportLevel(
        body.to_proto(plan_id), **clients.options(principal)
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/extend",
    operation_id="extendPlan",
    tags=["plans"],
    summary="Extend a plan's term on the person's written request",
    dependencies=[require_roles(*EXTENDERS)],
    responses=responses(404, 409, 422),
)
async def extend_plan(
    plan_id: UUID, body: PlanExtensionIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Yugra: up to a year from approval, by the working group's decision (PLN-1); the term and
    the final review move. Profiles without extension answer 409."""
    reply = await _stub(clients).ExtendPlan(
        pb.ExtendPlanRequest(
            plan_id=str(plan_id),
            request_received_on=body.request_received_on.isoformat(),
            months=body.months,
            decision=body.decision,
        ),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/close",
    operation_id="closePlan",
    tags=["plans"],
    summary="Close a plan on a ground of the list",
    dependencies=[require_roles(*APPROVERS)],
    responses=responses(404, 409, 422),
)
async def close_plan(
    plan_id: UUID, body: ClosureIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Closure by the plan's approving body, never its case worker (PLN-10); the family gets
    the decision in writing (PLN-11, NTF-4) and the situation is monitored (PLN-12)."""
    reply = await _stub(clients).ClosePlan(
        pb.ClosePlanRequest(
            plan_id=str(plan_id),
            ground=GROUNDS.to_proto(body.ground),
            explanation=body.explanation,
            decision=body.decision,
        ),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/monitoring/end",
    operation_id="endMonitoring",
    tags=["plans"],
    summary="End the monitoring after closure",
    dependencies=[require_roles(*CENTER_STAFF)],
    responses=responses(404, 409, 422),
)
async def end_monitoring(
    plan_id: UUID, body: MonitoringEndIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Monitoring → closed, no earlier than the monitoring's minimum (PLN-12: 3 months)."""
    reply = await _stub(clients).EndMonitoring(
        pb.EndMonitoringRequest(plan_id=str(plan_id), outcome=body.outcome),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/reopen",
    operation_id="reopenPlan",
    tags=["plans"],
    status_code=201,
    summary="Resume support with a revised plan",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=created("Plan") | responses(404, 409, 422),
)
async def reopen_plan(
    plan_id: UUID,
    body: ReopenIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Plan:
    """Monitoring found the situation worse (PLN-12): the plan becomes `reopened` and a revised
    draft of the same case takes over; the history stays whole. A retry with the same
    `Idempotency-Key` returns the same revision."""
    reply = await _stub(clients).ReopenPlan(
        body.to_proto(plan_id, idempotency_key), **clients.options(principal)
    )
    plan = Plan.from_proto(reply.plan)
    response.headers["Location"] = f"{router.prefix}/plans/{plan.id}"
    return plan


@router.get(
    "/reports/plans",
    operation_id="getPlanIndicators",
    tags=["reports"],
    summary="Level changes by direction and closures by ground (MON-2)",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def plan_indicators(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    from_: Annotated[
        IsoDate, Query(alias="from", description="First day, YYYY-MM-DD (inclusive).")
    ],
    to: Annotated[IsoDate, Query(description="Day after the period, YYYY-MM-DD (exclusive).")],
    territory: Annotated[
        Line | None,
        Query(max_length=50, description="The caller's own territory (the default)."),
    ] = None,
) -> PlanIndicators:
    """Over `[from, to)` in the territory's local days; aggregates only, no person named."""
    check_period(from_, to)
    request = pb.ReportPlanIndicatorsRequest(
        territory=territory or "", to=to.isoformat(), **{"from": from_.isoformat()}
    )
    reply = await _stub(clients).ReportPlanIndicators(request, **clients.options(principal))
    return PlanIndicators.from_proto(
        reply, territory=territory or principal.territory, from_=from_, to=to
    )
