"""/v1/reminders: reminders and escalations of every service's obligations (NTF-7, MON-3),
kept by NotifyService."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import PageSize, PageToken
from gateway.schemas.reminders import REMINDER_KINDS, ReminderKind, ReminderPage
from kamqor.notify.v1 import notify_pb2 as pb
from kamqor.notify.v1 import notify_pb2_grpc

SERVICE = "notify"
NAME = "reminders"
READERS = (
    "agency-coordinator",
    "agency-assignee",
    "case-worker",
    "center-head",
    "commission-member",
    "partner-system",
    "shelter-operator",
)

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1/reminders",
    tags=["reminders"],
    dependencies=[require_roles(*READERS)],
    responses=responses(401, 403, 503),
)


def _stub(clients: Clients) -> notify_pb2_grpc.NotifyServiceAsyncStub:
    return notify_pb2_grpc.NotifyServiceStub(clients.channel(SERVICE))


@router.get(
    "",
    operation_id="listReminders",
    summary="Reminders and escalations for the caller",
    responses=responses(422),
)
async def list_reminders(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    kind: Annotated[ReminderKind | None, Query(description="Only this kind.")] = None,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> ReminderPage:
    """Reminders of approaching terms addressed to the caller's agency (or to the caller as the
    responsible person) and, for a center head, escalations of the center's overdue terms; in
    the caller's territory, newest first."""
    request = pb.ListRemindersRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        kind=REMINDER_KINDS.to_proto(kind) if kind else pb.REMINDER_KIND_UNSPECIFIED,
    )
    reply = await _stub(clients).ListReminders(request, **clients.options(principal))
    return ReminderPage.from_proto(reply)
