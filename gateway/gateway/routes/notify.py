"""/v1/notices: written notices between agencies (NTF-7), served by NotifyService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import PageSize, PageToken
from gateway.schemas.common import Line
from gateway.schemas.notify import (
    NOTICE_ORDERS,
    NOTICE_STATES,
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
