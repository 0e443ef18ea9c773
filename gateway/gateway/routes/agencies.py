"""/v1/agencies and measure routing: the agency directory (PLN-2, seed 003 4.2), declines and
re-routing (closed-loop referral), amendments at a review (PLN-13) and what each agency did with
its measures (MON-3); served by the plans service's AgenciesService and MeasureRoutingService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.routes.reports import check_period
from gateway.schemas.agencies import (
    Agency,
    AgencyPage,
    CancelIn,
    DeclineIn,
    MeasureAddIn,
    MeasureAmendIn,
    MeasureReport,
    RerouteIn,
)
from gateway.schemas.common import IsoDate, Line
from gateway.schemas.plans import MEASURE_KINDS, Measure, MeasureKind
from kamqor.deadline_report import READERS as INDICATOR_READERS
from kamqor.plans.v1 import agencies_pb2 as apb
from kamqor.plans.v1 import agencies_pb2_grpc
from kamqor.plans.v1 import plans_pb2 as pb

NAME = "agencies"
SERVICE = "plans"
# The same roles the service checks (plans.service.agencies, plans.service.routing).
DIRECTORY_READERS = (
    "case-worker",
    "center-head",
    "commission-member",
    "agency-coordinator",
    "agency-assignee",
)
CASE_WORKERS = ("case-worker",)
COORDINATORS = ("agency-coordinator",)
# Any id the directory could hold: one that is not there is a 404 like another territory's.
AgencyId = Annotated[Line, Path(min_length=1, max_length=100, examples=["edu-ast-1"])]

router = APIRouter(route_class=JSONRoute, prefix="/v1", responses=responses(401, 403, 503))


def _agencies(clients: Clients) -> agencies_pb2_grpc.AgenciesServiceAsyncStub:
    return agencies_pb2_grpc.AgenciesServiceStub(clients.channel(SERVICE))


def _routing(clients: Clients) -> agencies_pb2_grpc.MeasureRoutingServiceAsyncStub:
    return agencies_pb2_grpc.MeasureRoutingServiceStub(clients.channel(SERVICE))


@router.get(
    "/agencies",
    operation_id="listAgencies",
    tags=["agencies"],
    summary="The agencies of the caller's territory",
    dependencies=[require_roles(*DIRECTORY_READERS)],
    responses=responses(422),
)
async def list_agencies(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    kind: Annotated[
        MeasureKind | None, Query(description="Only agencies competent for this kind (PLN-2).")
    ] = None,
    include_inactive: Annotated[
        bool, Query(description="Also agencies the directory no longer lists.")
    ] = False,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> AgencyPage:
    """The directory of the caller's own territory in id order: each agency's type,
    competences and contact information; its people's usernames to its own staff only."""
    request = apb.ListAgenciesRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        kind=MEASURE_KINDS.to_proto(kind) if kind else pb.MEASURE_KIND_UNSPECIFIED,
        include_inactive=include_inactive,
    )
    reply = await _agencies(clients).ListAgencies(request, **clients.options(principal))
    return AgencyPage.from_proto(reply)


@router.get(
    "/agencies/{agency_id}",
    operation_id="getAgency",
    tags=["agencies"],
    summary="One agency of the caller's territory",
    dependencies=[require_roles(*DIRECTORY_READERS)],
    responses=responses(404, 422),
)
async def get_agency(
    agency_id: AgencyId, principal: CurrentPrincipal, clients: GrpcClients
) -> Agency:
    """Another territory's agency is reported absent."""
    reply = await _agencies(clients).GetAgency(
        apb.GetAgencyRequest(agency_id=agency_id), **clients.options(principal)
    )
    return Agency.from_proto(reply.agency)


@router.post(
    "/measures/{measure_id}/decline",
    operation_id="declineMeasure",
    tags=["measures"],
    summary="Decline a measure sent to the caller's agency",
    dependencies=[require_roles(*COORDINATORS)],
    responses=responses(404, 409, 422),
)
async def decline_measure(
    measure_id: UUID, body: DeclineIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """The agency's coordinator declines a sent or assigned measure with a reason from the list
    (a comment is required for `other`); its clocks stop and the center re-routes it."""
    reply = await _routing(clients).DeclineMeasure(
        body.to_proto(str(measure_id)), **clients.options(principal)
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/measures/{measure_id}/reroute",
    operation_id="rerouteMeasure",
    tags=["measures"],
    summary="Send a declined measure to another agency",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def reroute_measure(
    measure_id: UUID, body: RerouteIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """A case worker of the plan's center sends a declined measure to another agency of the
    territory competent for its kind, with a new deadline: a new clock (PLN-5..PLN-7). The way
    it came stays in `changes`."""
    reply = await _routing(clients).RerouteMeasure(
        apb.RerouteMeasureRequest(
            measure_id=str(measure_id),
            agency_id=body.agency_id,
            deadline=body.deadline.isoformat(),
        ),
        **clients.options(principal),
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/plans/{plan_id}/measures",
    operation_id="addMeasure",
    tags=["measures"],
    status_code=201,
    summary="Add a measure to a plan under review",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=created("Measure") | responses(404, 409, 422),
)
async def add_measure(
    plan_id: UUID,
    body: MeasureAddIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Measure:
    """Only while the plan is `under_review` (PLN-13): the measure is checked as at drafting
    (an active agency competent for its kind, a deadline within the term) and sent to its agency
    at once. `Location` is the plan, which lists it."""
    reply = await _routing(clients).AddMeasure(
        body.to_proto(str(plan_id), idempotency_key), **clients.options(principal)
    )
    response.headers["Location"] = f"{router.prefix}/plans/{plan_id}"
    return Measure.from_proto(reply.measure)


@router.patch(
    "/measures/{measure_id}",
    operation_id="amendMeasure",
    tags=["measures"],
    summary="Change a measure's deadline, title or target at a review",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def amend_measure(
    measure_id: UUID, body: MeasureAmendIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """Only while the plan is `under_review` (PLN-13), with a reason; the change is kept in
    `changes` with who, when, before and after. A new deadline is a new PLN-7 obligation."""
    reply = await _routing(clients).AmendMeasure(
        body.to_proto(str(measure_id)), **clients.options(principal)
    )
    return Measure.from_proto(reply.measure)


@router.post(
    "/measures/{measure_id}/cancel",
    operation_id="cancelMeasure",
    tags=["measures"],
    summary="Cancel a measure at a review",
    dependencies=[require_roles(*CASE_WORKERS)],
    responses=responses(404, 409, 422),
)
async def cancel_measure(
    measure_id: UUID, body: CancelIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Measure:
    """Only while the plan is `under_review` (PLN-13), with a reason; its open obligations are
    cancelled with it."""
    reply = await _routing(clients).CancelMeasure(
        apb.CancelMeasureRequest(measure_id=str(measure_id), reason=body.reason),
        **clients.options(principal),
    )
    return Measure.from_proto(reply.measure)


@router.get(
    "/reports/measures",
    operation_id="getMeasureIndicators",
    tags=["reports"],
    summary="Measures per agency: sent, reported on time or late, completed, declined, returned",
    dependencies=[require_roles(*INDICATOR_READERS)],
    responses=responses(422)
    | {
        422: {
            "description": "Invalid input, `to` not after `from` or over 366 days after it "
            "included; `errors` names each field"
        }
    },
)
async def report_measures(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    from_: Annotated[
        IsoDate, Query(alias="from", description="First day, YYYY-MM-DD (inclusive).")
    ],
    to: Annotated[
        IsoDate,
        Query(
            description="Day after the period, YYYY-MM-DD (exclusive): after `from` and at most "
            "366 days later, or a 422 naming `to`."
        ),
    ],
) -> MeasureReport:
    """Per agency of the caller's territory, the measures sent in `[from, to)` (local
    midnights) and what became of them (MON-3; declines counted against the agency that
    declined). Aggregates only: no person, plan or measure is named."""
    check_period(from_, to)
    reply = await _routing(clients).MeasureIndicators(
        apb.MeasureIndicatorsRequest(from_date=from_.isoformat(), to_date=to.isoformat()),
        **clients.options(principal),
    )
    return MeasureReport.from_proto(reply, from_=from_, to=to)
