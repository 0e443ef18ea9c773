"""/v1/shelters and /v1/stays: the crisis shelter (SHL-*), served by ShelterService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.schemas.shelter import (
    STAY_ORDERS,
    STAY_STATES,
    DischargeIn,
    Shelter,
    ShelterIn,
    ShelterList,
    Stay,
    StayIn,
    StayOrder,
    StayPage,
    StayState,
)
from kamqor.shelter.v1 import shelter_pb2 as pb
from kamqor.shelter.v1 import shelter_pb2_grpc

SERVICE = "shelter"
SHELTER_READERS = ("shelter-operator", "center-head", "case-worker")
SHELTER_ADMINS = ("center-head",)
OPERATORS = ("shelter-operator",)

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
        pb.DischargeRequest(stay_id=str(stay_id), reason=body.reason),
        **clients.options(principal),
    )
    return Stay.from_proto(reply.stay)
