"""/v1/appeals: the electronic journal (INT-2), served by IntakeService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.schemas.common import IsoDate
from gateway.schemas.intake import (
    APPEAL_ORDERS,
    CHANNELS,
    Appeal,
    AppealIn,
    AppealOrder,
    AppealPage,
    Channel,
)
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.intake.v1 import intake_pb2_grpc

SERVICE = "intake"
REGISTRARS = ("hotline-operator", "intake-operator")
READERS = ("hotline-operator", "intake-operator", "case-worker", "center-head")

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1/appeals",
    tags=["appeals"],
    responses=responses(401, 403, 503),
)


def _stub(clients: Clients) -> intake_pb2_grpc.IntakeServiceAsyncStub:
    return intake_pb2_grpc.IntakeServiceStub(clients.channel(SERVICE))


@router.post(
    "",
    operation_id="registerAppeal",
    status_code=201,
    summary="Register an appeal in the journal",
    dependencies=[require_roles(*REGISTRARS)],
    responses=created("Appeal") | responses(422),
)
async def register_appeal(
    body: AppealIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Appeal:
    """Writes a journal entry before anything else happens (INT-2) and opens its triage
    obligations with due times (INT-3). A retry with the same `Idempotency-Key` returns the
    first entry."""
    reply = await _stub(clients).RegisterAppeal(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    appeal = Appeal.from_proto(reply.appeal)
    response.headers["Location"] = f"{router.prefix}/{appeal.id}"
    return appeal


@router.get(
    "/{appeal_id}",
    operation_id="getAppeal",
    summary="One journal entry",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_appeal(appeal_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Appeal:
    """A journal entry of the caller's territory."""
    reply = await _stub(clients).GetAppeal(
        pb.GetAppealRequest(appeal_id=str(appeal_id)), **clients.options(principal)
    )
    return Appeal.from_proto(reply.appeal)


@router.get(
    "",
    operation_id="listAppeals",
    summary="Page through the journal",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def list_appeals(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
    channel: Annotated[Channel | None, Query(description="Only appeals by this channel.")] = None,
    threat_to_life: Annotated[
        bool | None, Query(description="Only appeals with (true) or without (false) one.")
    ] = None,
    registered_from: Annotated[
        IsoDate | None,
        Query(description="Only appeals registered on or after this day, in local time."),
    ] = None,
    registered_to: Annotated[
        IsoDate | None,
        Query(description="Only appeals registered on or before this day, in local time."),
    ] = None,
    order: Annotated[
        AppealOrder,
        Query(description="`newest_first`, `oldest_first`, or by `journal_number`."),
    ] = "newest_first",
) -> AppealPage:
    """The journal of the caller's territory: every given filter applies, to all pages; days are
    the territory's local days. A `page_token` continues the order it was issued under (another
    `order` is a 422 naming `page_token`)."""
    request = pb.ListAppealsRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        channel=CHANNELS.to_proto(channel) if channel else pb.CHANNEL_UNSPECIFIED,
        registered_from=registered_from.isoformat() if registered_from else "",
        registered_to=registered_to.isoformat() if registered_to else "",
        order=APPEAL_ORDERS.to_proto(order),
    )
    if threat_to_life is not None:
        request.threat_to_life = threat_to_life
    reply = await _stub(clients).ListAppeals(request, **clients.options(principal))
    return AppealPage.from_proto(reply)
