"""/v1/appeals: the electronic journal (INT-2), served by IntakeService."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.schemas.intake import Appeal, AppealIn, AppealPage
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
    summary="Page through the journal",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def list_appeals(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> AppealPage:
    """The journal of the caller's territory, newest first."""
    reply = await _stub(clients).ListAppeals(
        pb.ListAppealsRequest(page_size=page_size or 0, page_token=page_token or ""),
        **clients.options(principal),
    )
    return AppealPage.from_proto(reply)
