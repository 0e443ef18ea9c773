"""/v1/notices: written notices between agencies (NTF-7), served by NotifyService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import PageSize, PageToken
from gateway.schemas.common import Line
from gateway.schemas.notify import (
    NOTICE_ORDERS,
    NOTICE_STATES,
    Delivery,
    DeliveryList,
    Notice,
    NoticeOrder,
    NoticePage,
    NoticeState,
)
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc

SERVICE = "notify"
# The same roles the service checks (notify.rules): the receiving agency reads and acknowledges
# (NTF-7); the head of the sending center reads, to follow its notices up, but never
# acknowledges on the recipient's behalf; the center's shelter operators read the SHL-3 notices
# of its admissions (the bed board shows whether police and guardianship were told).
RECIPIENTS = ("agency-coordinator", "agency-assignee", "partner-system")
READERS = (*RECIPIENTS, "center-head", "shelter-operator")

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1/notices",
    tags=["notices"],
    responses=responses(401, 403, 503),
)


def _stub(clients: Clients) -> notify_pb2_grpc.NotifyServiceAsyncStub:
    return notify_pb2_grpc.NotifyServiceStub(clients.channel(SERVICE))


@router.get(
    "",
    operation_id="listNotices",
    summary="Notices addressed to the caller's agency",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def list_notices(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    state: Annotated[NoticeState | None, Query(description="Only this state.")] = None,
    subject: Annotated[
        list[Line] | None,
        Query(
            max_length=200,
            description="Only notices about these subjects (repeat the parameter), "
            "e.g. `stay/<id>`; at most 200.",
        ),
    ] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
    order: Annotated[
        NoticeOrder,
        Query(
            description="`newest_first` or the earliest `due_first`; a `page_token` continues "
            "the order it was issued under."
        ),
    ] = "newest_first",
) -> NoticePage:
    """Notices to the caller's agency type in the caller's territory, and those the caller's
    center sent (its head; its shelter operators for SHL-3), in the requested order."""
    request = pb.ListNoticesRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        state=NOTICE_STATES.to_proto(state) if state else pb.NOTICE_STATE_UNSPECIFIED,
        subjects=subject or [],
        order=NOTICE_ORDERS.to_proto(order),
    )
    reply = await _stub(clients).ListNotices(request, **clients.options(principal))
    return NoticePage.from_proto(reply)


@router.get(
    "/{notice_id}",
    operation_id="getNotice",
    summary="One notice",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_notice(notice_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Notice:
    reply = await _stub(clients).GetNotice(
        pb.GetNoticeRequest(notice_id=str(notice_id)), **clients.options(principal)
    )
    return Notice.from_proto(reply.notice)


@router.post(
    "/{notice_id}/ack",
    operation_id="acknowledgeNotice",
    summary="Acknowledge a notice",
    dependencies=[require_roles(*RECIPIENTS)],
    responses=responses(404, 409, 422),
)
async def acknowledge_notice(
    notice_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Notice:
    """Records the receiving agency's acknowledgement (NTF-7); repeating it changes nothing.
    The sending center's head sees the notice but does not acknowledge it."""
    reply = await _stub(clients).AcknowledgeNotice(
        pb.AcknowledgeNoticeRequest(notice_id=str(notice_id)), **clients.options(principal)
    )
    return Notice.from_proto(reply.notice)


@router.get(
    "/{notice_id}/deliveries",
    operation_id="listNoticeDeliveries",
    summary="How a notice was delivered",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def list_deliveries(
    notice_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> DeliveryList:
    """One delivery per channel of the recipient agency (signed webhook, e-mail, registered
    letter), each with its attempts and receipt. The first delivery meets the sender's
    obligation (SHL-3); acknowledgement is separate (NTF-7)."""
    reply = await _stub(clients).ListDeliveries(
        pb.ListDeliveriesRequest(notice_id=str(notice_id)), **clients.options(principal)
    )
    return DeliveryList(items=[Delivery.from_proto(d) for d in reply.deliveries])


PDF = "application/pdf"


@router.get(
    "/{notice_id}/letter",
    operation_id="getNoticeLetter",
    summary="The registered written notice (PDF)",
    dependencies=[require_roles(*READERS)],
    response_class=Response,
    responses={
        200: {
            "description": "The letter as registered, with its registration number.",
            "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
            "headers": {
                "X-Registration-Number": {
                    "description": "The letter's registration number.",
                    "schema": {"type": "string"},
                }
            },
        },
        **responses(404, 422),
    },
)
async def get_letter(
    notice_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Response:
    """The printable letter of a written notice (SHL-3), numbered; 404 until it is registered.
    It names the admitted and their children: the read is audited."""
    reply = await _stub(clients).GetLetter(
        pb.GetLetterRequest(notice_id=str(notice_id)), **clients.options(principal)
    )
    return Response(
        content=reply.pdf,
        media_type=PDF,
        headers={
            "X-Registration-Number": reply.registration_number,
            # The number, never a name, in the file name: it ends up in browser histories.
            "Content-Disposition": f'attachment; filename="{reply.registration_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
