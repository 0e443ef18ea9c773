"""/v1/shelters and /v1/stays: the crisis shelter (SHL-*), served by ShelterService."""

from __future__ import annotations

import asyncio
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.routes.reports import check_period
from gateway.schemas.common import IsoDate, Line
from gateway.schemas.shelter import (
    STAY_ORDERS,
    STAY_STATES,
    WAITLIST_STATES,
    Bed,
    BedBoard,
    BedServiceIn,
    DischargeIn,
    ExtensionIn,
    Hold,
    HoldIn,
    Refusal,
    RefusalIn,
    RefusalPage,
    Shelter,
    ShelterIn,
    ShelterIndicators,
    ShelterList,
    Stay,
    StayIn,
    StayOrder,
    StayPage,
    StayState,
    Support,
    SupportIn,
    WaitlistPage,
    WaitlistState,
)
from kamqor.deadline_report import READERS as REPORT_READERS
from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc

SERVICE = "shelter"
SHELTER_READERS = ("shelter-operator", "center-head", "case-worker")
SHELTER_ADMINS = ("center-head",)
OPERATORS = ("shelter-operator",)
DECIDERS = ("shelter-operator", "center-head")

router = APIRouter(route_class=JSONRoute, prefix="/v1", responses=responses(401, 403, 503))


def _stub(clients: Clients) -> shelter_pb2_grpc.ShelterServiceAsyncStub:
    return shelter_pb2_grpc.ShelterServiceStub(clients.channel(SERVICE))


@router.get(
    "/shelters",
    operation_id="listShelters",
    tags=["shelters"],
    summary="Shelters of the caller's territory with occupancy",
    dependencies=[require_roles(*SHELTER_READERS)],
)
async def list_shelters(principal: CurrentPrincipal, clients: GrpcClients) -> ShelterList:
    reply = await _stub(clients).ListShelters(
        pb.ListSheltersRequest(), **clients.options(principal)
    )
    return ShelterList(items=[Shelter.from_proto(s) for s in reply.shelters])


@router.post(
    "/shelters",
    operation_id="registerShelter",
    tags=["shelters"],
    status_code=201,
    summary="Declare a shelter of the caller's center",
    dependencies=[require_roles(*SHELTER_ADMINS)],
    responses=responses(409, 422),
)
async def register_shelter(
    body: ShelterIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Shelter:
    """A shelter with its capacity in beds; placements never exceed it (SHL-6). Its name is
    unique in the center, case and spacing ignored: a second one is a 409
    `shelter-name-taken`."""
    reply = await _stub(clients).RegisterShelter(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Shelter.from_proto(reply.shelter)


@router.post(
    "/stays",
    operation_id="admitToShelter",
    tags=["stays"],
    status_code=201,
    summary="Admit an adult together with their minor children",
    dependencies=[require_roles(*OPERATORS)],
    responses=created("Stay") | responses(404, 409, 422),
)
async def admit(
    body: StayIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Stay:
    """Admits within capacity (SHL-6; a full shelter is a 409 `shelter-full`) for at most one
    month (SHL-1); with minors, police and guardianship are notified within 24 hours (SHL-3)."""
    reply = await _stub(clients).Admit(body.to_proto(idempotency_key), **clients.options(principal))
    stay = Stay.from_proto(reply.stay)
    response.headers["Location"] = f"{router.prefix}/stays/{stay.id}"
    return stay


@router.get(
    "/stays",
    operation_id="listStays",
    tags=["stays"],
    summary="Page through one shelter's stays",
    dependencies=[require_roles(*SHELTER_READERS)],
    responses=responses(404, 422),
)
async def list_stays(
    shelter_id: Annotated[UUID, Query(description="A shelter of the caller's territory.")],
    principal: CurrentPrincipal,
    clients: GrpcClients,
    state: Annotated[StayState | None, Query(description="Only this state.")] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
    order: Annotated[
        StayOrder,
        Query(
            description="`latest_admission` first, the fewest `days_left` first, or by the "
            "adult's `name`; a `page_token` continues the order it was issued under."
        ),
    ] = "latest_admission",
) -> StayPage:
    """In the requested order, each with its minors and days left (SHL-1); every read of
    residents' data is audited (REG-9)."""
    request = pb.ListStaysRequest(
        shelter_id=str(shelter_id),
        state=STAY_STATES.to_proto(state) if state else pb.STAY_STATE_UNSPECIFIED,
        page_size=page_size or 0,
        page_token=page_token or "",
        order=STAY_ORDERS.to_proto(order),
    )
    reply = await _stub(clients).ListStays(request, **clients.options(principal))
    return StayPage.from_proto(reply)


@router.get(
    "/stays/{stay_id}",
    operation_id="getStay",
    tags=["stays"],
    summary="One stay",
    dependencies=[require_roles(*SHELTER_READERS)],
    responses=responses(404, 422),
)
async def get_stay(stay_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Stay:
    reply = await _stub(clients).GetStay(
        pb.GetStayRequest(stay_id=str(stay_id)), **clients.options(principal)
    )
    return Stay.from_proto(reply.stay)


@router.post(
    "/stays/{stay_id}/discharge",
    operation_id="dischargeStay",
    tags=["stays"],
    summary="End a stay, recording why",
    dependencies=[require_roles(*OPERATORS)],
    responses=responses(404, 409, 422),
)
async def discharge(
    stay_id: UUID, body: DischargeIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Stay:
    reply = await _stub(clients).Discharge(
        pb.DischargeRequest(
            stay_id=str(stay_id), reason=body.reason, redirected_to=body.redirected_to
        ),
        **clients.options(principal),
    )
    return Stay.from_proto(reply.stay)


@router.post(
    "/stays/{stay_id}/extend",
    operation_id="extendStay",
    tags=["stays"],
    summary="Keep a stay past its cap on a recorded decision",
    dependencies=[require_roles(*DECIDERS)],
    responses=responses(404, 409, 422),
)
async def extend_stay(
    stay_id: UUID, body: ExtensionIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Stay:
    """SHL-1: the decision's number and reason are required (422 naming the field); the new
    last day is the end of `until` in the territory's local time, after the current one."""
    reply = await _stub(clients).ExtendStay(body.to_proto(stay_id), **clients.options(principal))
    return Stay.from_proto(reply.stay)


@router.post(
    "/stays/{stay_id}/support",
    operation_id="recordStaySupport",
    tags=["stays"],
    status_code=201,
    summary="Record the support a resident gets, each item a plan measure",
    dependencies=[require_roles(*OPERATORS)],
    responses=responses(404, 409, 422),
)
async def record_support(
    stay_id: UUID,
    body: SupportIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Support:
    """SHL-4: each item (kind, agency, due date within the stay) becomes a measure of the
    case's open plan, or of a new draft for the case, added by plans shortly after. An ended
    stay is a 409 `stay-ended`; an unknown kind or agency type a 422 naming the field."""
    reply = await _stub(clients).RecordSupport(
        body.to_proto(stay_id, idempotency_key), **clients.options(principal)
    )
    return Support.from_proto(reply)


@router.get(
    "/shelters/{shelter_id}/beds",
    operation_id="getBedBoard",
    tags=["shelters"],
    summary="The bed board: every bed free, occupied, held or out of service",
    dependencies=[require_roles(*SHELTER_READERS)],
    responses=responses(404, 422),
)
async def bed_board(
    shelter_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> BedBoard:
    reply = await _stub(clients).GetBedBoard(
        pb.GetBedBoardRequest(shelter_id=str(shelter_id)), **clients.options(principal)
    )
    return BedBoard.from_proto(reply)


@router.post(
    "/shelters/{shelter_id}/beds/{number}/service",
    operation_id="setBedService",
    tags=["shelters"],
    summary="Take a free bed out of service, or put it back",
    dependencies=[require_roles(*OPERATORS)],
    responses=responses(404, 409, 422),
)
async def set_bed_service(
    shelter_id: UUID,
    number: Annotated[int, Path(ge=1, le=10000)],
    body: BedServiceIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
) -> Bed:
    """Only a free bed goes out of service (409 `bed-not-free`); a bed back in service is
    offered to the head of the waiting list first (SHL-6)."""
    reply = await _stub(clients).SetBedService(
        pb.SetBedServiceRequest(
            shelter_id=str(shelter_id),
            number=number,
            out_of_service=body.out_of_service,
            reason=body.reason,
        ),
        **clients.options(principal),
    )
    return Bed.from_proto(reply.bed)


@router.post(
    "/holds",
    operation_id="holdBeds",
    tags=["shelters"],
    status_code=201,
    summary="Hold beds for an expected arrival",
    dependencies=[require_roles(*OPERATORS)],
    responses=responses(404, 409, 422),
)
async def hold_beds(
    body: HoldIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Hold:
    """The hold expires by itself after `minutes` (240 by default), so no-shows do not keep
    beds; an admission naming `hold_id` takes its beds. A full shelter is a 409
    `shelter-full`, a named bed not free a 409 `bed-taken`."""
    reply = await _stub(clients).HoldBeds(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Hold.from_proto(reply.hold)


@router.post(
    "/refusals",
    operation_id="recordRefusal",
    tags=["shelters"],
    status_code=201,
    summary="Record a refusal to admit, why and where the person was referred",
    dependencies=[require_roles(*OPERATORS)],
    responses=responses(404, 409, 422),
)
async def record_refusal(
    body: RefusalIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Refusal:
    """SHL-6: who, when, why, referred where; `waitlist` queues the person. An admission to
    a full shelter records its refusal by itself."""
    reply = await _stub(clients).RecordRefusal(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Refusal.from_proto(reply.refusal)


@router.get(
    "/refusals",
    operation_id="listRefusals",
    tags=["shelters"],
    summary="Page through one shelter's refusals, the latest first",
    dependencies=[require_roles(*SHELTER_READERS)],
    responses=responses(404, 422),
)
async def list_refusals(
    shelter_id: Annotated[UUID, Query(description="A shelter of the caller's territory.")],
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> RefusalPage:
    """Every read of the persons' data is audited (REG-9)."""
    reply = await _stub(clients).ListRefusals(
        pb.ListRefusalsRequest(
            shelter_id=str(shelter_id), page_size=page_size or 0, page_token=page_token or ""
        ),
        **clients.options(principal),
    )
    return RefusalPage.from_proto(reply)


@router.get(
    "/waitlist",
    operation_id="listWaitlist",
    tags=["shelters"],
    summary="Page through one shelter's waiting list in queue order",
    dependencies=[require_roles(*SHELTER_READERS)],
    responses=responses(404, 422),
)
async def list_waitlist(
    shelter_id: Annotated[UUID, Query(description="A shelter of the caller's territory.")],
    principal: CurrentPrincipal,
    clients: GrpcClients,
    state: Annotated[WaitlistState | None, Query(description="Only this state.")] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> WaitlistPage:
    """The head of the queue (`position` 1) is offered the next free beds as a hold (SHL-6);
    every read of the persons' data is audited (REG-9)."""
    reply = await _stub(clients).ListWaitlist(
        pb.ListWaitlistRequest(
            shelter_id=str(shelter_id),
            state=WAITLIST_STATES.to_proto(state) if state else pb.WAITLIST_STATE_UNSPECIFIED,
            page_size=page_size or 0,
            page_token=page_token or "",
        ),
        **clients.options(principal),
    )
    return WaitlistPage.from_proto(reply)


@router.get(
    "/reports/shelter",
    operation_id="getShelterIndicators",
    tags=["reports"],
    summary="Shelter indicators of a period (MON-6)",
    dependencies=[require_roles(*REPORT_READERS)],
    responses=responses(422),
)
async def shelter_indicators(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    from_: Annotated[
        IsoDate, Query(alias="from", description="First day, YYYY-MM-DD (inclusive).")
    ],
    to: Annotated[
        IsoDate,
        Query(description="Day after the period, YYYY-MM-DD (exclusive), at most 366 days on."),
    ],
    territory: Annotated[
        Line | None,
        Query(max_length=50, description="The caller's own territory (the default)."),
    ] = None,
) -> ShelterIndicators:
    """Occupancy per shelter and local date, bed-days (SHL-5), stays by length, admissions
    with minors, refusals by reason (SHL-6), from shelter; and notice timeliness per recipient
    agency type and rule (SHL-3), from notify, asked concurrently. Aggregates only: no person
    is named."""
    check_period(from_, to)
    dates = {"from_date": from_.isoformat(), "to_date": to.isoformat()}
    options = clients.options(principal)
    reply, notices = await asyncio.gather(
        _stub(clients).ReportIndicators(
            pb.ReportIndicatorsRequest(**dates, territory=territory or ""), **options
        ),
        notify_pb2_grpc.NotifyServiceStub(clients.channel("notify")).ReportNoticeIndicators(
            notify_pb2.ReportNoticeIndicatorsRequest(**dates, territory=territory or ""),
            **options,
        ),
    )
    return ShelterIndicators.from_proto(reply, from_=from_, to=to, notices=notices)
