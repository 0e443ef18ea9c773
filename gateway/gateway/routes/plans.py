"""/v1/plans and /v1/measures: individual work plans (PLN-*), served by PlansService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.schemas.plans import (
    MEASURE_ORDERS,
    MEASURE_STATES,
    ApprovalIn,
    AssigneeIn,
    CompletionIn,
    Measure,
    MeasureOrder,
    MeasurePage,
    MeasureState,
    Plan,
    PlanIn,
    ReportIn,
    ReturnIn,
)
from kamqor.plans.v1 import plans_pb2 as pb
from kamqor.plans.v1 import plans_pb2_grpc

SERVICE = "plans"
# The same roles the service checks (plans.rules); it re-checks, and decides on its own data.
CASE_WORKERS = ("case-worker",)
PLAN_READERS = ("case-worker", "center-head", "commission-member")
APPROVERS = ("center-head", "commission-member")
AGENCY_STAFF = ("agency-coordinator", "agency-assignee")
COORDINATORS = ("agency-coordinator",)
ASSIGNEES = ("agency-assignee",)

router = APIRouter(route_class=JSONRoute, prefix="/v1", responses=responses(401, 403, 503))


def _stub(clients: Clients) -> plans_pb2_grpc.PlansServiceAsyncStub:
    return plans_pb2_grpc.PlansServiceStub(clients.channel(SERVICE))


@router.post(
    "/plans",
    operation_id="createPlan",
    tags=["plans"],
    status_code=201,
    summary="Draft a family's plan with its measures",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=created("Plan") | responses(409, 422),
)
async def create_plan(
    body: PlanIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Plan:
    """A draft in the caller's center covering one family (PLN-1); every measure has an agency,
    a kind and a deadline within the profile's plan term (PLN-2). A retry with the same
    `Idempotency-Key` returns the first plan."""
    reply = await _stub(clients).CreatePlan(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    plan = Plan.from_proto(reply.plan)
    response.headers["Location"] = f"{router.prefix}/plans/{plan.id}"
    return plan


@router.get(
    "/plans/{plan_id}",
    operation_id="getPlan",
    tags=["plans"],
    summary="One plan with all its measures",
    dependencies=[require_roles(*PLAN_READERS)],
    responses=responses(404, 422),
)
async def get_plan(plan_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Plan:
    """A plan of the caller's territory; the read is audited (REG-9). Agencies see only their
    measures, at `/v1/measures` (PLN-15)."""
    reply = await _stub(clients).GetPlan(
        pb.GetPlanRequest(plan_id=str(plan_id)), **clients.options(principal)
    )
    return Plan.from_proto(reply.plan)


@router.post(
    "/plans/{plan_id}/approve",
    operation_id="approvePlan",
    tags=["plans"],
    summary="Approve a draft and send each measure to its agency",
    dependencies=[require_roles(*APPROVERS)],
    responses=responses(404, 409, 422),
)
async def approve_plan(
    plan_id: UUID, body: ApprovalIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Plan:
    """Approval by the body the territory's profile names for the plan's situation (PLN-4: the
    center's working group for DLS, the commission for SDP); each measure then goes to its
    agency (PLN-5), which designates a responsible person (PLN-6): within 2 working days where
    the profile sets those terms (Kazakhstan), with no legal term elsewhere."""
    reply = await _stub(clients).ApprovePlan(
        pb.ApprovePlanRequest(
            plan_id=str(plan_id), decision=body.decision, term_months=body.term_months or 0
        ),
        **clients.options(principal),
    )
    return Plan.from_proto(reply.plan)


@router.get(
    "/measures",
    operation_id="listMyMeasures",
    tags=["measures"],
    summary="Measures sent to the caller's agency",
    dependencies=[require_roles(*AGENCY_STAFF)],
    responses=responses(422),
)
async def list_my_measures(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    state: Annotated[MeasureState | None, Query(description="Only this state.")] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
    order: Annotated[
        MeasureOrder | None,
        Query(
            description="The earliest `deadline` first or the `latest_sent` first; as drafted "
            "when absent. A `page_token` continues the order it was issued under."
        ),
    ] = None,
) -> MeasurePage:
    """Only the measures assigned to the caller's agency, never the rest of the plan (PLN-15);
    every measure read is audited."""
    request = pb.ListMyMeasuresRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        state=MEASURE_STATES.to_proto(state) if state else pb.MEASURE_STATE_UNSPECIFIED,
        order=MEASURE_ORDERS.to_proto(order) if order else pb.MEASURE_ORDER_UNSPECIFIED,
    )
    reply = await _stub(clients).ListMyMeasures(request, **clients.options(principal))
    return MeasurePage.from_proto(reply)


@router.post(
    "/measures/{measure_id}/assignee",
    operation_id="designateAssignee",
    tags=["measures"],
    summary="Designate the agency's responsible person",
    dependencies=[require_roles(*COORDINATORS)],
    responses=responses(404, 409, 422),
)
async def designate_assignee(
    measure_id: UUID, body: AssigneeIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """The agency's coordinator names who carries the measure out (PLN-6); a later designation
    replaces the person."""
    reply = await _stub(clients).DesignateAssignee(
        pb.DesignateAssigneeRequest(measure_id=str(measure_id), assignee=body.assignee),
        **clients.options(principal),
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/measures/{measure_id}/report",
    operation_id="reportMeasure",
    tags=["measures"],
    summary="Report execution of a measure",
    dependencies=[require_roles(*ASSIGNEES)],
    responses=responses(404, 409, 422),
)
async def report_measure(
    measure_id: UUID, body: ReportIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """The designated responsible person reports to the center; whether it came by the
    deadline is recorded (PLN-7)."""
    reply = await _stub(clients).ReportMeasure(
        pb.ReportMeasureRequest(measure_id=str(measure_id), report=body.report),
        **clients.options(principal),
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/measures/{measure_id}/complete",
    operation_id="completeMeasure",
    tags=["measures"],
    summary="Mark a measure completed",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def complete_measure(
    measure_id: UUID, body: CompletionIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """The plan's own center marks a fully done measure completed, with the date (PLN-9)."""
    reply = await _stub(clients).CompleteMeasure(
        pb.CompleteMeasureRequest(
            measure_id=str(measure_id), completed_on=body.completed_on.isoformat()
        ),
        **clients.options(principal),
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/measures/{measure_id}/return",
    operation_id="returnMeasure",
    tags=["measures"],
    summary="Return a measure for rework or repeat execution",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def return_measure(
    measure_id: UUID, body: ReturnIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """Not done, or done badly: back to the agency with a reason and a new deadline within the
    plan term (PLN-8)."""
    reply = await _stub(clients).ReturnMeasure(
        body.to_proto(measure_id), **clients.options(principal)
    )
    return Measure.from_proto(reply.measure)
