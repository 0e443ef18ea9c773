"""/v1/notices: written notices between agencies (NTF-7), served by NotifyService."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import grpc
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response

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
    NoticeReceipt,
    NoticeReceiptIn,
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


# --- signed receipts from the recipient agencies' systems (NTF-7) ----------------------------
#
# The one /v1 route without a bearer token: the agency's system signs the raw body with its
# channel's webhook secret, as our webhooks are signed (`notify.signing`, `notify.receipts`). The
# gateway holds no secret, so it only refuses a call without the three headers (401, before
# the body is read) and forwards the headers and the raw body to notify, which verifies the
# signature and the timestamp before anything else; notify's 401 keeps its own challenge here.

SENDER_HEADER = "X-Kamqor-Sender"
TIMESTAMP_HEADER = "X-Kamqor-Timestamp"
SIGNATURE_HEADER = "X-Kamqor-Signature"
SIGNATURE_CHALLENGE = {
    "WWW-Authenticate": f'KamqorSignature headers="{SENDER_HEADER} {TIMESTAMP_HEADER} '
    f'{SIGNATURE_HEADER}"'
}
# The route's own 401 (it replaces the router's bearer-token one): what refuses a receipt, and the
# challenge naming the scheme and its headers, as the answers carry it.
SIGNATURE_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {
        **responses(401)[401],
        "description": "A signature header is missing, the signature does not verify with the "
        "sender's webhook secret, or the timestamp is more than 300 s from now",
        "headers": {
            "WWW-Authenticate": {
                "description": "`KamqorSignature` and the headers a signed receipt needs.",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    }
}


class Signed:
    """The receipt's signature headers, as sent; 401 when one is missing."""

    def __init__(self, sender: str, timestamp: str, signature: str) -> None:
        self.sender, self.timestamp, self.signature = sender, timestamp, signature


async def signed_headers(
    sender: Annotated[
        str | None,
        Header(
            alias=SENDER_HEADER,
            description="The channels-file entry whose webhook secret signed the receipt: "
            "the agency's id, or `<territory>/<agency_type>`.",
        ),
    ] = None,
    timestamp: Annotated[
        str | None,
        Header(alias=TIMESTAMP_HEADER, description="Unix seconds when it was signed."),
    ] = None,
    signature: Annotated[
        str | None,
        Header(
            alias=SIGNATURE_HEADER,
            description="`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<raw body>`.",
        ),
    ] = None,
) -> Signed:
    if not (sender and timestamp and signature):
        raise HTTPException(
            401,
            f"a signed receipt needs {SENDER_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}",
            headers=SIGNATURE_CHALLENGE,
        )
    return Signed(sender, timestamp, signature)


@router.post(
    "/receipts",
    operation_id="recordNoticeReceipt",
    summary="A signed receipt from a recipient agency's system",
    responses=SIGNATURE_REFUSED | responses(404, 409, 422),
    openapi_extra={"security": []},
)
async def record_receipt(
    receipt: NoticeReceiptIn,
    request: Request,
    clients: GrpcClients,
    signed: Annotated[Signed, Depends(signed_headers)],
) -> NoticeReceipt:
    """Records the acknowledgement of a notice by the system of the agency it is addressed to
    (NTF-7). No bearer token: the HMAC-SHA256 signature over `<timestamp>.<raw body>` with the
    sender's webhook secret authenticates the call (401 when it is missing, does not verify,
    or the timestamp is more than 300 s from now). A notice not addressed to the sender is a
    404 like a missing one; a `receipt_id` already used for another notice a 409; the same
    receipt again returns what it recorded and changes nothing."""
    del receipt  # validated here; the service reads the raw body, which is what was signed
    try:
        reply = await _stub(clients).RecordReceipt(
            pb.RecordReceiptRequest(
                sender=signed.sender,
                timestamp=signed.timestamp,
                signature=signed.signature,
                body=await request.body(),
            ),
            timeout=clients.timeout,
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            raise HTTPException(401, exc.details() or "", headers=SIGNATURE_CHALLENGE) from None
        raise
    return NoticeReceipt.from_proto(reply)


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
